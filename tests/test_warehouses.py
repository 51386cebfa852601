"""End to end: the root project's jobs load every source into DuckDB and PostgreSQL, exactly, and resume; their
last task, the dbt build, makes the unified ad_reporting tables, whose totals equal the sources' report streams.

Expected values are what each tap emits for the same settings when run alone; the taps' own tests check
those against the emulators' ground truth.
"""

from __future__ import annotations

import collections
import contextlib

import duckdb
import psycopg
import pytest
import unified
from postgres import postgres_server
from sources import SOURCES

from emulators import emulator_class
from emulators.testing import run_tap

START, END, LATER_END = "2025-03-01", "2025-03-15", "2025-03-18"
# What the unified tables leave null, per level: (platform, column), for every row (README, "Where each column
# comes from"): AdRoll states no report timezone and reports no conversions, Rokt no conversion value and no
# campaign names.
_ADROLL_NULLS = {("adroll", "report_timezone"): "all", ("adroll", "conversions"): "all", ("adroll", "conversions_value"): "all"}
UNIFIED_NULLS = {
    "account": {**_ADROLL_NULLS, ("rokt", "conversions_value"): "all"},
    "campaign": {**_ADROLL_NULLS, ("rokt", "conversions_value"): "all", ("rokt", "campaign_name"): "all"},
    "ad_group": _ADROLL_NULLS,
    "ad": _ADROLL_NULLS,
}


@pytest.fixture(scope="module")
def emulators():
    with contextlib.ExitStack() as stack:
        yield {source.provider: stack.enter_context(emulator_class(source.provider)()) for source in SOURCES}


@pytest.fixture(scope="module")
def postgres():
    with postgres_server() as settings:
        yield settings


def _config(source, emulators, end):
    return source.settings(emulators[source.provider].url, START, end)


def _expected(source, config) -> dict:
    run = run_tap(source.tap, config)
    assert run.returncode == 0, run.stderr[-3000:]
    spend = collections.defaultdict(float)
    for row in run.records(source.spend_table):
        spend[f"{row[source.partition]} {row[source.day][:10]}"] += row[source.spend] or 0
    return {
        "counts": dict(collections.Counter(m["stream"] for m in run.messages if m["type"] == "RECORD")),
        "spend": {key: round(value, 2) for key, value in spend.items()},
        "unified": unified.expected(source.tap, run.records),
    }


def _landed(query, source) -> dict:
    tables = [name for (name,) in query("select table_name from information_schema.tables where table_schema = %s", source.schema)]
    keys = ", ".join(source.keys)
    return {
        "counts": {table: query(f'select count(*) from {source.schema}."{table}"')[0][0] for table in tables},
        "spend": {
            key: round(float(value), 2)
            for key, value in query(
                f"select {source.partition} || ' ' || substr(cast({source.day} as varchar), 1, 10), sum({source.spend}) "
                f"from {source.schema}.{source.spend_table} group by 1"
            )
        },
        "duplicates": query(f"select count(*) - count(distinct ({keys})) from {source.schema}.{source.spend_table}")[0][0],
    }


def _duckdb_query(path):
    def query(sql, *params):
        with duckdb.connect(str(path), read_only=True) as db:
            return db.execute(sql.replace("%s", "?"), list(params)).fetchall()
    return query


def _postgres_query(settings):
    def query(sql, *params):
        with psycopg.connect(host=settings["host"], port=settings["port"], user=settings["user"], dbname=settings["database"]) as db:
            return db.execute(sql, params).fetchall()
    return query


@pytest.mark.parametrize("loader", ["duckdb", "postgres"])
def test_job_lands_every_record_then_resumes_incrementally(loader, meltano, emulators, request):
    if loader == "postgres":
        settings = request.getfixturevalue("postgres")
        loader_env = {f"TARGET_POSTGRES_{k.upper()}": str(v) for k, v in settings.items()}
        query = _postgres_query(settings)
    else:
        loader_env, query = {}, _duckdb_query(meltano.warehouse)

    dbt_target = meltano.warehouse.parent / "dbt-target"

    def run_job(end):
        env = {**loader_env, f"DBT_{loader.upper()}_TARGET_PATH": str(dbt_target)}
        (dbt_target / "run_results.json").unlink(missing_ok=True)  # only this run's dbt build may answer
        for source in SOURCES:
            env.update(source.env(_config(source, emulators, end)))
        meltano("run", f"ads-to-{loader}", env=env)

    def check_unified(expected_by_source):
        # The job's last task built and tested the models: every model built, every dbt test passed.
        results = unified.dbt_results(dbt_target)
        assert results == {"model": {"success": 14}, "test": {"pass": 47}}
        assert unified.landed(query) == unified.merged(expected_by_source)
        assert unified.duplicate_keys(query) == dict.fromkeys(unified.LEVELS, 0)
        assert unified.null_columns(query) == UNIFIED_NULLS

    run_job(END)
    first = {}
    expected_unified = []
    for source in SOURCES:
        expected, landed = _expected(source, _config(source, emulators, END)), _landed(query, source)
        assert landed["counts"] == expected["counts"], source.tap
        assert landed["spend"] == expected["spend"], source.tap
        assert landed["duplicates"] == 0
        first[source.tap] = landed
        expected_unified.append(expected["unified"])
    check_unified(expected_unified)

    # Three days later: each source re-reads its lookback days and upserts them; nothing lost or doubled.
    run_job(LATER_END)
    expected_unified = []
    for source in SOURCES:
        expected, landed = _expected(source, _config(source, emulators, LATER_END)), _landed(query, source)
        assert landed["counts"] == expected["counts"], source.tap
        assert landed["spend"] == expected["spend"], source.tap
        assert landed["duplicates"] == 0
        assert {k: v for k, v in landed["spend"].items() if k[-10:] < END} == first[source.tap]["spend"]
        state = meltano("state", "get", f"dev:{source.tap}-to-target-{loader}").stdout
        assert "replication_key_value" in state
        expected_unified.append(expected["unified"])
    check_unified(expected_unified)


def test_job_interrupted_after_the_first_source_resumes_without_loss(meltano, emulators):
    if len(SOURCES) < 2:
        pytest.skip("needs two sources in the job")
    first, second = SOURCES[0], SOURCES[1]
    env = {}
    for source in SOURCES:
        env.update(source.env(_config(source, emulators, END)))
    # The second source's API refuses every request: the job stops after the first source has landed.
    emulators[second.provider].faults.add("status", status=503, retry_after=0, times=10_000)
    failed = meltano("run", "ads-to-duckdb", env=env, check=False)
    assert failed.returncode != 0
    query = _duckdb_query(meltano.warehouse)
    assert _landed(query, first)["counts"] == _expected(first, _config(first, emulators, END))["counts"]

    emulators[second.provider].faults.clear()
    meltano("run", "ads-to-duckdb", env=env)
    for source in SOURCES:
        expected, landed = _expected(source, _config(source, emulators, END)), _landed(query, source)
        assert landed["counts"] == expected["counts"], source.tap
        assert landed["spend"] == expected["spend"], source.tap
        assert landed["duplicates"] == 0
