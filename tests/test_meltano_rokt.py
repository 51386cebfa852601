"""End to end: `meltano run tap-rokt target-duckdb` against the emulator, checked in the warehouse."""

from __future__ import annotations

import collections

import duckdb
import pytest

from emulators.rokt import RoktEmulator
from emulators.testing import run_tap

START, END = "2025-03-01", "2025-03-15"


@pytest.fixture
def emulator():
    with RoktEmulator() as emulator:
        yield emulator


def _tap_env(emulator: RoktEmulator, end: str = END) -> dict[str, str]:
    return {
        "TAP_ROKT_API_URL": emulator.url,
        "TAP_ROKT_APP_ID": emulator.app_id,
        "TAP_ROKT_APP_SECRET": emulator.app_secret,
        "TAP_ROKT_START_DATE": START,
        "TAP_ROKT_END_DATE": end,
    }


def _warehouse(path) -> dict:
    with duckdb.connect(str(path), read_only=True) as db:
        tables = [t for (t,) in db.execute("select table_name from information_schema.tables where table_schema = 'tap_rokt'").fetchall()]
        counts = {t: db.execute(f"select count(*) from tap_rokt.{t}").fetchone()[0] for t in tables}
        spend = dict(db.execute(
            "select account_id || ' ' || strftime(datetime, '%Y-%m-%d'), round(sum(gross_cost), 2) "
            "from tap_rokt.campaign_report group by 1"
        ).fetchall())
        keys = db.execute("select count(*) - count(distinct (account_id, datetime, campaign_id)) from tap_rokt.campaign_report").fetchone()[0]
    return {"counts": counts, "spend": spend, "duplicate_keys": keys}


def test_meltano_run_lands_every_record_and_resumes_incrementally(meltano, emulator):
    env = _tap_env(emulator)
    config = {"api_url": emulator.url, "app_id": emulator.app_id, "app_secret": emulator.app_secret, "start_date": START, "end_date": END}
    emitted = run_tap("tap-rokt", config)
    assert emitted.returncode == 0, emitted.stderr[-3000:]
    expected_counts = collections.Counter(m["stream"] for m in emitted.messages if m["type"] == "RECORD")
    expected_spend = collections.defaultdict(float)
    for row in emitted.records("campaign_report"):
        expected_spend[f"{row['account_id']} {row['datetime'][:10]}"] += row["gross_cost"]

    meltano("run", "tap-rokt", "target-duckdb", env=env)
    landed = _warehouse(meltano.warehouse)
    assert landed["counts"] == dict(expected_counts)
    assert landed["counts"]["campaign_report"] == 14 * (4 + 3)  # 14 days, 4 + 3 campaigns
    assert landed["spend"] == {key: round(value, 2) for key, value in expected_spend.items()}
    assert landed["duplicate_keys"] == 0

    # The second run, three days later, re-reads the 7 lookback days and upserts them.
    emulator.reset()
    meltano("run", "tap-rokt", "target-duckdb", env=_tap_env(emulator, end="2025-03-18"))
    again = _warehouse(meltano.warehouse)
    assert again["duplicate_keys"] == 0
    assert again["counts"]["campaign_report"] == 17 * (4 + 3)
    assert {k: v for k, v in again["spend"].items() if k[-10:] < "2025-03-15"} == landed["spend"]
    state = meltano("state", "get", "dev:tap-rokt-to-target-duckdb").stdout
    assert '"replication_key_value": "2025-03-17T00:00:00Z"' in state or '"replication_key_value":"2025-03-17T00:00:00Z"' in state
