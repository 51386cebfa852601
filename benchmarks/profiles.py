"""What the benchmark extracts from each tap: a large deterministic dataset, settings, report streams.

Every stream's date range is sized for a backfill of tens of thousands of rows or more, so that records per
second measure extraction more than the start-up of a process (bench.py also reports both without it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

if t.TYPE_CHECKING:
    from emulators.server import Emulator


@dataclasses.dataclass(frozen=True)
class BenchStream:
    name: str
    start: dt.date
    end: dt.date  # exclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days


@dataclasses.dataclass(frozen=True)
class BenchProfile:
    tap: str
    provider: str  # also the baseline's module name in benchmarks/baselines/
    make_emulator: t.Callable[[], Emulator]
    settings: t.Callable[[Emulator], dict]  # everything but the dates
    streams: tuple[BenchStream, ...]

    def config(self, emulator: Emulator, stream: BenchStream) -> dict:
        """The tap's settings for extracting ``stream``."""
        return {**self.settings(emulator), "start_date": stream.start.isoformat(), "end_date": stream.end.isoformat()}


def _rokt() -> BenchProfile:
    from emulators.rokt import ACCOUNTS, RoktEmulator

    # 24 accounts, advertisers of 6 campaigns and partners alike, in the demo accounts' currencies and zones.
    accounts = [
        dataclasses.replace(ACCOUNTS[n % 2], account_id=str(3286272607917100000 + n), name=f"Benchmark Account {n + 1}", campaigns=6)
        for n in range(24)
    ]
    detail = {"name": "campaign_detail", "report": "campaigns",
              "dimensions": ["campaign_id", "creative_id", "age_range", "device"]}
    return BenchProfile(
        tap="tap-rokt",
        provider="rokt",
        make_emulator=lambda: RoktEmulator(accounts=accounts, cache_answers=True),
        settings=lambda emulator: {
            "api_url": emulator.url, "app_id": emulator.app_id, "app_secret": emulator.app_secret, "reports": [detail],
        },
        streams=(
            # The emulator computes about 17 ms per campaign account-day and 3 ms per partner account-day (once:
            # answers are cached), so these ranges keep `make bench` within its time budget.
            BenchStream("campaign_report", dt.date(2024, 1, 1), dt.date(2024, 7, 1)),  # one row per campaign-day
            BenchStream("transaction_report", dt.date(2023, 1, 1), dt.date(2025, 1, 1)),  # one row per account-day
            BenchStream("campaign_detail", dt.date(2024, 1, 1), dt.date(2024, 2, 1)),  # 72 rows per account-day
        ),
    )


def _mediamath() -> BenchProfile:
    from emulators.mediamath import MediaMathEmulator

    lean = {"name": "lean", "dataset": "performance", "fields": ["strategy_id", "impressions", "total_spend"]}
    start, end = dt.date(2025, 1, 1), dt.date(2025, 3, 1)
    return BenchProfile(
        tap="tap-mediamath",
        provider="mediamath",
        # One organization of 8 campaigns x 150 strategies: about 1,100 strategy-days a day.
        make_emulator=lambda: MediaMathEmulator(organizations=((100001, "Benchmark Media"),), strategies_per_campaign=150),
        settings=lambda emulator: {
            "api_url": f"{emulator.url}/reporting/v2", "auth_url": f"{emulator.url}/oauth/token",
            "client_id": "demo-client-id", "client_secret": "demo-client-secret", "username": "demo@example.com",
            "password": "demo-password", "organization_id": 100001, "report_window_days": 7, "reports": [lean],
        },
        streams=(BenchStream("performance", start, end), BenchStream("lean", start, end)),
    )


def _adroll() -> BenchProfile:
    from emulators.adroll import AdRollEmulator

    return BenchProfile(
        tap="tap-adroll",
        provider="adroll",
        make_emulator=lambda: AdRollEmulator(advertisables=40),
        settings=lambda emulator: {
            "api_url": emulator.url, "api_key": emulator.client_id, "personal_access_token": emulator.personal_access_token,
        },
        streams=(  # one request per day for the 40 advertisables together
            BenchStream("ad_report", dt.date(2025, 1, 1), dt.date(2025, 3, 1)),
            BenchStream("campaign_report", dt.date(2024, 11, 1), dt.date(2025, 3, 1)),
            BenchStream("advertisable_report", dt.date(2024, 3, 1), dt.date(2025, 3, 1)),
        ),
    )


PROFILES: dict[str, t.Callable[[], BenchProfile]] = {"tap-rokt": _rokt, "tap-adroll": _adroll, "tap-mediamath": _mediamath}
