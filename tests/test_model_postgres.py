"""The unified model in PostgreSQL for a project that has loaded only Rokt: built and reconciled, its source freshness
(fresh, then stale), and AdRoll's ad groups in both shapes target-postgres lands (text[] of EIDs, jsonb[] of
{id, status} objects). One embedded server; dbt from Meltano, as users run it."""

from __future__ import annotations

import model_support
import psycopg
import pytest
import unified
from conftest import Meltano
from postgres import postgres_server
from sources import BY_TAP

from emulators import emulator_class
from emulators.testing import run_tap

START, END = "2025-03-01", "2025-03-08"
ROKT_ONLY = {"ad_reporting__adroll_enabled": False, "ad_reporting__mediamath_enabled": False}


@pytest.fixture(scope="module")
def rokt_only(tmp_path_factory):
    """A PostgreSQL warehouse where only tap-rokt has landed, the Meltano project loading it, and Rokt's expected
    unified totals."""
    meltano = Meltano(tmp_path_factory.mktemp("postgres"))
    rokt = BY_TAP["tap-rokt"]
    with postgres_server() as settings, emulator_class("rokt")() as emulator:
        config = rokt.settings(emulator.url, START, END)
        env = {**rokt.env(config), **{f"TARGET_POSTGRES_{key.upper()}": str(value) for key, value in settings.items()}}
        meltano("run", "tap-rokt", "target-postgres", env=env)
        run = run_tap("tap-rokt", config)
        assert run.returncode == 0, run.stderr[-3000:]

        def query(sql, *params):
            with psycopg.connect(host=settings["host"], port=settings["port"], user=settings["user"],
                                 dbname=settings["database"], autocommit=True) as db:
                cursor = db.execute(sql, params)
                return cursor.fetchall() if cursor.description else None

        yield meltano, env, query, unified.expected("tap-rokt", run.records)


def test_rokt_only_builds_and_reconciles(rokt_only, tmp_path):
    meltano, env, query, expected = rokt_only
    assert query("select schema_name from information_schema.schemata where schema_name like 'tap_%%'") == [("tap_rokt",)]
    meltano("run", "dbt-postgres:build", env={**env, "DBT_POSTGRES_TARGET_PATH": str(tmp_path)})
    assert unified.dbt_results(tmp_path) == model_support.BUILT
    assert unified.landed(query) == unified.merged([expected])
    assert unified.duplicate_keys(query) == dict.fromkeys(unified.LEVELS, 0)


def test_source_freshness_fresh_then_stale(rokt_only, tmp_path):
    meltano, env, query, _ = rokt_only
    # The providers this project does not load are switched off, so only Rokt's tables are watched.
    model_support.dbt(meltano, "dbt-postgres", ["source", "freshness"], tmp_path, env=env, variables=ROKT_ONLY)
    assert model_support.freshness(tmp_path) == {"tap_rokt.accounts": "pass", "tap_rokt.campaign_report": "pass"}

    query("update tap_rokt.campaign_report set _sdc_batched_at = now() - interval '3 days'")
    done = model_support.dbt(meltano, "dbt-postgres", ["source", "freshness"], tmp_path, env=env, variables=ROKT_ONLY,
                             check=False)
    assert done.returncode != 0
    assert model_support.freshness(tmp_path) == {"tap_rokt.accounts": "pass", "tap_rokt.campaign_report": "error"}
    assert "ERROR STALE freshness of tap_rokt.campaign_report" in done.stdout + done.stderr


def test_adroll_ad_groups_as_strings_or_objects(rokt_only, tmp_path):
    meltano, env, query, _ = rokt_only
    schemas = ["adroll_strings", "adroll_objects"]
    for schema in schemas:
        model_support.load_messages(meltano, "target-postgres", schema, model_support.adroll_messages(schema.split("_")[1]), env)
    assert query("select table_schema, udt_name from information_schema.columns where column_name = 'adgroups' order by 1") == [
        ("adroll_objects", "_jsonb"), ("adroll_strings", "_text")]
    variables = {"adroll_union_schemas": schemas, "ad_reporting__rokt_enabled": False, "ad_reporting__mediamath_enabled": False}
    model_support.dbt(meltano, "dbt-postgres", ["build"], tmp_path, env=env, variables=variables)
    assert unified.dbt_results(tmp_path) == {"model": {"success": 14}, "test": {"pass": 46, "warn": 1}}
    ads, groups = model_support.adroll_shapes(query, schemas)
    assert ads == dict.fromkeys(schemas, model_support.EXPECTED_AD_GROUPS)
    assert groups == dict.fromkeys(schemas, model_support.EXPECTED_AD_GROUP_SPEND)
