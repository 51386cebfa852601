"""tap-mediamath as a process against the emulator: exact rows and money, incremental runs, both response
modes, every failure mode, token expiry, bad settings and secrets."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import tempfile
from collections import Counter
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from mediamath_support import (
    CLIENT_SECRET,
    END_DAY,
    ORG,
    PASSWORD,
    SECRETS,
    START_DAY,
    make_emulator,
    settings,
)

from emulators.testing import run_tap, tap_executable

KEY = ("organization_id", "agg_timestamp", "campaign_id", "strategy_id")
PERF = "/reporting/v2/performance"
FIRST_WINDOW = "window 2025-01-01T00:00:00Z..2025-01-08T00:00:00Z"


def spend_by_campaign_day(records, field="total_spend"):
    totals: dict[tuple[int, str], Decimal] = {}
    for row in records:
        key = (row["campaign_id"], row["agg_timestamp"][:10])
        totals[key] = totals.get(key, Decimal(0)) + Decimal(str(row[field]))
    return totals


def assert_exact_performance(run, emulator, start=START_DAY, end=END_DAY, org=ORG, rows=None):
    rows = run.records("performance") if rows is None else rows
    assert len(rows) == emulator.strategy_day_count(org, start, end)
    assert len({tuple(r[k] for k in KEY) for r in rows}) == len(rows)  # the key is unique
    assert spend_by_campaign_day(rows) == emulator.spend_by_campaign_day(org, start, end)
    assert spend_by_campaign_day(rows, "total_spend_usd") == emulator.spend_by_campaign_day(org, start, end, usd=True)
    truth = {(f["strategy_id"], f["day"].isoformat()): f for f in emulator.facts(org, start, end)}
    for row in rows:
        fact = truth[(row["strategy_id"], row["agg_timestamp"][:10])]
        assert row["impressions"] == fact["impressions"]
        assert row["total_conversions"] == fact["post_click_conversions"] + fact["post_view_conversions"]
        assert Decimal(str(row["total_revenue"])) * 100 == fact["pc_revenue"] + fact["pv_revenue"]
        assert row["campaign_currency_code"] == emulator.campaign_currency[row["campaign_id"]]
    return rows


def assert_clean_failure(run, *fragments):
    assert run.returncode != 0
    assert "Traceback" not in run.stderr
    for fragment in fragments:
        assert fragment in run.stderr, (fragment, run.stderr[-2000:])


# ---------------------------------------------------------------------- exact data


def test_performance_rows_and_spend_match_the_ground_truth(emulator, config):
    run = run_tap("tap-mediamath", config)
    assert run.returncode == 0, run.stderr[-2000:]
    rows = assert_exact_performance(run, emulator)
    assert len(rows) == 222
    assert sum(Decimal(str(r["total_spend_usd"])) for r in rows) == Decimal("29478.32")
    assert {r["campaign_currency_code"] for r in rows} == {"USD", "EUR", "GBP", "JPY", "AUD", "CAD", "NZD"}
    assert run.state == {
        "bookmarks": {
            "performance": {
                "partitions": [
                    {
                        "context": {"organization_id": ORG},
                        "replication_key": "agg_timestamp",
                        "replication_key_value": "2025-01-10T00:00:00Z",
                    }
                ]
            }
        }
    }
    schema = run.schemas()["performance"]
    assert schema["key_properties"] == list(KEY)
    assert schema["schema"]["properties"]["total_spend"]["type"] == ["number", "null"]
    # one token, two windows of at most 7 days
    assert [c.path for c in emulator.calls()] == ["/oauth/token", PERF, PERF]


def test_advertiser_ids_filter_and_the_other_organization(emulator, config):
    run = run_tap("tap-mediamath", {**config, "advertiser_ids": [300001, 300010]})
    assert run.returncode == 0, run.stderr[-2000:]
    rows = run.records("performance")
    assert {r["advertiser_id"] for r in rows} == {300001, 300010}
    assert len(rows) == emulator.strategy_day_count(ORG, START_DAY, END_DAY, advertiser_ids={300001, 300010})

    other = run_tap("tap-mediamath", {**config, "organization_id": 100002})
    assert other.returncode == 0, other.stderr[-2000:]
    assert_exact_performance(other, emulator, org=100002)
    assert {r["organization_id"] for r in other.records()} == {100002}


def test_paginated_and_streaming_runs_give_identical_rows(emulator, config, paginated_config):
    streamed = run_tap("tap-mediamath", config)
    paged = run_tap("tap-mediamath", paginated_config)
    assert streamed.returncode == paged.returncode == 0, paged.stderr[-2000:]
    key = lambda r: tuple(r[k] for k in KEY)  # noqa: E731
    assert sorted(streamed.records(), key=key) == sorted(paged.records(), key=key)
    assert_exact_performance(paged, emulator)
    # 222 rows in windows of 7 + 3 days: 155 + 67 rows, pages of 50: 4 + 2 requests
    assert len(emulator.calls(PERF)) == 2 + 6
    assert paged.state == streamed.state


def test_custom_report_filters_are_evaluated_as_the_api_defines_them(emulator, config):
    filters = [
        {"field": "campaign_currency_code", "value": ["EUR", "GBP", "JPY"]},
        {
            "field": "x",
            "op": "or",
            "filters": [
                {"field": "impressions", "op": ">=", "value": 30000},
                {
                    "field": "x",
                    "op": "and",
                    "filters": [
                        {"field": "strategy_channel", "op": "=~", "value": "vid"},
                        {"field": "agency_id", "op": "!=", "value": 20001},
                    ],
                },
            ],
        },
    ]
    report = {
        "name": "campaign_week",
        "dataset": "all-dimensions-and-metrics",
        "fields": ["campaign_id", "campaign_currency_code", "impressions", "total_spend", "ctr"],
        "filters": filters,
        "rollup": "by_week",
    }
    run = run_tap("tap-mediamath", {**config, "reports": [report]}, catalog=None)
    assert run.returncode == 0, run.stderr[-2000:]
    # ground truth from the facts: the same predicate in Python, summed per campaign and week
    expected: dict[tuple[int, str], list[int]] = {}
    for f in emulator.facts(ORG, START_DAY, END_DAY):
        if f["campaign_currency_code"] not in ("EUR", "GBP", "JPY"):
            continue
        if not (f["impressions"] >= 30000 or ("vid" in f["strategy_channel"].lower() and f["agency_id"] != 20001)):
            continue
        week = f["day"] - dt.timedelta(days=f["day"].weekday())
        sums = expected.setdefault((f["campaign_id"], f"{week.isoformat()}T00:00:00Z"), [0, 0])
        sums[0] += f["impressions"]
        sums[1] += f["spend"]
    got = {
        (r["campaign_id"], r["agg_timestamp"]): [r["impressions"], int(Decimal(str(r["total_spend"])) * 100)]
        for r in run.records("campaign_week")
    }
    assert got == expected
    assert len(got) == 6
    assert run.schemas()["campaign_week"]["key_properties"] == ["organization_id", "agg_timestamp", "campaign_id", "campaign_currency_code"]


def test_hourly_dataset_in_campaign_time_zone_gives_whole_local_days(emulator, config):
    report = {
        "name": "hourly_local",
        "dataset": "performance-hourly",
        "fields": ["campaign_id", "impressions"],
        "rollup": "by_day",
        "time_zone": "campaign",
    }
    run = run_tap("tap-mediamath", {**config, "reports": [report]})
    assert run.returncode == 0, run.stderr[-2000:]
    rows = run.records("hourly_local")
    keys = [(r["campaign_id"], r["agg_timestamp"]) for r in rows]
    assert len(keys) == len(set(keys))  # no local day split across two windows
    # ground truth: each campaign's facts bucketed into its own local days, days 2025-01-01..10 only
    expected: dict[tuple[int, str], int] = {}
    for f in emulator.facts(ORG, START_DAY - dt.timedelta(days=1), END_DAY + dt.timedelta(days=1)):
        local = f["instant"].astimezone(ZoneInfo(f["campaign_zone_name"]))
        if START_DAY <= local.date() < END_DAY:
            stamp = dt.datetime(local.year, local.month, local.day, tzinfo=local.tzinfo).isoformat().replace("+00:00", "Z")
            expected[(f["campaign_id"], stamp)] = expected.get((f["campaign_id"], stamp), 0) + f["impressions"]
    assert {(r["campaign_id"], r["agg_timestamp"]): r["impressions"] for r in rows} == expected
    assert {r["agg_timestamp"][19:] for r in rows} >= {"Z", "-05:00", "+09:00", "+13:00"}


# ---------------------------------------------------------------------- incremental


def test_incremental_run_rereads_the_lookback_days(emulator, config):
    first = run_tap("tap-mediamath", config)
    assert first.state["bookmarks"]["performance"]["partitions"][0]["replication_key_value"] == "2025-01-10T00:00:00Z"
    second = run_tap("tap-mediamath", {**config, "end_date": "2025-01-14"}, state=first.state)
    assert second.returncode == 0, second.stderr[-2000:]
    rows = second.records("performance")
    assert min(r["agg_timestamp"] for r in rows) == "2025-01-07T00:00:00Z"  # bookmark 01-10 minus 3 days
    assert_exact_performance(second, emulator, start=dt.date(2025, 1, 7), end=dt.date(2025, 1, 14))
    assert second.state["bookmarks"]["performance"]["partitions"][0]["replication_key_value"] == "2025-01-13T00:00:00Z"
    no_lookback = run_tap("tap-mediamath", {**config, "end_date": "2025-01-14", "lookback_window_days": 0}, state=first.state)
    assert min(r["agg_timestamp"] for r in no_lookback.records()) == "2025-01-10T00:00:00Z"


# ---------------------------------------------------------------------- failures


@pytest.mark.parametrize("in_flight", [1])  # asserts which window a fault hits: the second request to arrive, one at a time
def test_error_object_mid_stream_fails_the_run_with_its_details(emulator, config):
    emulator.faults.add(
        "stream_error", path=PERF, params={"after_rows": 5, "error_code": "InternalServerError", "message": "query execution failed"}
    )
    run = run_tap("tap-mediamath", config)
    assert_clean_failure(
        run,
        "the stream failed after 5 rows: InternalServerError: query execution failed (request_id ",
        FIRST_WINDOW,
        "POST /performance for organization 100001",
    )
    assert run.state is None or "replication_key_value" not in str(run.state)


@pytest.mark.parametrize("in_flight", [1])  # asserts which window a fault hits: the second request to arrive, one at a time
def test_short_stream_fails_the_run(emulator, config):
    emulator.faults.add("short_stream", path=PERF, skip=1, params={"missing": 2})
    run = run_tap("tap-mediamath", config)
    assert_clean_failure(
        run,
        "window 2025-01-08T00:00:00Z..2025-01-11T00:00:00Z: received 65 rows but the API "
        "announced total_items_count 67; the answer was cut short",
    )


def test_uncounted_stream_is_accepted(emulator, config):
    emulator.faults.add("uncounted", path=PERF, times=2)
    run = run_tap("tap-mediamath", config)
    assert run.returncode == 0, run.stderr[-2000:]
    assert_exact_performance(run, emulator)


def upserted(run, stream="performance"):
    """The rows as a loader keeps them: by key, later rows winning."""
    return {tuple(r[k] for k in KEY): r for r in run.records(stream)}


@pytest.mark.parametrize("in_flight", [1])  # asserts which window a fault hits: the second request to arrive, one at a time
def test_connection_cut_mid_stream_is_retried_from_the_window_start(emulator, config):
    # the first window's answer is cut twice, after some rows (and once before any): asked for again each time
    emulator.faults.add("cut", path=PERF, after_bytes=20_000)
    emulator.faults.add("cut", path=PERF, after_bytes=60)
    run = run_tap("tap-mediamath", config)
    assert run.returncode == 0, run.stderr[-2000:]
    rows = assert_exact_performance(run, emulator, rows=list(upserted(run).values()))
    assert len(run.records()) > len(rows)  # the cut answer's first rows came twice: harmless upserts
    assert run.stderr.count("the window's rows already emitted come again") == 2
    assert f"{FIRST_WINDOW}: the connection broke after " in run.stderr
    assert "Retrying after try 2 of 6" in run.stderr
    assert [c.status for c in emulator.calls(PERF)] == [200, 200, 200, 200]  # 1 window x 3 tries + 1 window
    assert run.state["bookmarks"]["performance"]["partitions"][0]["replication_key_value"] == "2025-01-10T00:00:00Z"


@pytest.mark.parametrize("in_flight", [1])  # asserts which window a fault hits: the second request to arrive, one at a time
def test_page_cut_mid_body_is_retried_with_exact_data(emulator, paginated_config):
    emulator.faults.add("cut", path=PERF, after_bytes=60, skip=1)
    run = run_tap("tap-mediamath", paginated_config)
    assert run.returncode == 0, run.stderr[-2000:]
    assert_exact_performance(run, emulator)  # a page is read whole before its rows go out: no row twice
    assert "window 2025-01-01T00:00:00Z..2025-01-08T00:00:00Z, page 1: the connection broke while the page was read" in run.stderr
    assert len(emulator.calls(PERF)) == 6 + 1  # 4 + 2 pages, page 1 twice


@pytest.mark.parametrize("in_flight", [1])  # asserts which window a fault hits: the second request to arrive, one at a time
@pytest.mark.parametrize("mode", ["streaming", "paginated"])
@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("wrong_type", "metric 'impressions' of a row is not a number: 'n/a'"),
        ("outside_window", "a row's agg_timestamp '2024-12-31T00:00:00Z' is outside the window (report days 2025-01-01..2025-01-08"),
    ],
)
def test_contract_breaches_in_rows_fail_naming_the_window(emulator, config, mode, kind, message):
    emulator.faults.add(kind, path=PERF)
    run = run_tap("tap-mediamath", {**config, "response_mode": mode, "page_size": 50})
    where = FIRST_WINDOW + (", page 0" if mode == "paginated" else "")
    assert_clean_failure(run, f"{where}: {message}")
    assert run.stderr.strip().splitlines()[-1].endswith(message + (", end exclusive)" if kind == "outside_window" else ""))


@pytest.mark.parametrize("in_flight", [1])  # asserts which window a fault hits: the second request to arrive, one at a time
def test_bad_request_fails_with_the_api_error_and_the_request(emulator, config):
    # The tap lets an `and` of one filter through; the API wants at least two.
    report = {
        "name": "bad",
        "dataset": "performance",
        "fields": ["campaign_id", "impressions"],
        "filters": [{"field": "x", "op": "and", "filters": [{"field": "campaign_id", "value": 4000000}]}],
    }
    run = run_tap("tap-mediamath", {**config, "reports": [report]})
    assert_clean_failure(
        run,
        "MediaMath API POST /reporting/v2/performance (window 2025-01-01T00:00:00Z..2025-01-08T00:00:00Z) "
        "failed: 400 Bad Request: BadRequest: filter with op and requires filters with at least 2 items "
        "(request_id ",
    )
    assert len(emulator.calls(PERF)) == 1  # "bad" syncs first: one request, no retry


def test_unknown_field_fails_at_discovery_with_the_valid_names(emulator, config):
    report = {"name": "bad", "dataset": "performance", "fields": ["campaign_id", "campaign_id_test"]}
    run = run_tap("tap-mediamath", {**config, "reports": [report]}, args=["--discover"])
    assert_clean_failure(
        run,
        "reports[bad].fields: unknown field(s) campaign_id_test in dataset performance; "
        "valid fields: advertiser_id, advertiser_name, agency_id, ",
    )
    assert emulator.calls() == []


def test_page_size_refused_by_the_api_says_so(config):
    with make_emulator(max_page_size=1000) as strict:
        run = run_tap("tap-mediamath", settings(strict, response_mode="paginated"))
        assert_clean_failure(
            run,
            "400 Bad Request: BadRequest: pagination.page_size must be an integer between 1 and 1000",
            "the API refused the page_size setting",
        )
        ok = run_tap("tap-mediamath", settings(strict, response_mode="paginated", page_size=1000))
        assert ok.returncode == 0
        assert_exact_performance(ok, strict)


def test_429_and_503_storms_recover_with_exact_data(emulator, config):
    emulator.faults.add("throttle", path=PERF, status=429, retry_after=0.2, times=3)
    emulator.faults.add("throttle", path=PERF, status=503, retry_after=0.1, times=2, skip=1)
    run = run_tap("tap-mediamath", config)
    assert run.returncode == 0, run.stderr[-2000:]
    assert_exact_performance(run, emulator)
    statuses = Counter(c.status for c in emulator.calls(PERF))
    assert statuses == {429: 3, 503: 2, 200: 2}
    assert run.stderr.count("Retrying after try") == 5
    assert "(waiting 0.2 s)" in run.stderr


def test_resets_and_timeouts_are_retried_with_exact_data(emulator, config):
    emulator.faults.add("reset", path=PERF, times=2)
    emulator.faults.add("slow", path=PERF, delay=2.5, skip=1)
    run = run_tap("tap-mediamath", {**config, "request_timeout": 1})
    assert run.returncode == 0, run.stderr[-2000:]
    assert_exact_performance(run, emulator)
    assert run.stderr.count("Retrying after try") == 3


@pytest.mark.parametrize("in_flight", [1])  # asserts which window a fault hits: the first request to arrive, one at a time
@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("html", "line 1 of the stream is not JSON: '<html>"),
        ("malformed", 'line 1 of the stream is not JSON: \'{"data": [{"broken": \''),
        ("empty", "the answer was empty (no header line)"),
    ],
)
def test_broken_answers_fail_instead_of_ending_quietly(emulator, config, kind, message):
    emulator.faults.add(kind, path=PERF)
    run = run_tap("tap-mediamath", config)
    assert_clean_failure(run, f"{FIRST_WINDOW}: {message}")


def test_persistent_429_fails_after_bounded_retries(emulator, config, in_flight):
    emulator.faults.add("throttle", path=PERF, status=429, retry_after=0.05, times=100)
    run = run_tap("tap-mediamath", config)
    assert_clean_failure(run, "429 Too Many Requests: TooManyRequests: rate limit exceeded")
    # Six tries; in flight, the second window's first try was under way too, then waited for the first's retries.
    assert len(emulator.calls(PERF)) == (6 if in_flight == 1 else 7)


def test_expired_token_is_renewed_once_mid_run(emulator, config):
    emulator.faults.add("expire_tokens", path=PERF, skip=1)
    run = run_tap("tap-mediamath", config)
    assert run.returncode == 0, run.stderr[-2000:]
    assert_exact_performance(run, emulator)
    assert [(c.path, c.status) for c in emulator.calls()] == [
        ("/oauth/token", 200),
        (PERF, 200),
        (PERF, 401),
        ("/oauth/token", 200),
        (PERF, 200),
    ]


def test_short_lived_tokens_are_renewed_before_they_expire():
    with make_emulator(token_ttl=2) as short:
        short.faults.add("throttle", path=PERF, status=503, retry_after=2, skip=1)
        run = run_tap("tap-mediamath", settings(short))
        assert run.returncode == 0, run.stderr[-2000:]
        assert_exact_performance(run, short)
        # the wait outlives the token: a new one is fetched before the retry, never a 401
        assert [(c.path, c.status) for c in short.calls()] == [
            ("/oauth/token", 200),
            (PERF, 200),
            (PERF, 503),
            ("/oauth/token", 200),
            (PERF, 200),
        ]


def test_bad_credentials_fail_in_one_line_without_secrets(emulator, config):
    run = run_tap("tap-mediamath", {**config, "password": "wrong-password-Zz1"})
    assert_clean_failure(run, "MediaMath token endpoint POST ", "refused the credentials (403 invalid_grant", "Wrong email or password.")
    assert "wrong-password-Zz1" not in run.stderr + run.stdout
    run = run_tap("tap-mediamath", {**config, "audience": "https://elsewhere.example/"})
    assert_clean_failure(run, "Service not found: https://elsewhere.example/")


def test_bad_settings_fail_before_any_request(emulator, config):
    for overrides, fragment in [
        ({"page_size": 0}, "page_size"),
        ({"time_zone": "Nowhere/Land"}, "time_zone: 'Nowhere/Land'"),
        ({"end_date": "2024-01-01"}, "end_date: 2024-01-01 is before start_date 2025-01-01"),
        ({"organization_id": "acme"}, "organization_id"),
    ]:
        run = run_tap("tap-mediamath", {**config, **overrides})
        assert_clean_failure(run, fragment)
    missing = {k: v for k, v in config.items() if k != "client_secret"}
    assert_clean_failure(run_tap("tap-mediamath", missing), "client_secret")
    assert emulator.calls() == []


def test_no_secret_or_token_in_any_output(emulator, config):
    emulator.faults.add("expire_tokens", path=PERF, skip=1)
    emulator.faults.add("throttle", path=PERF, status=429, retry_after=0.05)
    emulator.faults.add("stream_error", path=PERF, skip=1)
    run = run_tap("tap-mediamath", config, env={"LOGLEVEL": "DEBUG"})
    assert run.returncode != 0
    output = run.stdout + run.stderr
    assert "X-RateLimit-Remaining" in output  # the debug line is there
    for secret in (*SECRETS, *(t for t in emulator.tokens.issued)):
        assert secret not in output
    assert "Bearer" not in output and "eyJ" not in output
    assert CLIENT_SECRET not in output and PASSWORD not in output


def _discover(config: dict) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.json"
        path.write_text(json.dumps(config))
        done = subprocess.run(
            [tap_executable("tap-mediamath"), "--config", str(path), "--discover"], capture_output=True, text=True, timeout=120, check=False
        )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_discovery_and_about_need_no_network(config):
    # (emulators.testing.discover() reads JSON lines; the SDK prints the catalog indented, so parse it whole)
    catalog = _discover(
        {
            **config,
            "api_url": "http://127.0.0.1:9",
            "auth_url": "http://127.0.0.1:9",
            "reports": [
                {
                    "name": "deals_daily",
                    "dataset": "deals",
                    "fields": ["deal_id", "wins", "bids"],
                    "filters": [{"field": "deal_id", "value": [1, 2]}],
                }
            ],
        }
    )
    streams = {s["tap_stream_id"]: s for s in catalog["streams"]}
    assert set(streams) == {"performance", "deals_daily"}
    assert streams["deals_daily"]["key_properties"] == ["organization_id", "agg_timestamp", "deal_id"]
    about = subprocess.run(
        [tap_executable("tap-mediamath"), "--about", "--format=json"], capture_output=True, text=True, timeout=60, check=False
    )
    assert about.returncode == 0
    info = json.loads(about.stdout)
    assert info["name"] == "tap-mediamath"
    assert info["settings"]["properties"]["client_secret"]["secret"] is True
    assert info["settings"]["properties"]["password"]["secret"] is True
