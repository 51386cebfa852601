"""The emulators' latency and scale settings: every API request waits the latency (control requests do not, and
waiting requests do not hold up each other); a universe of 20 accounts has exact, reproducible ground truth;
the default universe is exactly today's (the other tests' ground truth rests on it)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from emulators.adroll import AdRollEmulator
from emulators.mediamath import MediaMathEmulator
from emulators.rokt import ACCOUNTS, RoktEmulator

ROOT = Path(__file__).resolve().parents[1]
DAY = dt.date(2025, 3, 1)

# The token endpoint of each emulator: latency applies to authentication too.
TOKEN_PATHS = {RoktEmulator: "/auth/oauth2/token", AdRollEmulator: "/auth/token", MediaMathEmulator: "/oauth/token"}


def _timed(method: str, url: str, **kwargs) -> tuple[requests.Response, float]:
    started = time.perf_counter()
    answer = requests.request(method, url, timeout=10, **kwargs)
    return answer, time.perf_counter() - started


# --------------------------------------------------------------------------- latency


@pytest.mark.parametrize("emulator_class", list(TOKEN_PATHS), ids=lambda c: c.name)
def test_latency_delays_api_requests_but_not_control_requests(emulator_class):
    with emulator_class(latency_ms=200) as emulator:
        token, token_s = _timed("POST", emulator.url + TOKEN_PATHS[emulator_class], data={"grant_type": "nope"})
        unknown, unknown_s = _timed("GET", emulator.url + "/no/such/path")
        control, control_s = _timed("GET", emulator.url + "/_emulator/requests")
    assert token.status_code in (400, 401, 403) and unknown.status_code == 404
    assert 0.2 <= token_s < 0.45 and 0.2 <= unknown_s < 0.45
    assert control.status_code == 200 and len(control.json()) == 2 and control_s < 0.15


def test_waiting_requests_do_not_block_each_other():
    with RoktEmulator(latency_ms=300) as emulator:
        durations: list[float] = []
        threads = [
            threading.Thread(target=lambda: durations.append(_timed("GET", emulator.url + "/v1/query/accounts")[1]))
            for _ in range(6)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        assert len(emulator.calls("/v1/query/accounts")) == 6
    assert len(durations) == 6 and min(durations) >= 0.3
    assert wall < 0.9  # six requests one after another would take 1.8 s


def test_jitter_is_uniform_within_its_bounds_and_reproducible():
    first = [RoktEmulator(latency_ms=50, latency_jitter_ms=100).delay_seconds() for _ in range(1)]
    emulator = RoktEmulator(latency_ms=50, latency_jitter_ms=100)
    delays = [emulator.delay_seconds() for _ in range(2000)]
    assert delays[0] == first[0]  # seeded: the same sequence in every process
    assert 0.05 <= min(delays) < 0.055 and 0.145 < max(delays) <= 0.15
    assert 0.095 < sum(delays) / len(delays) < 0.105
    assert RoktEmulator(latency_ms=80).delay_seconds() == 0.08
    with pytest.raises(ValueError, match="latency"):
        RoktEmulator(latency_ms=-1)


# --------------------------------------------------------------------------- the default universe


def test_default_universe_is_unchanged():
    rokt = RoktEmulator()
    assert tuple(rokt.accounts.values()) == ACCOUNTS
    rows = []
    for account in rokt.accounts.values():
        for report, dimensions in (("campaigns", ["campaign_id"]), ("transactions", [])):
            body = {"startDate": "2025-03-01", "endDate": "2025-03-08", "interval": "day", "metrics": ["impressions"],
                    "dimensions": dimensions, "timezoneVariation": account.timezone, "currencyCode": account.currency}
            rows += rokt.report(account.account_id, report, body)
    assert (len(rows), sum(row["impressions"] for row in rows)) == (63, 439835.0)

    adroll = AdRollEmulator()
    eids = adroll.advertisable_eids()
    assert (len(eids), sum(len(adroll.campaigns(e)) for e in eids), sum(len(adroll.ads(e)) for e in eids)) == (4, 17, 50)
    ads = adroll.truth_report("ad", DAY, end_day=dt.date(2025, 3, 7))
    assert (len(ads), sum(r["impressions"] for r in ads), round(sum(r["cost"] for r in ads), 2)) == (50, 6134236, 99304.49)
    assert [a["eid"] for a in AdRollEmulator(accounts=4).advertisables] == eids

    mediamath = MediaMathEmulator()
    week = (dt.date(2025, 3, 1), dt.date(2025, 3, 8))
    assert (len(mediamath.strategies), len(mediamath.campaign_currency)) == (48, 16)
    assert mediamath.strategy_day_count(100001, *week) == 156
    assert sum(mediamath.spend_by_campaign_day(100001, *week).values()) == Decimal("25875.74")
    assert [s.attrs for s in MediaMathEmulator(accounts=4).strategies] == [s.attrs for s in mediamath.strategies]


# --------------------------------------------------------------------------- 20 accounts


def test_rokt_at_20_accounts():
    emulator = RoktEmulator(accounts=20)
    accounts = list(emulator.accounts.values())
    assert tuple(accounts[:3]) == ACCOUNTS and len({a.account_id for a in accounts}) == 20
    assert sum(a.campaigns for a in accounts) == 40
    assert sum(a.campaigns == 0 for a in accounts) == 4  # accounts without campaign data
    assert sum(a.transactions for a in accounts) == 14
    assert (len({a.timezone for a in accounts}), len({a.currency for a in accounts})) == (10, 7)
    rows = []
    for account in accounts:
        body = {"startDate": "2025-03-01", "endDate": "2025-03-02", "interval": "day", "metrics": ["impressions"],
                "dimensions": ["campaign_id"], "timezoneVariation": account.timezone, "currencyCode": account.currency}
        rows += emulator.report(account.account_id, "campaigns", body)
    assert (len(rows), sum(row["impressions"] for row in rows)) == (40, 227436.0)
    with emulator:
        basic = base64.b64encode(b"demo-app-id:demo-app-secret").decode()
        token = requests.post(f"{emulator.url}/auth/oauth2/token", headers={"Authorization": f"Basic {basic}"},
                              data={"grant_type": "client_credentials"}, timeout=10).json()["access_token"]
        listed = requests.get(f"{emulator.url}/v1/query/accounts", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert [a["accountId"] for a in listed.json()] == [a.account_id for a in accounts]


def test_adroll_at_20_advertisables():
    emulator = AdRollEmulator(accounts=20)
    eids = emulator.advertisable_eids()
    assert eids[:4] == AdRollEmulator().advertisable_eids() and len(set(eids)) == 20
    assert sum(len(emulator.campaigns(e, None)) for e in eids) == 67
    assert sum(not emulator.campaigns(e, None) for e in eids) == 4  # advertisables without data
    assert sum(len(emulator.ads(e, None)) for e in eids) == 219
    truth = emulator.truth_report("ad", DAY)
    assert (len(truth), sum(r["impressions"] for r in truth)) == (190, 3608115)
    assert AdRollEmulator(advertisables=20).advertisable_eids() == eids  # the older parameter, same universe
    with emulator:
        day = DAY.strftime("%m-%d-%Y")
        answer = requests.get(f"{emulator.url}/api/v1/report/ad", timeout=10, headers={"Authorization": "Token demo-personal-access-token"},
                              params={"apikey": "demo-client-id", "data_format": "entity", "start_date": day, "end_date": day})
    assert answer.json()["results"] == truth


def test_mediamath_at_20_advertisers():
    emulator = MediaMathEmulator(accounts=20)
    ours = [s for s in emulator.strategies if s.org_id == 100001]
    default = [s.attrs for s in MediaMathEmulator().strategies if s.org_id == 100001]
    assert [s.attrs for s in ours[: len(default)]] == default
    assert (len(emulator.strategies), len(ours)) == (198, 99)
    assert len({s.sid for s in emulator.strategies}) == 198 and len(emulator.campaign_currency) == 66
    assert len({s.attrs["advertiser_id"] for s in ours}) == 17  # of 20: three have no campaign, so no data
    assert (len({s.zone for s in ours}), len({s.currency for s in ours})) == (8, 7)
    assert emulator.strategy_day_count(100001, DAY, DAY + dt.timedelta(days=1)) == 91
    assert sum(emulator.spend_by_campaign_day(100001, DAY, DAY + dt.timedelta(days=1)).values()) == Decimal("14431.75")
    assert len(MediaMathEmulator(accounts=1).strategies) == 12  # one advertiser in each of the two organizations
    with emulator:
        grant = {"grant_type": "password", "username": "demo@example.com", "password": "demo-password",
                 "client_id": "demo-client-id", "client_secret": "demo-client-secret", "audience": "https://api.mediamath.com/"}
        token = requests.post(f"{emulator.url}/oauth/token", json=grant, timeout=10).json()["access_token"]
        body = {"fields": ["strategy_id", "total_spend"], "rollup": "by_day", "filters": [{"field": "organization_id", "value": 100001}],
                "start_time": "2025-03-01T00:00:00Z", "end_time": "2025-03-02T00:00:00Z", "pagination": {"page_size": 1000}}
        page = requests.post(f"{emulator.url}/reporting/v2/performance", json=body, timeout=10,
                             headers={"Authorization": f"Bearer {token}"}).json()
    assert page["meta"]["total_items_count"] == 91


# --------------------------------------------------------------------------- the command line


def test_command_line_applies_latency_and_scale_to_every_provider(tmp_path):
    urls_file = tmp_path / "urls.json"
    command = [sys.executable, "-m", "emulators", "--latency-ms", "150", "--jitter-ms", "20", "--accounts", "20",
               "--option", "adroll.accounts=2", "--urls-file", str(urls_file)]
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        urls = json.loads(server.stdout.readline())
        assert json.loads(urls_file.read_text()) == urls and set(urls) == {"rokt", "adroll", "mediamath"}
        basic = base64.b64encode(b"demo-app-id:demo-app-secret").decode()
        token, token_s = _timed("POST", urls["rokt"] + "/auth/oauth2/token", headers={"Authorization": f"Basic {basic}"},
                                data={"grant_type": "client_credentials"})
        listed, listed_s = _timed("GET", urls["rokt"] + "/v1/query/accounts",
                                  headers={"Authorization": f"Bearer {token.json()['access_token']}"})
        advertisables, adroll_s = _timed("GET", urls["adroll"] + "/api/v1/organization/get_advertisables",
                                         params={"apikey": "demo-client-id"},
                                         headers={"Authorization": "Token demo-personal-access-token"})
        _, mediamath_s = _timed("GET", urls["mediamath"] + "/no/such/path")
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert len(listed.json()) == 20 and len(advertisables.json()["results"]) == 2  # --option wins for its provider
    for seconds in (token_s, listed_s, adroll_s, mediamath_s):
        assert 0.15 <= seconds < 0.45
