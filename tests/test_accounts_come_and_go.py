"""Partitions that come and go, as users meet them: an account (Rokt), advertisable (AdRoll) or advertiser
(MediaMath) added after the first run gets its whole history while the others re-read only their lookback; one
left out and added back resumes from its own bookmark; state written by the previous release is read without a
lost or re-read day; a partition the API refuses is set aside while every other one completes and is bookmarked,
and Meltano resumes them once it is left out. The days asked are read from the emulators' request logs (the
ground truth of what each tap requested), the rows against the emulators' facts.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import re
import typing as t
from decimal import Decimal

import pytest

from emulators.adroll import AdRollEmulator
from emulators.mediamath import MediaMathEmulator
from emulators.rokt import ACCOUNTS, RoktEmulator
from emulators.testing import TapRun, discover, run_tap, select

if t.TYPE_CHECKING:
    from conftest import Meltano

START = "2025-03-01"
LOOKBACK = 2  # short, so each run asks few days; the rule is the same for any lookback
NEW_YORK, SYDNEY, LONDON = (account.account_id for account in ACCOUNTS)  # LONDON has no report data
ORG = 100001
ADVERTISER, OTHER_ADVERTISER = 300000, 300001  # advertisers of organization 100001 in the emulator
NO_SUCH_ADVERTISER = 999999
ADROLL_KINDS = {"ad_report": "ad", "campaign_report": "campaign", "advertisable_report": "advertisable"}

#: Report days each partition got per run, printed at the end of each test (pytest -s shows them).
DAYS_SEEN: dict[str, list[str]] = collections.defaultdict(list)


def day(value: str, offset: int = 0) -> str:
    return (dt.date.fromisoformat(value[:10]) + dt.timedelta(days=offset)).isoformat()


def days(first: str, end: str) -> list[str]:
    """Every ISO day from ``first`` to ``end`` (exclusive)."""
    count = (dt.date.fromisoformat(end) - dt.date.fromisoformat(first)).days
    return [day(first, n) for n in range(count)]


def ok(run: TapRun) -> TapRun:
    assert run.returncode == 0, run.stderr[-3000:]
    return run


def last_line(run: TapRun) -> str:
    return run.stderr.strip().splitlines()[-1]


def message(line: str) -> str:
    """A log line without its time, level and logger: ``... | ERROR    | tap-rokt    | <message>``."""
    return line.split(" | ", 3)[-1]


def level(line: str) -> str:
    return line.split(" | ")[1].strip() if line.count(" | ") >= 3 else ""


def lines_of(stderr: str, wanted: str) -> list[str]:
    """The messages of the log lines of one level."""
    return [message(line) for line in stderr.splitlines() if level(line) == wanted]


# ====================================================================== Rokt: accounts

ROKT_REPORT = r"^/v1/query/accounts/(?P<account>[^/]+)/campaigns/$"


@pytest.fixture(scope="module")
def rokt() -> t.Iterator[RoktEmulator]:
    with RoktEmulator() as emulator:
        yield emulator


def rokt_config(emulator: RoktEmulator, end: str, accounts: list[str] | None, **more: t.Any) -> dict:
    config = {
        "app_id": emulator.app_id,
        "app_secret": emulator.app_secret,
        "api_url": emulator.url,
        "start_date": START,
        "end_date": end,
        "lookback_window_days": LOOKBACK,
        **more,
    }
    if accounts is not None:
        config["account_ids"] = accounts
    return config


@pytest.fixture(scope="module")
def rokt_catalog(rokt: RoktEmulator) -> dict:
    return select(discover("tap-rokt", rokt_config(rokt, "2025-03-02", None)), ["campaign_report"])


def rokt_windows(emulator: RoktEmulator) -> dict[str, list[tuple[str, str]]]:
    """Per account, the campaign report windows requested and answered: (startDate, endDate exclusive)."""
    asked = collections.defaultdict(list)
    for call in emulator.calls(ROKT_REPORT, "POST"):
        if call.status == 200:
            body = call.json()
            asked[re.match(ROKT_REPORT, call.path)["account"]].append((body["startDate"], body["endDate"]))
    return {account: sorted(windows) for account, windows in asked.items()}


def rokt_truth(emulator: RoktEmulator, account_id: str, first: str, end: str) -> list[dict]:
    account = emulator.accounts[account_id]
    body = {
        "startDate": first,
        "endDate": end,
        "interval": "day",
        "metrics": [m["slug"] for m in emulator.help("campaigns", account)["metrics"]],
        "dimensions": ["campaign_id"],
        "timezoneVariation": account.timezone,
        "currencyCode": account.currency,
    }
    return emulator.report(account_id, "campaigns", body)


def assert_rokt_rows(run: TapRun, emulator: RoktEmulator, account_id: str, first: str, end: str) -> None:
    """The account's campaign_report rows are exactly the truth of days ``first`` to ``end``: keys, every value."""
    rows = [r for r in run.records("campaign_report") if r["account_id"] == account_id]
    truth = rokt_truth(emulator, account_id, first, end)
    keyed = {(r["datetime"], r["campaign_id"]): r for r in rows}
    assert len(keyed) == len(rows) == len(truth), (account_id, len(rows), len(truth))
    for want in truth:
        got = keyed[(want["datetime"], want["campaign_id"])]
        assert {k: got[k] for k in want} == want
    if truth:
        assert sorted({r["datetime"][:10] for r in rows}) == days(first, end)
        spend = sum(Decimal(str(r["gross_cost"])) for r in rows)
        assert spend == sum(Decimal(str(r["gross_cost"])) for r in truth)


def rokt_bookmarks(state: dict) -> dict[str, str]:
    partitions = state["bookmarks"]["campaign_report"]["partitions"]
    return {p["context"]["account_id"]: p.get("replication_key_value") for p in partitions}


def rokt_run(emulator: RoktEmulator, catalog: dict, end: str, accounts: list[str], state: dict | None, label: str) -> TapRun:
    emulator.reset()
    run = ok(run_tap("tap-rokt", rokt_config(emulator, end, accounts), state=state, catalog=catalog))
    for account, windows in rokt_windows(emulator).items():
        DAYS_SEEN[f"tap-rokt {label}"].append(f"account {account}: " + ", ".join(f"{a}..{day(b, -1)}" for a, b in windows))
    return run


def test_rokt_an_account_added_later_removed_and_back(rokt, rokt_catalog):
    # Run 1: one account, 1-5 March.
    first = rokt_run(rokt, rokt_catalog, "2025-03-06", [NEW_YORK], None, "run 1")
    assert rokt_windows(rokt) == {NEW_YORK: [("2025-03-01", "2025-03-06")]}
    assert_rokt_rows(first, rokt, NEW_YORK, "2025-03-01", "2025-03-06")
    assert rokt_bookmarks(first.state) == {NEW_YORK: "2025-03-05T00:00:00Z"}

    # Run 2, two days later, a second account: its whole history from start_date; the first only its lookback.
    second = rokt_run(rokt, rokt_catalog, "2025-03-08", [NEW_YORK, SYDNEY], first.state, "run 2")
    assert rokt_windows(rokt) == {NEW_YORK: [("2025-03-03", "2025-03-08")], SYDNEY: [("2025-03-01", "2025-03-08")]}
    assert_rokt_rows(second, rokt, NEW_YORK, "2025-03-03", "2025-03-08")
    assert_rokt_rows(second, rokt, SYDNEY, "2025-03-01", "2025-03-08")
    assert rokt_bookmarks(second.state) == {NEW_YORK: "2025-03-07T00:00:00Z", SYDNEY: "2025-03-07T00:00:00Z"}

    # Run 3: the first account left out. Its bookmark stays in the state, untouched.
    third = rokt_run(rokt, rokt_catalog, "2025-03-10", [SYDNEY], second.state, "run 3")
    assert rokt_windows(rokt) == {SYDNEY: [("2025-03-05", "2025-03-10")]}
    assert_rokt_rows(third, rokt, SYDNEY, "2025-03-05", "2025-03-10")
    assert rokt_bookmarks(third.state) == {NEW_YORK: "2025-03-07T00:00:00Z", SYDNEY: "2025-03-09T00:00:00Z"}

    # Run 4: it is back, and resumes from its own bookmark (7 March) minus the lookback, not from start_date.
    fourth = rokt_run(rokt, rokt_catalog, "2025-03-12", [NEW_YORK, SYDNEY], third.state, "run 4")
    assert rokt_windows(rokt) == {NEW_YORK: [("2025-03-05", "2025-03-12")], SYDNEY: [("2025-03-07", "2025-03-12")]}
    assert_rokt_rows(fourth, rokt, NEW_YORK, "2025-03-05", "2025-03-12")
    assert_rokt_rows(fourth, rokt, SYDNEY, "2025-03-07", "2025-03-12")
    assert rokt_bookmarks(fourth.state) == {NEW_YORK: "2025-03-11T00:00:00Z", SYDNEY: "2025-03-11T00:00:00Z"}
    print("\n" + "\n".join(f"{run}: {line}" for run, lines in DAYS_SEEN.items() if run.startswith("tap-rokt") for line in lines))


def test_rokt_state_of_the_previous_release_is_read(rokt, rokt_catalog):
    """Rokt's state shape is unchanged: one partition per account."""
    state = {
        "bookmarks": {
            "campaign_report": {
                "partitions": [
                    {"context": {"account_id": NEW_YORK}, "replication_key": "datetime", "replication_key_value": "2025-03-05T00:00:00Z"},
                    {"context": {"account_id": SYDNEY}, "replication_key": "datetime", "replication_key_value": "2025-03-04T00:00:00Z"},
                ]
            }
        }
    }
    run = rokt_run(rokt, rokt_catalog, "2025-03-08", [NEW_YORK, SYDNEY], state, "upgrade")
    assert rokt_windows(rokt) == {NEW_YORK: [("2025-03-03", "2025-03-08")], SYDNEY: [("2025-03-02", "2025-03-08")]}
    assert_rokt_rows(run, rokt, NEW_YORK, "2025-03-03", "2025-03-08")
    assert_rokt_rows(run, rokt, SYDNEY, "2025-03-02", "2025-03-08")
    assert rokt_bookmarks(run.state) == {NEW_YORK: "2025-03-07T00:00:00Z", SYDNEY: "2025-03-07T00:00:00Z"}


SUMMARY = re.compile(
    r"(?P<count>\d+) partitions? set aside, every other partition is complete and bookmarked: (?P<listed>.+)\. "
    r"Restore access, or leave (it|them) out with (?P<settings>[a-z_ /]+)"
)


def forbid_rokt_account(emulator: RoktEmulator, account_id: str) -> None:
    """Every request about the account (help listings and reports) answers 403, as long as the test needs."""
    emulator.faults.add("status", status=403, path=rf"^/v1/query/accounts/{account_id}/", times=10_000)


def test_rokt_a_forbidden_account_is_set_aside_and_every_other_one_completes(rokt, rokt_catalog):
    rokt.reset()
    forbid_rokt_account(rokt, SYDNEY)
    try:
        run = run_tap("tap-rokt", rokt_config(rokt, "2025-03-06", None), catalog=rokt_catalog)
        discovery = run_tap("tap-rokt", rokt_config(rokt, "2025-03-06", None), args=["--discover"])
    finally:
        rokt.faults.clear()
    assert run.returncode == 1, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    summary = message(last_line(run))
    print(f"\ntap-rokt partial access, last line: {summary}")
    assert summary == (
        f"1 partition set aside, every other partition is complete and bookmarked: account {SYDNEY} in campaign_report "
        f"(Rokt API GET /v1/query/accounts/{SYDNEY}/campaigns/help failed: 403 Forbidden: Injected 403 Forbidden). "
        "Restore access, or leave it out with account_ids"
    )
    assert level(last_line(run)) == "ERROR"
    refusals = [line for line in run.stderr.splitlines() if "set aside, the other partitions go on" in line]
    assert [message(line) for line in refusals] == [
        (
            f"campaign_report: account {SYDNEY} set aside, the other partitions go on: Rokt API GET /v1/query/accounts/{SYDNEY}"
            "/campaigns/help failed: 403 Forbidden: Injected 403 Forbidden"
        )
    ]
    # Every other account: exact rows, bookmarked in the last STATE; the refused one has no bookmark.
    assert_rokt_rows(run, rokt, NEW_YORK, "2025-03-01", "2025-03-06")
    assert_rokt_rows(run, rokt, LONDON, "2025-03-01", "2025-03-06")
    assert rokt_bookmarks(run.state) == {NEW_YORK: "2025-03-05T00:00:00Z", LONDON: "2025-03-05T00:00:00Z", SYDNEY: None}
    assert rokt_windows(rokt) == {NEW_YORK: [("2025-03-01", "2025-03-06")], LONDON: [("2025-03-01", "2025-03-06")]}

    # Discovery leaves the account out of the report schemas, warns, and succeeds.
    assert discovery.returncode == 0, discovery.stderr[-3000:]
    catalog = json.loads(discovery.stdout)
    assert {"campaign_report", "transaction_report"} <= {s["tap_stream_id"] for s in catalog["streams"]}
    warnings = lines_of(discovery.stderr, "WARNING")
    assert [w for w in warnings if w.startswith(f"account {SYDNEY}")] == [
        f"account {SYDNEY}: its {report} report fields are left out of the catalog and a sync sets its reports aside: "
        f"Rokt API GET /v1/query/accounts/{SYDNEY}/{report}/help failed: 403 Forbidden: Injected 403 Forbidden; "
        "leave it out with account_ids, or restore access"
        for report in ("campaigns", "transactions")
    ]


@pytest.mark.e2e
def test_meltano_resumes_every_other_account_once_the_forbidden_one_is_left_out(rokt, meltano: Meltano, tmp_path):
    rokt.reset()
    env = {
        "TAP_ROKT_API_URL": rokt.url,
        "TAP_ROKT_APP_ID": rokt.app_id,
        "TAP_ROKT_APP_SECRET": rokt.app_secret,
        "TAP_ROKT_START_DATE": START,
        "TAP_ROKT_END_DATE": "2025-03-06",
        "TAP_ROKT_LOOKBACK_WINDOW_DAYS": str(LOOKBACK),
        "TARGET_JSONL_DESTINATION_PATH": str(tmp_path / "jsonl"),
    }
    (tmp_path / "jsonl").mkdir()
    forbid_rokt_account(rokt, SYDNEY)
    try:
        failed = meltano("run", "tap-rokt", "target-jsonl", env=env, check=False)
    finally:
        rokt.faults.clear()
    assert failed.returncode != 0
    # The tap's last line, as Meltano relays it: the account set aside in each of the four streams that read it.
    summary = SUMMARY.search(failed.stderr)
    assert summary, failed.stderr[-3000:]
    assert (summary["count"], summary["settings"]) == ("4", "account_ids")
    set_aside = re.findall(r"account (\d+) in (\w+) \(", summary["listed"])
    streams = ["campaign_report", "campaign_report_fields", "transaction_report", "transaction_report_fields"]
    assert sorted(set_aside) == [(SYDNEY, stream) for stream in streams]
    state = json.loads(meltano("state", "get", "dev:tap-rokt-to-target-jsonl").stdout)["singer_state"]
    for stream in ("campaign_report", "transaction_report"):
        bookmarks = {p["context"]["account_id"]: p.get("replication_key_value") for p in state["bookmarks"][stream]["partitions"]}
        assert bookmarks == {NEW_YORK: "2025-03-05T00:00:00Z", LONDON: "2025-03-05T00:00:00Z", SYDNEY: None}, stream

    # Two days later, the account left out: every other account re-reads only its lookback (3-7 March).
    rokt.reset()
    later = {**env, "TAP_ROKT_END_DATE": "2025-03-08", "TAP_ROKT_ACCOUNT_IDS": json.dumps([NEW_YORK, LONDON])}
    meltano("run", "tap-rokt", "target-jsonl", env=later)
    for report in ("campaigns/", "transactions"):
        asked = collections.defaultdict(list)
        for call in rokt.calls(rf"^/v1/query/accounts/[^/]+/{report}$", "POST"):
            asked[call.path.split("/")[4]].append((call.json()["startDate"], call.json()["endDate"], call.status))
        assert dict(asked) == {NEW_YORK: [("2025-03-03", "2025-03-08", 200)], LONDON: [("2025-03-03", "2025-03-08", 200)]}, report
    assert not rokt.calls(rf"/accounts/{SYDNEY}")
    state = json.loads(meltano("state", "get", "dev:tap-rokt-to-target-jsonl").stdout)["singer_state"]
    bookmarks = {p["context"]["account_id"]: p.get("replication_key_value") for p in state["bookmarks"]["campaign_report"]["partitions"]}
    assert bookmarks == {NEW_YORK: "2025-03-07T00:00:00Z", LONDON: "2025-03-07T00:00:00Z", SYDNEY: None}


# ====================================================================== AdRoll: advertisables

ADROLL_REPORT = r"^/api/v1/report/(?P<kind>ad|campaign|advertisable)$"
Requests = list[tuple[str, tuple[str, ...]]]  # report requests: (day, the advertisables asked for it)


@pytest.fixture(scope="module")
def adroll() -> t.Iterator[AdRollEmulator]:
    with AdRollEmulator() as emulator:
        yield emulator


def adroll_config(emulator: AdRollEmulator, end: str, eids: list[str] | None, **more: t.Any) -> dict:
    config = {
        "api_url": emulator.url,
        "api_key": emulator.client_id,
        "personal_access_token": emulator.personal_access_token,
        "start_date": START,
        "end_date": end,
        "lookback_window_days": LOOKBACK,
        **more,
    }
    if eids is not None:
        config["advertisable_eids"] = eids
    return config


@pytest.fixture(scope="module")
def adroll_catalog(adroll: AdRollEmulator) -> dict:
    return discover("tap-adroll", adroll_config(adroll, "2025-03-02", None))


def adroll_days(emulator: AdRollEmulator, *, refusals: bool = False) -> dict[str, Requests]:
    """Per report kind, each answered request: (its day, the advertisables it asked for), sorted by day; with
    ``refusals``, requests refused (403) are passed over instead of failing the test."""
    asked = collections.defaultdict(list)
    for call in emulator.calls(ADROLL_REPORT, "GET"):
        if refusals and call.status == 403:
            continue
        assert call.status == 200, call
        start, end = (dt.datetime.strptime(call.query[name][0], "%m-%d-%Y").date().isoformat() for name in ("start_date", "end_date"))
        assert start == end, call  # one day per request
        asked[re.match(ADROLL_REPORT, call.path)["kind"]].append((start, tuple(sorted(call.query["advertisables"][0].split(",")))))
    return {kind: sorted(requests) for kind, requests in asked.items()}


def schedule(*spans: tuple[str, str, list[str]]) -> Requests:
    """The requests expected: for each (first, end, advertisables), one per day."""
    return [(d, tuple(sorted(eids))) for first, end, eids in spans for d in days(first, end)]


def assert_adroll_rows(run: TapRun, emulator: AdRollEmulator, requests: Requests, streams: t.Iterable[str]) -> None:
    """Each report stream's rows are exactly the truth of each day for the advertisables asked that day."""
    for stream in streams:
        truth = {}
        for d, eids in requests:
            for row in emulator.truth_report(ADROLL_KINDS[stream], dt.date.fromisoformat(d), eids):
                truth[(row["eid"], f"{d}T00:00:00+00:00")] = row
        rows = run.records(stream)
        got = {(r["eid"], r["date"]): r for r in rows}
        assert len(got) == len(rows) == len(truth), stream
        assert got.keys() == truth.keys(), stream
        for key, want in truth.items():
            counts = ("impressions", "clicks", "prospects")
            assert {f: got[key][f] for f in counts} == {f: want[f] for f in counts}, (stream, key)
            assert Decimal(str(got[key]["cost"])) == Decimal(str(want["cost"])), (stream, key)
        assert sum(Decimal(str(r["cost"])) for r in rows) == sum(Decimal(str(r["cost"])) for r in truth.values())


def adroll_bookmarks(state: dict, stream: str) -> dict[str, str]:
    partitions = state["bookmarks"][stream].get("partitions", [])
    return {p["context"]["advertisable_eid"]: p["replication_key_value"] for p in partitions if "advertisable_eid" in p["context"]}


def adroll_run(emulator: AdRollEmulator, catalog: dict, end: str, eids: list[str] | None, state: dict | None, label: str) -> TapRun:
    emulator.reset()
    run = run_tap("tap-adroll", adroll_config(emulator, end, eids), state=state, catalog=catalog)
    requests = adroll_days(emulator, refusals=True).get("advertisable", [])
    per_advertisable = collections.defaultdict(list)
    for d, asked in requests:
        for eid in asked:
            per_advertisable[eid].append(d)
    for eid, seen in per_advertisable.items():
        DAYS_SEEN[f"tap-adroll {label}"].append(f"advertisable {eid}: {seen[0]}..{seen[-1]} ({len(seen)} days)")
    return run


def test_adroll_an_advertisable_added_later_removed_and_back(adroll, adroll_catalog):
    catalog = select(adroll_catalog, ADROLL_KINDS)
    first_eid, added = adroll.advertisable_eids()[:2]

    def expect(run: TapRun, *spans: tuple[str, str, list[str]], bookmarks: dict[str, str]) -> None:
        ok(run)
        requests = schedule(*spans)
        # Each day once per report stream, asking exactly the advertisables that needed it.
        assert adroll_days(adroll) == dict.fromkeys(("ad", "campaign", "advertisable"), sorted(requests))
        assert_adroll_rows(run, adroll, requests, ADROLL_KINDS)
        for stream in ADROLL_KINDS:
            assert adroll_bookmarks(run.state, stream) == {eid: f"{d}T00:00:00+00:00" for eid, d in bookmarks.items()}, stream

    first = adroll_run(adroll, catalog, "2025-03-06", [first_eid], None, "run 1")
    expect(first, ("2025-03-01", "2025-03-06", [first_eid]), bookmarks={first_eid: "2025-03-05"})

    # The added advertisable alone on 1-2 March (before the first one's lookback), both on 3-7 March.
    second = adroll_run(adroll, catalog, "2025-03-08", [first_eid, added], first.state, "run 2")
    expect(
        second,
        ("2025-03-01", "2025-03-03", [added]),
        ("2025-03-03", "2025-03-08", [first_eid, added]),
        bookmarks={first_eid: "2025-03-07", added: "2025-03-07"},
    )

    third = adroll_run(adroll, catalog, "2025-03-10", [added], second.state, "run 3")
    expect(third, ("2025-03-05", "2025-03-10", [added]), bookmarks={first_eid: "2025-03-07", added: "2025-03-09"})

    # Back: from its own bookmark (7 March) minus the lookback; the other from 9 March minus the lookback.
    fourth = adroll_run(adroll, catalog, "2025-03-12", [first_eid, added], third.state, "run 4")
    expect(
        fourth,
        ("2025-03-05", "2025-03-07", [first_eid]),
        ("2025-03-07", "2025-03-12", [first_eid, added]),
        bookmarks={first_eid: "2025-03-11", added: "2025-03-11"},
    )
    print("\n" + "\n".join(f"{run}: {line}" for run, lines in DAYS_SEEN.items() if run.startswith("tap-adroll") for line in lines))


def test_adroll_state_of_the_previous_release_is_read(adroll, adroll_catalog):
    """One bookmark per organization (the previous release) stands for every advertisable of the first run."""
    catalog = select(adroll_catalog, ADROLL_KINDS)
    one, two, three = adroll.advertisable_eids()[:3]
    organization = {"context": {"organization_eid": adroll.organization["eid"]}, "replication_key": "date"}
    state = {
        "bookmarks": {
            stream: {"partitions": [{**organization, "replication_key_value": "2025-03-05T00:00:00+00:00"}]} for stream in ADROLL_KINDS
        }
    }
    run = ok(adroll_run(adroll, catalog, "2025-03-08", [one, two], state, "upgrade"))
    requests = schedule(("2025-03-03", "2025-03-08", [one, two]))
    assert adroll_days(adroll) == dict.fromkeys(("ad", "campaign", "advertisable"), requests)
    assert_adroll_rows(run, adroll, requests, ADROLL_KINDS)
    for stream in ADROLL_KINDS:
        assert adroll_bookmarks(run.state, stream) == dict.fromkeys((one, two), "2025-03-07T00:00:00+00:00")

    # From then on the advertisables' own bookmarks rule: one added now gets its whole history.
    later = ok(adroll_run(adroll, catalog, "2025-03-09", [one, two, three], run.state, "upgrade, then one added"))
    requests = schedule(("2025-03-01", "2025-03-05", [three]), ("2025-03-05", "2025-03-09", [one, two, three]))
    assert adroll_days(adroll) == dict.fromkeys(("ad", "campaign", "advertisable"), requests)
    assert_adroll_rows(later, adroll, requests, ADROLL_KINDS)


def test_adroll_a_forbidden_advertisable_is_set_aside_and_every_other_one_completes(adroll, adroll_catalog):
    listings = ("campaigns", "ad_groups", "ads", "segments")
    catalog = select(adroll_catalog, ("advertisables", *listings, *ADROLL_KINDS))
    eids = adroll.advertisable_eids()[:3]
    forbidden = eids[1]
    adroll.forbidden_advertisables.add(forbidden)
    try:
        run = adroll_run(adroll, catalog, "2025-03-04", None, None, "partial access")
    finally:
        adroll.forbidden_advertisables.clear()
    every = adroll.advertisable_eids()
    others = [eid for eid in every if eid != forbidden]
    assert run.returncode == 1, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    summary = message(last_line(run))
    print(f"\ntap-adroll partial access, last line: {summary}")
    match = SUMMARY.fullmatch(summary)
    assert match, summary
    assert match["settings"] == "advertisable_eids"
    refusal = f"403 Forbidden: You do not have access to advertisable '{forbidden}'"
    reason = f"AdRoll API GET /api/v1/advertisable/get_{{}} failed: {refusal}"
    paths = {"campaigns": "campaigns", "ad_groups": "adgroups", "ads": "ads", "segments": "segments"}
    # Listed in the order the streams met the refusal: the SDK syncs ad_report first, whose first day, refused
    # whole, is asked again in halves until the advertisable refused is found; then each listing.
    first = f"advertisable {forbidden} in ad_report (AdRoll API GET /api/v1/report/ad for day 03-01-2025 failed: {refusal})"
    listed = [first] + [f"advertisable {forbidden} in {stream} ({reason.format(paths[stream])})" for stream in listings]
    assert match["listed"].split("; ") == listed
    assert match["count"] == str(len(listed))

    # Every other advertisable: its listings exact, its report days exact and bookmarked; the forbidden one none.
    for stream, truth in (("campaigns", adroll.campaigns), ("ads", adroll.ads), ("segments", adroll.segments)):
        got = sorted((r["advertisable_eid"], r["eid"]) for r in run.records(stream))
        assert got == sorted((eid, row["eid"]) for eid in others for row in truth(eid)), stream
    # Every report stream leaves the advertisable out, whichever stream the SDK syncs first.
    requests = schedule(("2025-03-01", "2025-03-04", others))
    asked = adroll_days(adroll, refusals=True)
    for stream in ADROLL_KINDS:
        answered = {(d, eid) for d, eids in asked[ADROLL_KINDS[stream]] for eid in eids}
        assert answered == {(d, eid) for d, eids in requests for eid in eids}, stream  # never the refused one
        if stream != "ad_report":  # the streams after the one that found it leave it out from the start
            assert asked[ADROLL_KINDS[stream]] == requests, stream
        assert_adroll_rows(run, adroll, asked[ADROLL_KINDS[stream]], [stream])
        assert adroll_bookmarks(run.state, stream) == dict.fromkeys(others, "2025-03-03T00:00:00+00:00"), stream
    refused = [call for call in adroll.calls(ADROLL_REPORT, "GET") if call.status == 403]
    assert {call.path for call in refused} == {"/api/v1/report/ad"}


# ====================================================================== MediaMath: advertisers

MEDIAMATH_REPORT = r"^/reporting/v2/performance$"


@pytest.fixture(scope="module")
def mediamath() -> t.Iterator[MediaMathEmulator]:
    with MediaMathEmulator() as emulator:
        yield emulator


def mediamath_config(emulator: MediaMathEmulator, end: str, advertisers: list[int] | None) -> dict:
    config = {
        **emulator.credentials,
        "organization_id": ORG,
        "api_url": f"{emulator.url}/reporting/v2",
        "auth_url": f"{emulator.url}/oauth/token",
        "start_date": START,
        "end_date": end,
        "lookback_window_days": LOOKBACK,
    }
    if advertisers is not None:
        config["advertiser_ids"] = advertisers
    return config


def mediamath_windows(emulator: MediaMathEmulator) -> dict[int | None, list[tuple[str, str]]]:
    """Per advertiser filter (None: the organization alone), the windows queried: (first day, end day exclusive)."""
    asked = collections.defaultdict(list)
    for call in emulator.calls(MEDIAMATH_REPORT, "POST"):
        assert call.status == 200, call
        body = call.json()
        filters = {f["field"]: f["value"] for f in body["filters"]}
        assert filters.pop("organization_id") == ORG
        asked[filters.pop("advertiser_id", None)].append((body["start_time"][:10], body["end_time"][:10]))
        assert not filters
    return {advertiser: sorted(windows) for advertiser, windows in asked.items()}


def assert_mediamath_rows(run: TapRun, emulator: MediaMathEmulator, advertiser: int | None, first: str, end: str) -> None:
    """The advertiser's (or the organization's) performance rows are exactly the strategy-days of ``first`` to ``end``."""
    rows = [r for r in run.records("performance") if advertiser is None or r["advertiser_id"] == advertiser]
    facts = emulator.facts(ORG, dt.date.fromisoformat(first), dt.date.fromisoformat(end))
    truth = {(f["strategy_id"], f["day"].isoformat()): f for f in facts if advertiser is None or f["advertiser_id"] == advertiser}
    got = {(r["strategy_id"], r["agg_timestamp"][:10]): r for r in rows}
    assert len(got) == len(rows) == len(truth), (advertiser, len(rows), len(truth))
    assert got.keys() == truth.keys()
    for key, fact in truth.items():
        assert got[key]["impressions"] == fact["impressions"]
        assert Decimal(str(got[key]["total_spend"])) * 100 == fact["spend"]
    assert sum(Decimal(str(r["total_spend"])) * 100 for r in rows) == sum(f["spend"] for f in truth.values())


def mediamath_bookmarks(state: dict) -> dict[int | None, str | None]:
    partitions = state["bookmarks"]["performance"]["partitions"]
    return {p["context"].get("advertiser_id"): p.get("replication_key_value") for p in partitions}


def mediamath_run(emulator: MediaMathEmulator, end: str, advertisers: list[int] | None, state: dict | None, label: str) -> TapRun:
    emulator.reset()
    run = run_tap("tap-mediamath", mediamath_config(emulator, end, advertisers), state=state)
    for advertiser, windows in mediamath_windows(emulator).items():
        who = f"advertiser {advertiser}" if advertiser else f"organization {ORG}"
        DAYS_SEEN[f"tap-mediamath {label}"].append(f"{who}: " + ", ".join(f"{a}..{day(b, -1)}" for a, b in windows))
    return run


def stamp(d: str) -> str:
    return f"{d}T00:00:00Z"


def test_mediamath_an_advertiser_added_later_removed_and_back(mediamath):
    first = ok(mediamath_run(mediamath, "2025-03-06", [ADVERTISER], None, "run 1"))
    assert mediamath_windows(mediamath) == {ADVERTISER: [("2025-03-01", "2025-03-06")]}
    assert_mediamath_rows(first, mediamath, ADVERTISER, "2025-03-01", "2025-03-06")
    assert mediamath_bookmarks(first.state) == {ADVERTISER: stamp("2025-03-05")}

    second = ok(mediamath_run(mediamath, "2025-03-08", [ADVERTISER, OTHER_ADVERTISER], first.state, "run 2"))
    assert mediamath_windows(mediamath) == {ADVERTISER: [("2025-03-03", "2025-03-08")], OTHER_ADVERTISER: [("2025-03-01", "2025-03-08")]}
    assert_mediamath_rows(second, mediamath, ADVERTISER, "2025-03-03", "2025-03-08")
    assert_mediamath_rows(second, mediamath, OTHER_ADVERTISER, "2025-03-01", "2025-03-08")
    assert mediamath_bookmarks(second.state) == {ADVERTISER: stamp("2025-03-07"), OTHER_ADVERTISER: stamp("2025-03-07")}

    third = ok(mediamath_run(mediamath, "2025-03-10", [OTHER_ADVERTISER], second.state, "run 3"))
    assert mediamath_windows(mediamath) == {OTHER_ADVERTISER: [("2025-03-05", "2025-03-10")]}
    assert_mediamath_rows(third, mediamath, OTHER_ADVERTISER, "2025-03-05", "2025-03-10")
    assert mediamath_bookmarks(third.state) == {ADVERTISER: stamp("2025-03-07"), OTHER_ADVERTISER: stamp("2025-03-09")}

    fourth = ok(mediamath_run(mediamath, "2025-03-12", [ADVERTISER, OTHER_ADVERTISER], third.state, "run 4"))
    assert mediamath_windows(mediamath) == {ADVERTISER: [("2025-03-05", "2025-03-12")], OTHER_ADVERTISER: [("2025-03-07", "2025-03-12")]}
    assert_mediamath_rows(fourth, mediamath, ADVERTISER, "2025-03-05", "2025-03-12")
    assert_mediamath_rows(fourth, mediamath, OTHER_ADVERTISER, "2025-03-07", "2025-03-12")
    assert mediamath_bookmarks(fourth.state) == {ADVERTISER: stamp("2025-03-11"), OTHER_ADVERTISER: stamp("2025-03-11")}
    print("\n" + "\n".join(f"{run}: {line}" for run, lines in DAYS_SEEN.items() if run.startswith("tap-mediamath") for line in lines))


def test_mediamath_state_of_the_previous_release_is_read(mediamath):
    """One bookmark per organization (the previous release) stands for every advertiser of the first run that reads it."""
    state = {
        "bookmarks": {
            "performance": {
                "partitions": [
                    {"context": {"organization_id": ORG}, "replication_key": "agg_timestamp", "replication_key_value": stamp("2025-03-05")}
                ]
            }
        }
    }
    run = ok(mediamath_run(mediamath, "2025-03-08", [ADVERTISER, OTHER_ADVERTISER], state, "upgrade"))
    assert mediamath_windows(mediamath) == {ADVERTISER: [("2025-03-03", "2025-03-08")], OTHER_ADVERTISER: [("2025-03-03", "2025-03-08")]}
    assert_mediamath_rows(run, mediamath, ADVERTISER, "2025-03-03", "2025-03-08")
    assert_mediamath_rows(run, mediamath, OTHER_ADVERTISER, "2025-03-03", "2025-03-08")
    bookmarks = mediamath_bookmarks(run.state)
    assert {k: v for k, v in bookmarks.items() if k is not None} == {ADVERTISER: stamp("2025-03-07"), OTHER_ADVERTISER: stamp("2025-03-07")}


def test_mediamath_state_of_the_previous_release_still_serves_a_run_without_advertiser_ids(mediamath):
    state = {
        "bookmarks": {
            "performance": {
                "partitions": [
                    {"context": {"organization_id": ORG}, "replication_key": "agg_timestamp", "replication_key_value": stamp("2025-03-05")}
                ]
            }
        }
    }
    whole = ok(mediamath_run(mediamath, "2025-03-08", None, state, "upgrade, no advertiser_ids"))
    assert mediamath_windows(mediamath) == {None: [("2025-03-03", "2025-03-08")]}
    assert_mediamath_rows(whole, mediamath, None, "2025-03-03", "2025-03-08")
    assert mediamath_bookmarks(whole.state) == {None: stamp("2025-03-07")}


def test_mediamath_an_advertiser_without_rows_warns_and_is_bookmarked(mediamath):
    empty = ok(mediamath_run(mediamath, "2025-03-06", [NO_SUCH_ADVERTISER], None, "advertiser without rows"))
    assert empty.records() == []
    warnings = lines_of(empty.stderr, "WARNING")
    assert warnings == [
        (
            f"performance: advertiser_ids entry {NO_SUCH_ADVERTISER} has no rows in report days 2025-03-01..2025-03-05: "
            f"check that it is an advertiser of organization {ORG}"
        )
    ]
    assert mediamath_windows(mediamath) == {NO_SUCH_ADVERTISER: [("2025-03-01", "2025-03-06")]}
    assert mediamath_bookmarks(empty.state) == {NO_SUCH_ADVERTISER: stamp("2025-03-05")}


def test_mediamath_an_advertiser_id_corrected_after_a_run_without_rows_gets_its_whole_history(mediamath):
    empty = ok(mediamath_run(mediamath, "2025-03-06", [NO_SUCH_ADVERTISER], None, "advertiser without rows"))
    # The id corrected: the real advertiser has never been extracted, so its whole history comes.
    corrected = ok(mediamath_run(mediamath, "2025-03-06", [ADVERTISER], empty.state, "advertiser id corrected"))
    assert mediamath_windows(mediamath) == {ADVERTISER: [("2025-03-01", "2025-03-06")]}
    assert_mediamath_rows(corrected, mediamath, ADVERTISER, "2025-03-01", "2025-03-06")
    assert mediamath_bookmarks(corrected.state)[ADVERTISER] == stamp("2025-03-05")
