"""What the benchmark extracts from each tap: a large deterministic dataset, settings, report streams."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

from emulators.server import Emulator


@dataclasses.dataclass(frozen=True)
class BenchStream:
    name: str
    days: int  # report days extracted, for requests per day


@dataclasses.dataclass(frozen=True)
class BenchProfile:
    tap: str
    provider: str  # also the baseline's module name in benchmarks/baselines/
    make_emulator: t.Callable[[], Emulator]
    config: t.Callable[[Emulator], dict]
    streams: tuple[BenchStream, ...]


def _rokt() -> BenchProfile:
    from emulators.rokt import ACCOUNTS, RoktEmulator

    start, end = dt.date(2024, 1, 1), dt.date(2025, 1, 1)
    days = (end - start).days
    # The demo accounts, with 12 campaigns each where they run any (the third has no report data).
    accounts = [dataclasses.replace(a, campaigns=12 if a.campaigns else 0) for a in ACCOUNTS]
    detail = {"name": "campaign_detail", "report": "campaigns",
              "dimensions": ["campaign_id", "creative_id", "age_range", "device"]}
    return BenchProfile(
        tap="tap-rokt",
        provider="rokt",
        make_emulator=lambda: RoktEmulator(accounts=accounts, cache_answers=True),
        config=lambda emulator: {
            "api_url": emulator.url, "app_id": emulator.app_id, "app_secret": emulator.app_secret,
            "start_date": start.isoformat(), "end_date": end.isoformat(), "reports": [detail],
        },
        streams=(BenchStream("campaign_report", days), BenchStream("transaction_report", days), BenchStream("campaign_detail", days)),
    )


def _mediamath() -> BenchProfile:
    from emulators.mediamath import MediaMathEmulator

    start, end = dt.date(2025, 1, 1), dt.date(2025, 1, 29)
    lean = {"name": "lean", "dataset": "performance", "fields": ["strategy_id", "impressions", "total_spend"]}
    return BenchProfile(
        tap="tap-mediamath",
        provider="mediamath",
        # One organization of 8 campaigns x 150 strategies: about 31,000 strategy-days.
        make_emulator=lambda: MediaMathEmulator(organizations=((100001, "Benchmark Media"),), strategies_per_campaign=150),
        config=lambda emulator: {
            "api_url": f"{emulator.url}/reporting/v2", "auth_url": f"{emulator.url}/oauth/token",
            "client_id": "demo-client-id", "client_secret": "demo-client-secret", "username": "demo@example.com",
            "password": "demo-password", "organization_id": 100001, "start_date": start.isoformat(),
            "end_date": end.isoformat(), "report_window_days": 7, "reports": [lean],
        },
        streams=(BenchStream("performance", (end - start).days), BenchStream("lean", (end - start).days)),
    )


def _adroll() -> BenchProfile:
    from emulators.adroll import AdRollEmulator

    start, end = dt.date(2025, 1, 1), dt.date(2025, 3, 1)
    days = (end - start).days
    return BenchProfile(
        tap="tap-adroll",
        provider="adroll",
        make_emulator=lambda: AdRollEmulator(advertisables=40),
        config=lambda emulator: {
            "api_url": emulator.url, "api_key": emulator.client_id, "personal_access_token": emulator.personal_access_token,
            "start_date": start.isoformat(), "end_date": end.isoformat(),
        },
        streams=tuple(BenchStream(name, days) for name in ("ad_report", "campaign_report", "advertisable_report")),
    )


PROFILES: dict[str, t.Callable[[], BenchProfile]] = {"tap-rokt": _rokt, "tap-adroll": _adroll, "tap-mediamath": _mediamath}
