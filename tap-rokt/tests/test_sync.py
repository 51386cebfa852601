"""tap-rokt as a process against the emulator: exact rows, incremental runs, faults, errors, secrets."""

from __future__ import annotations

import base64

import pytest
from rokt_support import ACCOUNT_IDS, APP_ID, APP_SECRET, END, START, by_key, daily_sums, days, report_rows

from emulators.testing import discover, run_tap, select

USD_ACCOUNT, AUD_ACCOUNT, EMPTY_ACCOUNT = ACCOUNT_IDS
CAMPAIGN_KEY = ("account_id", "datetime", "campaign_id")


def _campaign_rows(run, account_id):
    return [r for r in run.records("campaign_report") if r["account_id"] == account_id]


def test_full_sync_matches_ground_truth_per_account_and_day(emulator, config):
    run = run_tap("tap-rokt", config)
    assert run.returncode == 0, run.stderr[-3000:]

    assert sorted(r["accountId"] for r in run.records("accounts")) == sorted(ACCOUNT_IDS)
    for account_id, timezone, currency in ((USD_ACCOUNT, "America/New_York", "USD"), (AUD_ACCOUNT, "Australia/Sydney", "AUD")):
        truth = report_rows(emulator, account_id, "campaigns", start=START, end=END, dimensions=("campaign_id",))
        rows = _campaign_rows(run, account_id)
        assert len(rows) == len(truth) > 0
        assert {r["datetime"][:10] for r in rows} == set(days(START, END))
        assert daily_sums(rows, "gross_cost") == daily_sums(truth, "gross_cost")
        assert daily_sums(rows, "impressions") == daily_sums(truth, "impressions")
        assert {(r["timezone"], r["currency_code"]) for r in rows} == {(timezone, currency)}
        keyed = by_key(rows, CAMPAIGN_KEY)
        for row in truth:
            emitted = keyed[(account_id, row["datetime"], row["campaign_id"])]
            assert {k: emitted[k] for k in row} == row

        transactions = [r for r in run.records("transaction_report") if r["account_id"] == account_id]
        truth = report_rows(emulator, account_id, "transactions", start=START, end=END)
        assert len(transactions) == len(days(START, END)) == len(truth)
        assert daily_sums(transactions, "transactions") == daily_sums(truth, "transactions")

    # An account without report data is not an error: it simply has no rows.
    assert _campaign_rows(run, EMPTY_ACCOUNT) == []
    # Every metric the USD account's help lists is requested, including its extra one.
    assert "viewthru_acquisitions" in _campaign_rows(run, USD_ACCOUNT)[0]
    # Help listings: 4 campaign dimensions + 6 metrics for the USD account (5 for the others).
    fields = run.records("campaign_report_fields")
    assert len([f for f in fields if f["account_id"] == USD_ACCOUNT]) == 10
    assert len([f for f in fields if f["account_id"] == AUD_ACCOUNT]) == 9


def test_schemas_are_typed_from_help(config):
    run = run_tap("tap-rokt", config)
    schema = run.schemas()["campaign_report"]
    properties = schema["schema"]["properties"]
    assert properties["datetime"]["format"] == "date-time"
    assert "number" in properties["gross_cost"]["type"]
    assert "string" in properties["campaign_id"]["type"]
    assert schema["key_properties"] == list(CAMPAIGN_KEY)
    assert run.schemas()["transaction_report"]["key_properties"] == ["account_id", "datetime"]


def test_requests_one_window_per_account_and_report(emulator, config):
    run_tap("tap-rokt", config)
    # 10 days fit in one window: one campaigns and one transactions query per account.
    assert len(emulator.calls(r"/campaigns/$", "POST")) == 3
    assert len(emulator.calls(r"/transactions$", "POST")) == 3
    assert len(emulator.calls(r"/auth/oauth2/token")) == 1
    # Help is fetched once per account and report, although it serves discovery, schemas and two streams.
    assert len(emulator.calls(r"/help$")) == 6


def test_a_sync_asks_help_only_for_the_reports_it_extracts(emulator, config):
    catalog = select(discover("tap-rokt", config), ["campaign_report"])
    emulator.reset()
    run = run_tap("tap-rokt", config, catalog=catalog)
    assert run.returncode == 0, run.stderr[-2000:]
    assert {m["stream"] for m in run.messages if m["type"] == "RECORD"} == {"campaign_report"}
    # The campaigns help of each account (its metrics) and no transactions help: that report is not extracted.
    assert len(emulator.calls(r"/campaigns/help$")) == 3
    assert emulator.calls(r"/transactions") == []
    assert len(emulator.calls(r"/campaigns/$", "POST")) == 3


def test_incremental_run_rereads_exactly_the_lookback_days(emulator, config):
    first = run_tap("tap-rokt", {**config, "end_date": "2025-03-11"})
    assert first.returncode == 0, first.stderr[-3000:]
    emulator.reset()
    second = run_tap("tap-rokt", {**config, "end_date": "2025-03-14", "lookback_window_days": 3}, state=first.state)
    assert second.returncode == 0, second.stderr[-3000:]

    # The bookmark was 2025-03-10; minus 3 days is 2025-03-07: days 03-07..03-13, nothing earlier.
    rows = _campaign_rows(second, USD_ACCOUNT)
    assert {r["datetime"][:10] for r in rows} == set(days("2025-03-07", "2025-03-14"))
    bodies = list(emulator.calls(r"/campaigns/$", "POST"))
    assert len(bodies) == 3
    # Union of both runs, upserted by key, equals the truth of the whole range: nothing lost, nothing doubled.
    merged = by_key(_campaign_rows(first, USD_ACCOUNT), CAMPAIGN_KEY)
    merged.update(by_key(rows, CAMPAIGN_KEY))
    truth = report_rows(emulator, USD_ACCOUNT, "campaigns", start=START, end="2025-03-14", dimensions=("campaign_id",))
    assert len(merged) == len(truth)
    assert daily_sums(list(merged.values()), "gross_cost") == daily_sums(truth, "gross_cost")
    bookmarks = {
        p["context"]["account_id"]: p.get("replication_key_value") for p in second.state["bookmarks"]["campaign_report"]["partitions"]
    }
    assert bookmarks[USD_ACCOUNT] == "2025-03-13T00:00:00Z"


def test_windows_are_split_when_an_answer_reaches_the_row_limit(emulator, config):
    # Four campaigns a day: a 10-day window has 40 rows, so a limit of 15 forces splits down to 2-3 days.
    run = run_tap("tap-rokt", {**config, "report_row_limit": 15, "account_ids": [USD_ACCOUNT]})
    assert run.returncode == 0, run.stderr[-3000:]
    truth = report_rows(emulator, USD_ACCOUNT, "campaigns", start=START, end=END, dimensions=("campaign_id",))
    rows = _campaign_rows(run, USD_ACCOUNT)
    assert len(by_key(rows, CAMPAIGN_KEY)) == len(truth) == 40
    assert daily_sums(rows, "gross_cost") == daily_sums(truth, "gross_cost")
    assert len(emulator.calls(r"/campaigns/$", "POST")) > 1


def test_a_single_day_over_the_row_limit_fails_loudly(config):
    run = run_tap("tap-rokt", {**config, "report_row_limit": 4, "account_ids": [USD_ACCOUNT]})
    assert run.returncode != 0
    assert "report_row_limit" in run.stderr and "may be truncated" in run.stderr
    assert "Traceback" not in run.stderr


def test_custom_report_weekly_with_filters(emulator, config):
    report = {
        "name": "young_by_device_weekly",
        "report": "campaigns",
        "dimensions": ["device"],
        "metrics": ["impressions", "gross_cost"],
        "dimension_filters": {"age_range": ["18-24"]},
        "interval": "week",
    }
    run = run_tap("tap-rokt", {**config, "reports": [report], "account_ids": [AUD_ACCOUNT], "end_date": "2025-03-24"})
    assert run.returncode == 0, run.stderr[-3000:]
    rows = run.records("young_by_device_weekly")
    truth = report_rows(
        emulator,
        AUD_ACCOUNT,
        "campaigns",
        start=START,
        end="2025-03-24",
        metrics=["impressions", "gross_cost"],
        dimensions=("device",),
        interval="week",
        filters={"age_range": ["18-24"]},
    )
    assert by_key(rows, ("datetime", "device")).keys() == by_key(truth, ("datetime", "device")).keys()
    assert daily_sums(rows, "gross_cost") == daily_sums(truth, "gross_cost")
    assert run.schemas()["young_by_device_weekly"]["key_properties"] == ["account_id", "datetime", "device"]


def test_currency_and_timezone_settings_are_sent_and_stated(emulator, config):
    run = run_tap("tap-rokt", {**config, "currency_code": "EUR", "timezone": "UTC", "account_ids": [AUD_ACCOUNT]})
    assert run.returncode == 0, run.stderr[-3000:]
    rows = _campaign_rows(run, AUD_ACCOUNT)
    truth = report_rows(
        emulator, AUD_ACCOUNT, "campaigns", start=START, end=END, dimensions=("campaign_id",), timezone="UTC", currency="EUR"
    )
    assert {(r["timezone"], r["currency_code"]) for r in rows} == {("UTC", "EUR")}
    assert daily_sums(rows, "gross_cost") == daily_sums(truth, "gross_cost")


# ---------------------------------------------------------------------- faults


def test_token_expiring_mid_run_is_renewed_once(emulator, config):
    emulator.faults.add("expire_tokens", path=r"/campaigns/$", skip=1)
    run = run_tap("tap-rokt", config)
    assert run.returncode == 0, run.stderr[-3000:]
    assert len(emulator.calls(r"/auth/oauth2/token")) == 2
    assert len(run.records("campaign_report")) == sum(
        len(report_rows(emulator, a, "campaigns", start=START, end=END, dimensions=("campaign_id",))) for a in ACCOUNT_IDS
    )


@pytest.mark.parametrize("in_flight", [1])  # the slow answers one after another make the run outlive a token
def test_short_lived_tokens_are_renewed_before_expiry(emulator, config):
    # Tokens that live 1.5 s, announced as 1 s (expires_in is whole seconds): the tap renews them after 0.9 s,
    # a tenth of their announced life before expiry. Slow answers (checked 0.3 s after they arrive, well
    # inside the 0.6 s to spare) make the run outlive the first token.
    emulator.tokens.ttl_seconds = 1.5
    emulator.faults.add("slow", delay=0.3, path=r"/campaigns/$", times=4)
    run = run_tap("tap-rokt", config)
    assert run.returncode == 0, run.stderr[-3000:]
    assert len(emulator.calls(r"/auth/oauth2/token")) >= 2
    assert not [c for c in emulator.calls() if c.status == 401]


def test_revoked_credentials_fail_clearly(emulator, config):
    emulator.app_secret = "rotated-elsewhere"
    run = run_tap("tap-rokt", config)
    assert run.returncode != 0
    assert "refused the credentials" in run.stderr and "check app_id and app_secret" in run.stderr
    assert "Traceback" not in run.stderr


def test_retry_storms_still_deliver_exact_data(emulator, config):
    emulator.faults.add("status", status=429, retry_after=0.2, path=r"/campaigns/$", times=3)
    emulator.faults.add("status", status=503, retry_after=0, path=r"/transactions$", times=2)
    emulator.faults.add("status", status=500, path=r"/help$", times=1)
    emulator.faults.add("reset", path=r"/campaigns/$", skip=1, times=2)
    emulator.faults.add("cut", path=r"/transactions$", skip=1, after_bytes=40)
    run = run_tap("tap-rokt", config)
    assert run.returncode == 0, run.stderr[-3000:]
    for account_id in ACCOUNT_IDS:
        truth = report_rows(emulator, account_id, "campaigns", start=START, end=END, dimensions=("campaign_id",))
        assert daily_sums(_campaign_rows(run, account_id), "gross_cost") == daily_sums(truth, "gross_cost")
        assert len(_campaign_rows(run, account_id)) == len(truth)
    assert len(run.records("transaction_report")) == 20
    assert not emulator.faults.pending()


def test_a_fault_outlasting_the_retries_fails_naming_request_and_window(emulator, config):
    emulator.faults.add("status", status=429, retry_after=0, path=r"/campaigns/$", times=50)
    run = run_tap("tap-rokt", {**config, "account_ids": [USD_ACCOUNT]})
    assert run.returncode != 0
    last = run.stderr.strip().splitlines()[-1]
    assert f"Rokt API POST /v1/query/accounts/{USD_ACCOUNT}/campaigns/ for window 2025-03-01..2025-03-11" in last
    assert "429" in last
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("in_flight", [1])  # the fault hits the third request to arrive: one at a time, a known window
def test_a_failed_stream_still_emits_every_record_it_read(emulator, config):
    # Records wait in the writer's block until a STATE (every 1,000 rows): the rows of the two windows
    # answered before the failure come out all the same, as the SDK's own writer would have written them.
    emulator.faults.add("status", status=403, path=r"/campaigns/$", skip=2)  # the third request to arrive
    run = run_tap("tap-rokt", {**config, "account_ids": [USD_ACCOUNT], "report_window_days": 3})
    assert run.returncode != 0
    truth = report_rows(emulator, USD_ACCOUNT, "campaigns", start=START, end="2025-03-07", dimensions=("campaign_id",))
    rows = _campaign_rows(run, USD_ACCOUNT)
    assert len(rows) == len(truth) == 24
    assert set(by_key(rows, CAMPAIGN_KEY)) == {(USD_ACCOUNT, r["datetime"], r["campaign_id"]) for r in truth}


@pytest.mark.parametrize("kind", ["html", "malformed", "empty"])
def test_broken_answers_fail_instead_of_ending_quietly(emulator, config, kind):
    emulator.faults.add(kind, path=r"/campaigns/$")
    run = run_tap("tap-rokt", {**config, "account_ids": [USD_ACCOUNT]})
    assert run.returncode != 0
    assert "the answer is not JSON" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_4xx_fails_with_the_api_message(emulator, config):
    emulator.faults.add("status", status=403, path=r"/campaigns/$")
    run = run_tap("tap-rokt", {**config, "account_ids": [USD_ACCOUNT]})
    assert run.returncode != 0
    assert "403 Forbidden: Injected 403 Forbidden" in run.stderr
    assert "Traceback" not in run.stderr


# ---------------------------------------------------------------------- settings and secrets


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"app_id": None}, "app_id"),
        ({"start_date": None}, "start_date"),
        ({"start_date": "first of March"}, "start_date: 'first of March' is not a date"),
        ({"end_date": "2025-02-01"}, "end_date: 2025-02-01 is before start_date"),
        ({"lookback_window_days": -1}, "lookback_window_days"),
        ({"lookback_window_days": "seven"}, "lookback_window_days"),
        ({"timezone": "Mars/Olympus"}, "timezone: 'Mars/Olympus' is not an IANA timezone"),
        ({"currency_code": "dollars"}, "currency_code"),
        ({"account_ids": ["123"]}, "account_ids: 123 not among the accounts"),
        ({"account_ids": "123"}, "account_ids: must be of type array"),
        ({"report_row_limit": 0}, "report_row_limit: must be at least 1"),
        ({"api_url": 5}, "api_url: must be of type string"),
        ({"reports": {}}, "reports: must be of type array"),
        ({"reports": [{"report": "campaigns"}]}, "reports[0].name: is required"),
        ({"reports": [{"name": "x", "report": "campaigns", "metrics": ["clicks"]}]}, "unknown metric slug(s) clicks"),
        ({"reports": [{"name": "x", "report": "orders"}]}, "reports[0].report: must be one of campaigns, transactions"),
        ({"reports": [{"name": "campaign_report", "report": "campaigns"}]}, "already a stream name"),
    ],
)
def test_bad_settings_fail_before_any_report_request(emulator, config, change, expected):
    settings = {k: v for k, v in {**config, **change}.items() if v is not None}
    run = run_tap("tap-rokt", settings)
    assert run.returncode != 0
    assert expected in run.stderr
    assert "Traceback" not in run.stderr
    assert not emulator.calls(r"/(campaigns|transactions)/?$", "POST")


def test_no_secret_in_any_output(emulator, config):
    emulator.faults.add("expire_tokens", path=r"/campaigns/$", skip=1)
    emulator.faults.add("status", status=429, retry_after=0, path=r"/transactions$")
    runs = [run_tap("tap-rokt", config), run_tap("tap-rokt", {**config, "app_secret": "wrong-" + APP_SECRET})]
    secrets = {APP_SECRET, base64.b64encode(f"{APP_ID}:{APP_SECRET}".encode()).decode(), *emulator.tokens.issued}
    assert len(emulator.tokens.issued) == 2
    for run in runs:
        for secret in secrets:
            assert secret not in run.stdout
            assert secret not in run.stderr
