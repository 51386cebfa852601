"""Constants and ground-truth helpers of the tap-rokt tests (a uniquely named module: the three taps' test
suites never shadow each other's helpers)."""

from __future__ import annotations

import collections
import datetime as dt

from emulators.rokt import ACCOUNTS, RoktEmulator

# Distinctive credentials, so that the tests can look for them in every output.
APP_ID = "rokt-app-id-7f3a91"
APP_SECRET = "rokt-secret-Zq8XwP2mV5nL"
START, END = "2025-03-01", "2025-03-11"  # ten report days
ACCOUNT_IDS = [account.account_id for account in ACCOUNTS]


def report_rows(
    emulator: RoktEmulator,
    account_id: str,
    report: str,
    *,
    start: str,
    end: str,
    metrics: list[str] | None = None,
    dimensions: tuple[str, ...] = (),
    interval: str = "day",
    timezone: str | None = None,
    currency: str | None = None,
    filters: dict | None = None,
) -> list[dict]:
    account = emulator.accounts[account_id]
    help_metrics = [m["slug"] for m in emulator.help(report, account)["metrics"]]
    body = {
        "startDate": start,
        "endDate": end,
        "interval": interval,
        "metrics": metrics or help_metrics,
        "dimensions": list(dimensions),
        "timezoneVariation": timezone or account.timezone,
        "currencyCode": currency or account.currency,
        "dimensionFilters": filters or {},
    }
    return emulator.report(account_id, report, body)


def by_key(rows: list[dict], keys: tuple[str, ...]) -> dict[tuple, dict]:
    """Rows keyed by primary key; fails on a duplicate key."""
    keyed: dict[tuple, dict] = {}
    for row in rows:
        key = tuple(row[k] for k in keys)
        assert key not in keyed, f"duplicate key {key}"
        keyed[key] = row
    return keyed


def daily_sums(rows: list[dict], metric: str) -> dict[str, float]:
    sums: dict[str, float] = collections.defaultdict(float)
    for row in rows:
        sums[row["datetime"][:10]] += row[metric] or 0
    return {day: round(value, 2) for day, value in sums.items()}


def days(start: str, end: str) -> list[str]:
    first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    return [(first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days)]
