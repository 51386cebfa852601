"""The unified model in DuckDB for the providers a project has: each single provider (the others' schemas really
absent), each pair (the third switched off with Fivetran's variable), a stream with no table yet, two Rokt logins
in two schemas, source freshness (fresh and stale), the generated documentation and the contracts, and AdRoll's ad
groups in both shapes.

The three sources and a second Rokt login are loaded once by Meltano into one warehouse; each test builds on a copy
of it (dbt from Meltano, as users run it). Expected totals are each tap's own output for the same settings.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import shutil

import duckdb
import model_support
import pytest
import unified
from conftest import ROOT, Meltano
from sources import BY_TAP, SOURCES

from emulators import emulator_class
from emulators.testing import run_tap

START, END = "2025-03-01", "2025-03-08"
# The second Rokt login: its own schema (an inherited plugin with `namespace: tap_rokt_emea` would land there), its
# own days, overlapping the first login's, so the same accounts and days appear in both sources.
EMEA_SCHEMA, EMEA_START, EMEA_END = "tap_rokt_emea", "2025-03-05", "2025-03-12"
TAPS = [source.tap for source in SOURCES]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """One warehouse with the three sources and the second Rokt login, and each one's expected unified totals."""
    scratch = tmp_path_factory.mktemp("loaded")
    meltano = Meltano(scratch)
    expected = {}
    with contextlib.ExitStack() as stack:
        emulators = {source.provider: stack.enter_context(emulator_class(source.provider)()) for source in SOURCES}
        env, configs = {}, {}
        for source in SOURCES:
            configs[source.tap] = source.settings(emulators[source.provider].url, START, END)
            env.update(source.env(configs[source.tap]))
        meltano("run", *itertools.chain.from_iterable((tap, "target-duckdb") for tap in TAPS), env=env)
        rokt = BY_TAP["tap-rokt"]
        emea = rokt.settings(emulators["rokt"].url, EMEA_START, EMEA_END)
        meltano("run", "--state-id-suffix", "emea", "tap-rokt", "target-duckdb",
                env={**rokt.env(emea), "TAP_ROKT__LOAD_SCHEMA": EMEA_SCHEMA})
        for tap, config in [*configs.items(), ("emea", emea)]:
            run = run_tap("tap-rokt" if tap == "emea" else tap, config)
            assert run.returncode == 0, run.stderr[-3000:]
            expected[tap] = unified.expected("tap-rokt", run.records, EMEA_SCHEMA) if tap == "emea" else unified.expected(tap, run.records)
    return meltano.warehouse, expected


@pytest.fixture
def warehouse(loaded, meltano, tmp_path):
    """A copy of the loaded warehouse as this test's Meltano project's file, and a query function on it."""
    shutil.copy(loaded[0], meltano.warehouse)

    def query(sql, *params):
        with duckdb.connect(str(meltano.warehouse), read_only=True) as db:
            return db.execute(sql.replace("%s", "?"), list(params)).fetchall()

    def change(*statements):
        with duckdb.connect(str(meltano.warehouse)) as db:
            for statement in statements:
                db.execute(statement)

    return query, change


def _only(expected: dict, taps) -> dict:
    return unified.merged([expected[tap] for tap in taps])


@pytest.mark.parametrize("tap", TAPS)
def test_one_provider_loaded_builds_without_any_setting(tap, loaded, meltano, warehouse, tmp_path):
    query, change = warehouse
    # A project that has loaded only this tap: the other schemas do not exist at all.
    change(*(f"drop schema {schema} cascade" for schema in ["tap_rokt", "tap_adroll", "tap_mediamath", EMEA_SCHEMA]
             if schema != tap.replace("-", "_")))
    meltano("run", "dbt-duckdb:build", env={"DBT_DUCKDB_TARGET_PATH": str(tmp_path)})
    assert unified.dbt_results(tmp_path) == model_support.BUILT
    assert unified.landed(query) == _only(loaded[1], [tap])
    assert unified.duplicate_keys(query) == dict.fromkeys(unified.LEVELS, 0)


@pytest.mark.parametrize("pair", list(itertools.combinations(TAPS, 2)), ids="+".join)
def test_a_pair_of_providers_with_the_third_switched_off(pair, loaded, meltano, warehouse, tmp_path):
    query, _ = warehouse
    (off,) = set(TAPS) - set(pair)
    variables = {f"ad_reporting__{unified.PLATFORMS[off]}_enabled": False}
    done = model_support.dbt(meltano, "dbt-duckdb", ["build"], tmp_path, variables=variables)
    assert unified.dbt_results(tmp_path) == model_support.BUILT
    assert unified.landed(query) == _only(loaded[1], pair)
    assert model_support.landed_warnings(done.stdout + done.stderr) == []


def test_a_stream_with_no_table_yet_contributes_nothing_with_one_warning(loaded, meltano, warehouse, tmp_path):
    query, change = warehouse
    change("drop table tap_adroll.ad_report")
    done = meltano("run", "dbt-duckdb:build", env={"DBT_DUCKDB_TARGET_PATH": str(tmp_path)})
    assert unified.dbt_results(tmp_path) == model_support.BUILT
    assert model_support.landed_warnings(done.stdout + done.stderr) == [
        "tap_adroll.ad_report has not landed yet (no such table): stg_adroll__ad_report has no rows from it until it does"
    ]
    expected = _only(loaded[1], TAPS)
    # AdRoll's ad report feeds its ad group and ad levels: they have no AdRoll rows; every other level is whole.
    expected["ad_group"] = {key: value for key, value in expected["ad_group"].items() if key[0] != "adroll"}
    expected["ad"] = {}
    assert unified.landed(query) == expected


def test_two_rokt_logins_union_told_apart_by_source_relation(loaded, meltano, warehouse, tmp_path):
    query, _ = warehouse
    variables = {"rokt_union_schemas": ["tap_rokt", EMEA_SCHEMA]}
    model_support.dbt(meltano, "dbt-duckdb", ["build"], tmp_path, variables=variables)
    # Every test passed, the reconciliation per platform, source and day among them.
    assert unified.dbt_results(tmp_path) == model_support.BUILT
    expected = _only(loaded[1], [*TAPS, "emea"])
    assert {key[:2] for key in expected["campaign"]} == {
        ("rokt", "tap_rokt"), ("rokt", EMEA_SCHEMA), ("adroll", "tap_adroll"), ("mediamath", "tap_mediamath")}
    assert unified.landed(query) == expected
    assert unified.duplicate_keys(query) == dict.fromkeys(unified.LEVELS, 0)
    # The logins share accounts and days (from 2025-03-05): those appear once per source, nothing merged.
    both = ("select count(*) from (select account_id, date_day from ad_reporting.ad_reporting__account_report "
            "where platform = 'rokt' group by 1, 2 having count(distinct source_relation) = 2) as both_logins")
    loaded_in_both = (f"select count(*) from (select distinct account_id, cast(datetime as date) from tap_rokt.campaign_report "
                      f"intersect select distinct account_id, cast(datetime as date) from {EMEA_SCHEMA}.campaign_report) as shared")
    assert query(both) == query(loaded_in_both) != [(0,)]


def test_source_freshness_fresh_then_stale(loaded, meltano, warehouse, tmp_path):
    _, change = warehouse
    model_support.dbt(meltano, "dbt-duckdb", ["source", "freshness"], tmp_path)
    tables = ["tap_adroll.ad_groups", "tap_adroll.ad_report", "tap_adroll.ads", "tap_adroll.advertisable_report",
              "tap_adroll.advertisables", "tap_adroll.campaign_report", "tap_adroll.campaigns", "tap_mediamath.performance",
              "tap_rokt.accounts", "tap_rokt.campaign_report"]
    assert model_support.freshness(tmp_path) == dict.fromkeys(tables, "pass")

    # The last load of MediaMath's report was three days ago (it missed two daily runs), AdRoll's ad report's 30
    # hours ago (it missed one): error and warning; the check fails, as a scheduled job would.
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    change(f"update tap_mediamath.performance set _sdc_batched_at = '{now - dt.timedelta(days=3)}'",
           f"update tap_adroll.ad_report set _sdc_batched_at = '{now - dt.timedelta(hours=30)}'")
    done = model_support.dbt(meltano, "dbt-duckdb", ["source", "freshness"], tmp_path, check=False)
    assert done.returncode != 0
    assert model_support.freshness(tmp_path) == {
        **dict.fromkeys(tables, "pass"), "tap_mediamath.performance": "error", "tap_adroll.ad_report": "warn"}
    assert "ERROR STALE freshness of tap_mediamath.performance" in done.stdout + done.stderr
    assert "WARN freshness of tap_adroll.ad_report" in done.stdout + done.stderr


def test_documentation_describes_every_unified_column_and_contracts_hold(meltano, warehouse, tmp_path):
    query, _ = warehouse
    meltano("run", "dbt-duckdb:build", "dbt-duckdb:docs-generate", env={"DBT_DUCKDB_TARGET_PATH": str(tmp_path)})
    catalog, manifest = (model_support.json_of(tmp_path / name) for name in ("catalog.json", "manifest.json"))
    docs = {doc["name"]: doc["block_contents"] for doc in manifest["docs"].values() if doc["package_name"] == "ad_reporting"}
    for table in model_support.UNIFIED_TABLES:
        node = manifest["nodes"][f"model.ad_reporting.{table}"]
        built = {name.lower(): column["type"] for name, column in catalog["nodes"][f"model.ad_reporting.{table}"]["columns"].items()}
        # Every column the warehouse holds is declared, typed by the contract, and described by its one doc block.
        assert list(node["columns"]) == list(built), table
        assert node["contract"]["enforced"] is True
        for name, column in node["columns"].items():
            assert column["description"] == docs[name] != "", (table, name)
            assert column["data_type"], (table, name)
    for unique_id, node in [*manifest["nodes"].items(), *manifest["sources"].items()]:
        if node["resource_type"] in ("model", "source") and node["package_name"] == "ad_reporting":
            assert node["description"].strip(), unique_id

    # A copy of the project whose campaign table casts clicks to text: its contract fails the run before the table
    # is replaced, which keeps its type.
    project = tmp_path / "transform"
    shutil.copytree(ROOT / "transform", project, ignore=shutil.ignore_patterns("target", "logs"))
    model = project / "models" / "ad_reporting" / "ad_reporting__campaign_report.sql"
    model.write_text(model.read_text().replace(
        "select {{ unified_columns('campaign') }}",
        "select {{ unified_columns('campaign') | replace('as bigint) as clicks', 'as text) as clicks') }}"))
    env = {"DBT_DUCKDB_PROJECT_DIR": str(project), "DBT_DUCKDB_TARGET_PATH": str(tmp_path / "changed")}
    failed = meltano("invoke", "dbt-duckdb", "run", "--select", "ad_reporting__campaign_report", env=env, check=False)
    assert failed.returncode != 0
    assert "This model has an enforced contract that failed" in failed.stdout + failed.stderr
    assert query("select data_type from information_schema.columns where table_schema = 'ad_reporting' "
                 "and table_name = 'ad_reporting__campaign_report' and column_name = 'clicks'") == [("BIGINT",)]


def test_adroll_ad_groups_as_strings_or_objects(meltano, tmp_path):
    # AdRoll ads with `adgroups` in each shape, landed by target-duckdb in a schema of their own (no other source).
    schemas = ["adroll_strings", "adroll_objects"]
    for schema in schemas:
        model_support.load_messages(meltano, "target-duckdb", schema, model_support.adroll_messages(schema.split("_")[1]))
    variables = {"adroll_union_schemas": schemas, "ad_reporting__rokt_enabled": False, "ad_reporting__mediamath_enabled": False}
    model_support.dbt(meltano, "dbt-duckdb", ["build"], tmp_path, variables=variables)
    assert unified.dbt_results(tmp_path) == {"model": {"success": 14}, "test": {"pass": 46, "warn": 1}}

    def query(sql):
        with duckdb.connect(str(meltano.warehouse), read_only=True) as db:
            return db.execute(sql).fetchall()

    ads, groups = model_support.adroll_shapes(query, schemas)
    assert ads == dict.fromkeys(schemas, model_support.EXPECTED_AD_GROUPS)
    assert groups == dict.fromkeys(schemas, model_support.EXPECTED_AD_GROUP_SPEND)
