"""The Rokt emulator's reports agree with its raw facts, whatever the grouping, interval or timezone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from emulators.facts import convert_cents
from emulators.rokt import ACCOUNTS, RoktEmulator

ACCOUNT = ACCOUNTS[1]  # AUD, Australia/Sydney


def _raw_cents(emulator: RoktEmulator, start: dt.date, end: dt.date, zone: ZoneInfo) -> int:
    """Sum of gross_cost over the finest-grain hourly facts whose local hour falls in [start, end)."""
    total = 0
    day = start - dt.timedelta(days=1)
    while day <= end:
        for hour, cells in enumerate(emulator._hourly(ACCOUNT.account_id, "campaigns", day)):
            local = dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC).astimezone(zone).date()
            if start <= local < end:
                total += sum(facts["gross_cost"] for _, facts in cells)
        day += dt.timedelta(days=1)
    return total


@pytest.mark.parametrize("timezone", ["Australia/Sydney", "America/New_York", "UTC"])
@pytest.mark.parametrize(
    ("interval", "dimensions"), [("day", []), ("week", ["device"]), ("month", ["campaign_id", "age_range"]), (None, ["creative_id"])]
)
def test_report_totals_equal_raw_facts(timezone, interval, dimensions):
    emulator = RoktEmulator()
    body = {
        "startDate": "2025-02-20",
        "endDate": "2025-03-10",
        "metrics": ["gross_cost"],
        "dimensions": dimensions,
        "timezoneVariation": timezone,
        "currencyCode": "AUD",
    }
    if interval:
        body["interval"] = interval
    rows = emulator.report(ACCOUNT.account_id, "campaigns", body)
    raw = _raw_cents(emulator, dt.date(2025, 2, 20), dt.date(2025, 3, 10), ZoneInfo(timezone))
    assert round(sum(row["gross_cost"] for row in rows) * 100) == raw
    assert len({tuple(row.get(k) for k in ["datetime", *dimensions]) for row in rows}) == len(rows)


def test_currency_conversion_is_exact():
    emulator = RoktEmulator()
    body = {"startDate": "2025-03-01", "endDate": "2025-03-02", "metrics": ["gross_cost"]}
    aud = emulator.report(ACCOUNT.account_id, "campaigns", {**body, "currencyCode": "AUD"})[0]["gross_cost"]
    usd = emulator.report(ACCOUNT.account_id, "campaigns", {**body, "currencyCode": "USD"})[0]["gross_cost"]
    assert round(usd * 100) == convert_cents(round(aud * 100), "AUD", "USD")


def test_limit_cuts_the_answer_silently():
    emulator = RoktEmulator()
    body = {
        "startDate": "2025-03-01",
        "endDate": "2025-03-05",
        "interval": "day",
        "metrics": ["impressions"],
        "dimensions": ["campaign_id"],
    }
    assert len(emulator.report(ACCOUNT.account_id, "campaigns", body)) == 12
    assert len(emulator.report(ACCOUNT.account_id, "campaigns", {**body, "limit": 5})) == 5


def test_account_endpoints_answer_as_documented():
    import requests

    from emulators.rokt import FORBIDDEN_ACCOUNT

    with RoktEmulator() as emulator:
        session = requests.Session()
        assert session.get(f"{emulator.url}/v1/query/accounts").status_code == 401
        token = session.post(
            f"{emulator.url}/auth/oauth2/token", auth=("demo-app-id", "demo-app-secret"), data={"grant_type": "client_credentials"}
        ).json()
        assert token["token_type"] == "Bearer" and token["expires_in"] == 3600
        session.headers["Authorization"] = f"Bearer {token['access_token']}"
        assert len(session.get(f"{emulator.url}/v1/query/accounts").json()) == 3
        assert session.get(f"{emulator.url}/v1/query/accounts/{ACCOUNT.account_id}").json()["accountCurrencyCode"] == "AUD"
        assert session.get(f"{emulator.url}/v1/query/accounts/{FORBIDDEN_ACCOUNT}").status_code == 403
        assert session.get(f"{emulator.url}/v1/query/accounts/404").status_code == 404
        bad = session.post(
            f"{emulator.url}/v1/query/accounts/{ACCOUNT.account_id}/campaigns/",
            json={"startDate": "2025-03-02", "endDate": "2025-03-01", "metrics": ["impressions"]},
        )
        assert bad.status_code == 400 and "endDate" in bad.json()["message"]
        assert (
            session.post(
                f"{emulator.url}/auth/oauth2/token", auth=("demo-app-id", "nope"), data={"grant_type": "client_credentials"}
            ).status_code
            == 401
        )
