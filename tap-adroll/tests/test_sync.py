"""Process-level tests: the tap runs as a process against the emulator; rows, sums and requests are exact."""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from adroll_support import END, PAT, REPORT_STREAMS, START, advertisable_bookmarks, assert_no_secrets, catalog_for, make_emulator

from emulators.adroll import NESTED_LIST_SHAPES
from emulators.testing import run_tap

if TYPE_CHECKING:
    from emulators.adroll import AdRollEmulator

KINDS = {"ad_report": "ad", "campaign_report": "campaign", "advertisable_report": "advertisable"}


def days(start: str, end: str) -> list[dt.date]:
    first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    return [first + dt.timedelta(days=n) for n in range((last - first).days)]


def stamp(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00+00:00"


def money(value) -> Decimal:
    return Decimal(str(value))


def expected_report(emulator: AdRollEmulator, stream: str, report_days, eids, currency="USD") -> dict:
    """(eid, date) -> the row the tap must emit, from the emulator's ground truth."""
    out = {}
    for day in report_days:
        for row in emulator.truth_report(KINDS[stream], day, eids, currency):
            out[(row["eid"], stamp(day))] = {**row, "date": stamp(day), "currency": currency}
    return out


def owner_of(emulator: AdRollEmulator, stream: str, eids) -> dict:
    """Entity eid -> advertisable eid, to sum report cost per advertisable."""
    owner = {}
    for adv in eids:
        owner[adv] = adv
        owner.update({c["eid"]: adv for c in emulator.campaigns(adv)})
        owner.update({a["eid"]: adv for a in emulator.ads(adv)})
    return owner


def check_reports(run, emulator, report_days, eids, currency="USD", streams=REPORT_STREAMS) -> dict:
    """Every report row as the truth has it; returns cost sums per (stream, advertisable, day)."""
    sums = {}
    for stream in streams:
        truth = expected_report(emulator, stream, report_days, eids, currency)
        records = run.records(stream)
        got = {(r["eid"], r["date"]): r for r in records}
        assert len(records) == len(got) == len(truth), stream
        assert got.keys() == truth.keys(), stream
        for key, want in truth.items():
            row = got[key]
            for field in ("impressions", "clicks", "prospects"):
                assert row[field] == want[field], (stream, key, field)
            for field in ("cost", "cpc", "cpm", "ctr"):
                assert money(row[field]) == money(want[field]), (stream, key, field)
            assert row["currency"] == currency and row["organization_eid"] == emulator.organization["eid"]
        owner = owner_of(emulator, stream, eids)
        got_sums = collections.Counter()
        want_sums = collections.Counter()
        for (eid, date), row in got.items():
            got_sums[(owner[eid], date)] += money(row["cost"])
        for (eid, date), row in truth.items():
            want_sums[(owner[eid], date)] += money(row["cost"])
        assert got_sums == want_sums, stream
        sums[stream] = got_sums
    return sums


def report_calls(emulator: AdRollEmulator, kind: str = r"(ad|campaign|advertisable)") -> list:
    return emulator.calls(rf"^/api/v1/report/{kind}$")


def called_days(emulator: AdRollEmulator, kind: str) -> list[str]:
    return [call.query["start_date"][0] for call in report_calls(emulator, kind) if call.status == 200]


SDK_FAILURE_LINE = "An unhandled error occurred while syncing"


def error_lines(stderr: str) -> list[str]:
    """The ERROR lines of a failed run, but the SDK's own "An unhandled error occurred while syncing 'x'"."""
    return [line for line in stderr.splitlines() if "| ERROR" in line and SDK_FAILURE_LINE not in line]


# ---------------------------------------------------------------------- a whole run


@pytest.mark.parametrize("nested_lists", NESTED_LIST_SHAPES)
def test_full_run_with_a_personal_access_token(emulator, config, nested_lists):
    run = run_tap("tap-adroll", config)
    assert run.returncode == 0, run.stderr[-3000:]
    eids = emulator.advertisable_eids()
    assert len(eids) == 4
    assert run.records("organization") == [emulator.organization]
    assert [r["eid"] for r in run.records("advertisables")] == eids

    for stream, truth in (
        ("campaigns", emulator.campaigns),
        ("ad_groups", emulator.adgroups),
        ("ads", emulator.ads),
        ("segments", emulator.segments),
    ):
        want = {(adv, e["eid"]): e for adv in eids for e in truth(adv)}
        got = {(r["advertisable_eid"], r["eid"]): r for r in run.records(stream)}
        assert len(run.records(stream)) == len(want), stream
        assert got.keys() == want.keys(), stream
    campaigns = run.records("campaigns")
    inactive = [c for c in campaigns if not c["is_active"]]
    assert len(inactive) == sum(len(emulator.campaigns(adv, is_active=False)) for adv in eids) >= 4
    assert {c["status"] for c in inactive} <= {"completed", "cancelled"}
    assert any(not ad["is_active"] for ad in run.records("ads"))
    # Nested lists in one shape whichever the API sent (production's objects or the docs' EIDs); every demo ad
    # is in one adgroup. The production-shaped universe is the truth: the docs' EIDs leave the status null.
    truth = make_emulator()
    memberships = {(a["eid"], g["id"]): g["status"] for adv in eids for a in truth.ads(adv) for g in a["adgroups"]}
    got = {(a["eid"], g["id"]): g["status"] for a in run.records("ads") for g in a["adgroups"]}
    assert len(got) == len(memberships) == len(run.records("ads")) == 50
    assert got == (memberships if nested_lists == "production" else dict.fromkeys(memberships))
    assert {(g["eid"], a["id"]): a["status"] for g in run.records("ad_groups") for a in g["ads"]} == {
        (group, ad): status for (ad, group), status in memberships.items()}
    assert {(c["eid"], g) for c in run.records("campaigns") for g in c["adgroups"]} == {
        (g["campaign"], g["eid"]) for adv in eids for g in truth.adgroups(adv)}
    for key, record in ((c["eid"], c) for c in campaigns):
        truth = next(c for adv in eids for c in emulator.campaigns(adv) if c["eid"] == key)
        assert money(record["budget"]) == money(truth["budget"])

    report_days = days(config["start_date"], config["end_date"])
    check_reports(run, emulator, report_days, eids)
    # One request per report day for all advertisables, each lookup once.
    per_path = collections.Counter(call.path.removeprefix("/api/v1/") for call in emulator.calls())
    assert per_path == {
        "organization/get": 1,
        "organization/get_advertisables": 1,
        "advertisable/get_campaigns": 8,
        "advertisable/get_adgroups": 8,
        "advertisable/get_ads": 8,
        "advertisable/get_segments": 4,
        "report/ad": 3,
        "report/campaign": 3,
        "report/advertisable": 3,
    }
    assert "AdRoll requests this run: 39 (" in run.stderr
    schemas = run.schemas()
    assert schemas["ad_report"]["key_properties"] == ["eid", "date"]
    assert schemas["ad_report"]["bookmark_properties"] == ["date"]
    assert schemas["ad_report"]["schema"]["properties"]["date"]["format"] == "date-time"
    assert "number" in schemas["ad_report"]["schema"]["properties"]["cost"]["type"]
    assert "integer" in schemas["ad_report"]["schema"]["properties"]["impressions"]["type"]
    assert_no_secrets(emulator, run.stdout, run.stderr)


def test_thirty_days_for_three_advertisables_spends_113_requests(emulator, config):
    eids = emulator.advertisable_eids()[:3]  # USD, GBP and USD advertisables
    config = {**config, "advertisable_eids": eids, "start_date": "2025-02-01", "end_date": "2025-03-03"}
    run = run_tap("tap-adroll", config)
    assert run.returncode == 0, run.stderr[-3000:]
    report_days = days(config["start_date"], config["end_date"])
    assert len(report_days) == 30
    sums = check_reports(run, emulator, report_days, eids)
    assert len(sums["advertisable_report"]) == 90  # 3 advertisables x 30 days
    per_path = collections.Counter(call.path.removeprefix("/api/v1/") for call in emulator.calls())
    assert per_path == {
        "organization/get": 1,
        "organization/get_advertisables": 1,
        "advertisable/get_campaigns": 6,
        "advertisable/get_adgroups": 6,
        "advertisable/get_ads": 6,
        "advertisable/get_segments": 3,
        "report/ad": 30,
        "report/campaign": 30,
        "report/advertisable": 30,
    }
    assert sum(per_path.values()) == 113
    for call in report_calls(emulator):
        assert call.query["start_date"] == call.query["end_date"]
        assert call.query["advertisables"] == [",".join(eids)]
        assert call.query["data_format"] == ["entity"] and call.query["currency"] == ["USD"]
    assert sorted(called_days(emulator, "ad")) == sorted(d.strftime("%m-%d-%Y") for d in report_days)
    assert "AdRoll requests this run: 113 (" in run.stderr


def test_reports_with_known_organization_and_advertisables_make_no_lookup(emulator, config):
    eids = emulator.advertisable_eids()[1:4]  # GBP, USD and EUR advertisables, reported in GBP
    config = {**config, "organization_eid": emulator.organization["eid"], "advertisable_eids": eids, "currency": "GBP"}
    run = run_tap("tap-adroll", config, catalog=catalog_for(*REPORT_STREAMS))
    assert run.returncode == 0, run.stderr[-3000:]
    check_reports(run, emulator, days(config["start_date"], config["end_date"]), eids, "GBP")
    assert {call.path for call in emulator.calls()} == {f"/api/v1/report/{kind}" for kind in KINDS.values()}
    assert len(emulator.calls()) == 9
    assert {call.query["currency"][0] for call in emulator.calls()} == {"GBP"}


# ---------------------------------------------------------------------- incremental


@pytest.mark.parametrize("in_flight", [1])  # asserts the order requests reach the emulator in
def test_incremental_runs_reread_exactly_the_lookback_days(emulator, config):
    eids = emulator.advertisable_eids()
    config = {**config, "start_date": "2025-03-01", "end_date": "2025-03-08"}
    catalog = catalog_for("ad_report", "advertisable_report")
    first = run_tap("tap-adroll", config, catalog=catalog)
    assert first.returncode == 0, first.stderr[-3000:]
    assert advertisable_bookmarks(first.state, "ad_report") == dict.fromkeys(eids, "2025-03-07T00:00:00+00:00")
    assert called_days(emulator, "ad") == [f"03-0{n}-2025" for n in range(1, 8)]

    emulator.reset()
    second = run_tap("tap-adroll", config, state=first.state, catalog=catalog)
    assert second.returncode == 0, second.stderr[-3000:]
    # bookmark 03-07 minus 3 lookback days: 03-04 .. 03-07 again, and nothing else.
    assert called_days(emulator, "ad") == ["03-04-2025", "03-05-2025", "03-06-2025", "03-07-2025"]
    assert called_days(emulator, "advertisable") == ["03-04-2025", "03-05-2025", "03-06-2025", "03-07-2025"]
    check_reports(second, emulator, days("2025-03-04", "2025-03-08"), eids, streams=("ad_report", "advertisable_report"))
    assert second.state["bookmarks"]["ad_report"] == first.state["bookmarks"]["ad_report"]

    emulator.reset()
    third = run_tap("tap-adroll", {**config, "end_date": "2025-03-10"}, state=second.state, catalog=catalog)
    assert third.returncode == 0, third.stderr[-3000:]
    assert called_days(emulator, "ad") == [f"03-0{n}-2025" for n in range(4, 10)]
    assert advertisable_bookmarks(third.state, "ad_report") == dict.fromkeys(eids, "2025-03-09T00:00:00+00:00")


@pytest.mark.parametrize("in_flight", [1])  # asserts the order requests reach the emulator in
def test_lookback_never_reaches_before_start_date(emulator, config):
    state = {
        "bookmarks": {
            "advertisable_report": {
                "partitions": [
                    {
                        "context": {"organization_eid": emulator.organization["eid"]},
                        "replication_key": "date",
                        "replication_key_value": "2025-03-02T00:00:00+00:00",
                    }
                ]
            }
        }
    }
    run = run_tap("tap-adroll", {**config, "lookback_window_days": 10}, state=state, catalog=catalog_for("advertisable_report"))
    assert run.returncode == 0, run.stderr[-3000:]
    assert called_days(emulator, "advertisable") == ["03-01-2025", "03-02-2025", "03-03-2025"]


# ---------------------------------------------------------------------- quota


@pytest.mark.parametrize("in_flight", [1])  # asserts the order requests reach the emulator in
def test_quota_exhaustion_fails_with_state_at_the_last_complete_day_and_the_next_run_resumes(emulator, config):
    eids = emulator.advertisable_eids()[:3]
    config = {
        **config,
        "organization_eid": emulator.organization["eid"],
        "advertisable_eids": eids,
        "start_date": "2025-03-01",
        "end_date": "2025-03-11",
    }
    catalog = catalog_for("advertisable_report")
    emulator.quota_per_day, emulator.quota_retry_after = 5, 0

    first = run_tap("tap-adroll", config, catalog=catalog)
    assert first.returncode != 0
    errors = error_lines(first.stderr)
    assert len(errors) == 1 and "AdRoll request quota exhausted (still refused after 6 tries)" in errors[0]
    assert "GET /api/v1/report/advertisable for day 03-06-2025" in errors[0]
    assert "Traceback" not in first.stderr
    assert advertisable_bookmarks(first.state, "advertisable_report") == dict.fromkeys(eids, "2025-03-05T00:00:00+00:00")
    assert sorted({r["date"][:10] for r in first.records()}) == [f"2025-03-0{n}" for n in range(1, 6)]
    # A STATE message after every complete day, so a run killed outright keeps its progress too.
    progress = [
        m["value"]["bookmarks"]["advertisable_report"]["partitions"][-1]["replication_key_value"][:10]
        for m in first.messages
        if m["type"] == "STATE" and "advertisable_report" in m["value"].get("bookmarks", {})
    ]
    assert sorted(set(progress)) == [f"2025-03-0{n}" for n in range(1, 6)]
    assert [c.status for c in report_calls(emulator)] == [200] * 5 + [429] * 6

    emulator.reset_quota()  # the next day
    emulator.quota_per_day = 100
    second = run_tap("tap-adroll", config, state=first.state, catalog=catalog)
    assert second.returncode == 0, second.stderr[-3000:]
    assert called_days(emulator, "advertisable")[5:] == [
        "03-02-2025",
        "03-03-2025",
        "03-04-2025",
        "03-05-2025",
        "03-06-2025",
        "03-07-2025",
        "03-08-2025",
        "03-09-2025",
        "03-10-2025",
    ]
    # Together the two runs hold every day once or more, with the latest value of each row.
    merged = {(r["eid"], r["date"]): r for run in (first, second) for r in run.records("advertisable_report")}
    truth = expected_report(emulator, "advertisable_report", days("2025-03-01", "2025-03-11"), eids)
    assert merged.keys() == truth.keys()
    assert sum(money(r["cost"]) for r in merged.values()) == sum(money(r["cost"]) for r in truth.values())


@pytest.mark.parametrize("in_flight", [1])  # asserts the order requests reach the emulator in
def test_a_quota_reset_hours_away_fails_without_retrying(emulator, config):
    emulator.quota_per_day = 2  # quota_retry_after None: Retry-After is the time to midnight UTC
    run = run_tap("tap-adroll", {**config, "organization_eid": emulator.organization["eid"]}, catalog=catalog_for("advertisable_report"))
    assert run.returncode != 0
    assert [c.status for c in emulator.calls()] == [200, 200, 429]  # get_advertisables, day 1, one refusal
    (error,) = error_lines(run.stderr)
    assert "AdRoll request quota exhausted (the API asks to wait" in error
    assert run.state["bookmarks"]["advertisable_report"]["partitions"][0]["replication_key_value"] == "2025-03-01T00:00:00+00:00"


# ---------------------------------------------------------------------- OAuth


@pytest.mark.parametrize("in_flight", [1])  # asserts the order requests reach the emulator in
def test_oauth_token_expiring_mid_run_is_renewed_and_the_rotated_refresh_token_used(emulator, oauth_config):
    emulator.faults.add("expire_tokens", path=r"^/api/v1/", skip=5)
    emulator.faults.add("expire_tokens", path=r"^/api/v1/", skip=20)
    run = run_tap("tap-adroll", oauth_config)
    assert run.returncode == 0, run.stderr[-3000:]
    token_calls = emulator.calls(r"^/auth/token$")
    assert [c.status for c in token_calls] == [200, 200]  # the second refresh used the rotated token
    assert len([c for c in emulator.calls(r"^/api/v1/") if c.status == 401]) == 2
    check_reports(run, emulator, days(oauth_config["start_date"], oauth_config["end_date"]), emulator.advertisable_eids())
    assert len(run.records("campaigns")) == sum(len(emulator.campaigns(a)) for a in emulator.advertisable_eids())
    # 39 API requests, 2 of them again after their 401, and 2 token requests.
    assert "AdRoll requests this run: 43 (" in run.stderr and "oauth_token=2" in run.stderr
    assert "refresh_token in the settings is now spent" in run.stderr
    assert_no_secrets(emulator, run.stdout, run.stderr)


def test_rotated_refresh_token_is_kept_in_the_token_file_between_runs(emulator, oauth_config, tmp_path):
    token_file = tmp_path / "adroll-tokens.json"
    config = {**oauth_config, "oauth_token_file": str(token_file)}
    catalog = catalog_for("organization")
    emulator.faults.add("expire_tokens", path=r"^/api/v1/")
    first = run_tap("tap-adroll", config, catalog=catalog)
    assert first.returncode == 0, first.stderr[-3000:]
    saved = json.loads(token_file.read_text())
    assert oct(os.stat(token_file).st_mode & 0o777) == "0o600"
    assert saved["refresh_token"] in emulator.tokens.refresh and saved["refresh_token"] != oauth_config["refresh_token"]

    emulator.faults.add("expire_tokens", path=r"^/api/v1/")
    second = run_tap("tap-adroll", config, catalog=catalog)  # the settings' refresh token is spent by now
    assert second.returncode == 0, second.stderr[-3000:]
    assert [c.status for c in emulator.calls(r"^/auth/token$")] == [200, 200]
    assert json.loads(token_file.read_text())["refresh_token"] != saved["refresh_token"]
    assert_no_secrets(emulator, first.stdout, first.stderr, second.stdout, second.stderr)


def test_a_spent_refresh_token_fails_in_one_line(emulator, oauth_config):
    catalog = catalog_for("organization")
    emulator.faults.add("expire_tokens", path=r"^/api/v1/")
    assert run_tap("tap-adroll", oauth_config, catalog=catalog).returncode == 0
    emulator.faults.add("expire_tokens", path=r"^/api/v1/")
    run = run_tap("tap-adroll", oauth_config, catalog=catalog)  # same settings, no token file
    assert run.returncode != 0
    (error,) = error_lines(run.stderr)
    assert "AdRoll OAuth token endpoint POST " in error
    assert "/auth/token refused the credentials (400 invalid_grant: Refresh token already used)" in error
    assert "Traceback" not in run.stderr
    assert_no_secrets(emulator, run.stdout, run.stderr)


# ---------------------------------------------------------------------- errors and faults


def test_api_4xx_fails_with_its_message_and_the_request(emulator, config):
    run = run_tap("tap-adroll", {**config, "currency": "XYZ"}, catalog=catalog_for("ad_report"))
    assert run.returncode != 0
    (error,) = error_lines(run.stderr)
    assert error.endswith("AdRoll API GET /api/v1/report/ad for day 03-01-2025 failed: 400 Bad Request: Unsupported currency 'XYZ'")
    assert "Traceback" not in run.stderr
    assert_no_secrets(emulator, run.stdout, run.stderr)


def test_a_rejected_personal_access_token_fails_at_once(emulator, config):
    run = run_tap("tap-adroll", {**config, "personal_access_token": "not-the-pat"}, catalog=catalog_for("organization"))
    assert run.returncode != 0
    assert len(emulator.calls()) == 1  # a PAT cannot be renewed: no retry
    (error,) = error_lines(run.stderr)
    assert "GET /api/v1/organization/get failed: 401 Unauthorized: Invalid personal access token or apikey" in error
    assert "not-the-pat" not in run.stderr


@pytest.mark.parametrize("in_flight", [1])  # asserts the order requests reach the emulator in
def test_transient_failures_are_retried_honouring_retry_after(emulator, config):
    emulator.faults.add("status", path=r"/report/campaign$", status=503, retry_after=0, times=2)
    emulator.faults.add("status", path=r"/report/ad$", status=429, retry_after=1)
    emulator.faults.add("reset", path=r"/report/advertisable$")
    emulator.faults.add("cut", path=r"/advertisable/get_ads$", after_bytes=40)
    run = run_tap("tap-adroll", config)
    assert run.returncode == 0, run.stderr[-3000:]
    check_reports(run, emulator, days(config["start_date"], config["end_date"]), emulator.advertisable_eids())
    ad_calls = report_calls(emulator, "ad")
    assert [c.status for c in ad_calls[:2]] == [429, 200]
    assert ad_calls[1].at - ad_calls[0].at >= 0.95  # waited for Retry-After: 1
    assert "AdRoll requests this run: 44 (" in run.stderr  # 39 + 5 retries


def test_bad_settings_fail_before_any_request(emulator, config):
    for bad, setting in (
        ({"personal_access_token": None}, "personal_access_token: no auth method configured"),
        ({"end_date": "2025-02-01"}, "end_date: 2025-02-01 is before start_date 2025-03-01"),
        ({"lookback_window_days": -2}, "lookback_window_days: must be at least 0"),
    ):
        settings = {k: v for k, v in {**config, **bad}.items() if v is not None}
        run = run_tap("tap-adroll", settings)
        assert run.returncode != 0
        assert setting in run.stderr
        assert "Traceback" not in run.stderr
        assert PAT not in run.stderr
    assert emulator.calls() == []


def test_unknown_advertisable_eids_fail_naming_the_setting(emulator, config):
    run = run_tap("tap-adroll", {**config, "advertisable_eids": ["NOSUCHADVERTISABLE"]}, catalog=catalog_for("advertisables"))
    assert run.returncode != 0
    error, summary = error_lines(run.stderr)  # the SDK ends settings errors with "Config validation failed"
    assert "advertisable_eids: NOSUCHADVERTISABLE not among the organization's advertisables" in error
    assert summary.endswith("Config validation failed")
    assert len(emulator.calls()) == 1


def test_oauth_with_only_a_refresh_token_gets_an_access_token_first(emulator, oauth_config):
    config = {k: v for k, v in oauth_config.items() if k != "access_token"}
    run = run_tap("tap-adroll", config, catalog=catalog_for("organization", "advertisables"))
    assert run.returncode == 0, run.stderr[-3000:]
    # The SDK syncs streams in name order: advertisables, then organization.
    assert [c.path for c in emulator.calls()] == ["/auth/token", "/api/v1/organization/get_advertisables", "/api/v1/organization/get"]
    assert all(c.status == 200 for c in emulator.calls())
    assert_no_secrets(emulator, run.stdout, run.stderr)


def test_oauth_token_is_renewed_before_it_expires_without_a_401(oauth_config):
    # Tokens live 8 s here, so the tap renews them 0.8 s early: after a 7.3 s answer, before the next request
    # (the slow request itself is checked while its token is still valid, with 0.7 s to spare).
    with make_emulator(token_ttl=8) as emulator:
        config = {k: v for k, v in oauth_config.items() if k != "access_token"} | {"api_url": emulator.url}
        emulator.faults.add("slow", path=r"^/api/v1/organization/get_advertisables$", delay=7.3)
        run = run_tap("tap-adroll", config, catalog=catalog_for("organization", "advertisables"))
        assert run.returncode == 0, run.stderr[-3000:]
        assert [(c.path, c.status) for c in emulator.calls()] == [
            ("/auth/token", 200),
            ("/api/v1/organization/get_advertisables", 200),
            ("/auth/token", 200),
            ("/api/v1/organization/get", 200),
        ]


@pytest.mark.parametrize("in_flight", [1])  # the fault hits the second request to arrive: one at a time, a known day
@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ({"kind": "html"}, "failed: the answer is not JSON (text/html)"),
        ({"kind": "malformed"}, "failed: the answer is not JSON (application/json)"),
        ({"kind": "empty"}, "failed: the answer is not JSON (application/json): ''"),
        ({"kind": "wrong_type"}, "metric 'cost' is not a number: 'n/a'"),
        ({"kind": "outside_window"}, "is outside the window: not among the advertisables asked for"),
    ],
)
def test_broken_answers_fail_naming_the_day_and_a_resumed_run_completes(emulator, config, fault, message):
    eids = emulator.advertisable_eids()[:3]
    config = {**config, "organization_eid": emulator.organization["eid"], "advertisable_eids": eids}
    catalog = catalog_for("advertisable_report")
    emulator.faults.add(fault["kind"], path=r"/report/advertisable$", skip=1)  # the second day breaks
    first = run_tap("tap-adroll", config, catalog=catalog)
    assert first.returncode != 0
    (error,) = error_lines(first.stderr)
    assert "AdRoll API GET /api/v1/report/advertisable for day 03-02-2025 failed: " in error and message in error
    assert "Traceback" not in first.stderr
    assert sorted({r["date"][:10] for r in first.records()}) == ["2025-03-01"]  # nothing of the broken day
    second = run_tap("tap-adroll", config, state=first.state, catalog=catalog)
    assert second.returncode == 0, second.stderr[-3000:]
    merged = {(r["eid"], r["date"]): r for run in (first, second) for r in run.records()}
    assert merged.keys() == expected_report(emulator, "advertisable_report", days(START, END), eids).keys()


def test_an_answer_slower_than_request_timeout_is_retried(emulator, config):
    emulator.faults.add("slow", path=r"/report/advertisable$", delay=2)
    run = run_tap("tap-adroll", {**config, "request_timeout": 1}, catalog=catalog_for("advertisable_report"))
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Retrying after try 1 of 6" in run.stderr and "ReadTimeout" in run.stderr
    check_reports(run, emulator, days(START, END), emulator.advertisable_eids(), streams=("advertisable_report",))
