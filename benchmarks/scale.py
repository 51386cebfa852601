"""What users wait for: each tap's main report stream, a backfill of 180 days, for 1 account and for 20, with
the API answering at once and at a real API's latency.

For each tap and size, one emulator (``accounts=``) runs in this process. At 0 ms the tap and its bare
baseline (benchmarks/baselines/) extract the same days after a warm-up run, so records/s compare as in
bench.py; then the emulator's latency is set and the tap extracts again. The latency floor is what the
requests alone cost made one after another (requests x latency): a tap that overlaps nothing and wastes
nothing between requests takes the floor plus its start-up.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import json
import sys
import typing as t
from pathlib import Path

from measure import Measure, best, run_child

from emulators.testing import discover, select, tap_executable

if t.TYPE_CHECKING:
    from emulators.server import Emulator

HERE = Path(__file__).resolve().parent
START, END = dt.date(2025, 1, 1), dt.date(2025, 6, 30)  # 180 report days (END exclusive)
SIZES = (1, 20)
LATENCY_MS = 200


@dataclasses.dataclass(frozen=True)
class ScaleProfile:
    tap: str
    provider: str  # the baseline's module name in benchmarks/baselines/
    stream: str
    report_path: str  # regex: the request log's report requests
    partition: str  # what a partition is, for the table
    make_emulator: t.Callable[[int], Emulator]
    settings: t.Callable[[Emulator], dict]  # everything but the dates
    partitions: t.Callable[[Emulator], int]

    def config(self, emulator: Emulator) -> dict:
        return {**self.settings(emulator), "start_date": START.isoformat(), "end_date": END.isoformat()}


def _rokt() -> ScaleProfile:
    from emulators.rokt import RoktEmulator

    return ScaleProfile(
        tap="tap-rokt", provider="rokt", stream="campaign_report", report_path=r"/campaigns/$", partition="account",
        make_emulator=lambda n: RoktEmulator(accounts=n, cache_answers=True),
        settings=lambda e: {"api_url": e.url, "app_id": e.app_id, "app_secret": e.app_secret},
        partitions=lambda e: len(e.accounts),
    )


def _adroll() -> ScaleProfile:
    from emulators.adroll import AdRollEmulator

    return ScaleProfile(
        tap="tap-adroll", provider="adroll", stream="ad_report", report_path=r"/report/ad$", partition="advertisable",
        make_emulator=lambda n: AdRollEmulator(accounts=n),
        settings=lambda e: {"api_url": e.url, "api_key": e.client_id, "personal_access_token": e.personal_access_token},
        partitions=lambda e: len(e.advertisables),
    )


def _mediamath() -> ScaleProfile:
    from emulators.mediamath import MediaMathEmulator

    # One organization (the tap's partition) of n advertisers, 10 strategies per campaign: a few thousand rows
    # for one advertiser, about 55,000 for twenty. The window size is the tap's default.
    return ScaleProfile(
        tap="tap-mediamath", provider="mediamath", stream="performance", report_path=r"^/reporting/v2/",
        partition="organization",
        make_emulator=lambda n: MediaMathEmulator(organizations=((100001, "Benchmark Media"),), accounts=n,
                                                  strategies_per_campaign=10),
        settings=lambda e: {
            "api_url": f"{e.url}/reporting/v2", "auth_url": f"{e.url}/oauth/token", "client_id": "demo-client-id",
            "client_secret": "demo-client-secret", "username": "demo@example.com", "password": "demo-password",
            "organization_id": 100001,
        },
        partitions=lambda _emulator: 1,
    )


SCALE_PROFILES: dict[str, t.Callable[[], ScaleProfile]] = {"tap-rokt": _rokt, "tap-adroll": _adroll,
                                                           "tap-mediamath": _mediamath}


def bench_size(profile: ScaleProfile, accounts: int, repeat: int, workdir: Path, latency_ms: float) -> list[dict]:
    """Two rows: the backfill at 0 ms (with the baseline beside it) and at ``latency_ms``."""
    days = (END - START).days
    with profile.make_emulator(accounts) as emulator:
        config = profile.config(emulator)
        config_path = workdir / f"scale-{profile.tap}-{accounts}.json"
        config_path.write_text(json.dumps(config))
        catalog_path = workdir / f"scale-{profile.tap}-{accounts}-catalog.json"
        catalog_path.write_text(json.dumps(select(discover(profile.tap, config), {profile.stream})))
        tap = [tap_executable(profile.tap), "--config", str(config_path), "--catalog", str(catalog_path)]
        baseline = [sys.executable, str(HERE / "baselines" / f"{profile.provider}.py"), str(config_path), profile.stream]

        def run(command: list[str]) -> Measure:
            return run_child(command, emulator, profile.stream, report_path=profile.report_path)

        run(baseline)  # a warm-up run: the emulator computes (and may cache) its answers
        gc.collect()
        gc.freeze()
        ours = best([run(tap) for _ in range(repeat)])
        bare = best([run(baseline) for _ in range(repeat)])
        if ours.records != bare.records:
            raise SystemExit(f"{profile.tap} {profile.stream}: {ours.records} records, baseline {bare.records}")
        emulator.latency_ms = latency_ms
        slow = run(tap)
        emulator.latency_ms = 0
        partitions = profile.partitions(emulator)
    rows = []
    for latency, measure in ((0, ours), (latency_ms, slow)):
        floor = measure.requests * latency / 1000
        added = measure.seconds - ours.seconds  # what the latency added to the 0 ms run
        rows.append({
            "tap": profile.tap,
            "stream": profile.stream,
            "accounts": accounts,
            "partitions": f"{partitions} {profile.partition}{'s' if partitions != 1 else ''}",
            "latency_ms": latency,
            "days": days,
            "records": measure.records,
            "wall_s": round(measure.seconds, 2),
            "startup_s": round(measure.startup_seconds, 2),
            "requests": measure.requests,
            "report_requests": measure.report_requests,
            "floor_s": round(floor, 2),
            "wall_over_floor": round(measure.seconds / floor, 2) if floor else None,
            "after_startup_over_floor": round(measure.after_startup_seconds / floor, 2) if floor else None,
            "added_by_latency_s": round(added, 2) if latency else None,
            "added_over_floor": round(added / floor, 2) if floor else None,
            "report_requests_per_day": round(measure.report_requests / days, 3),
            "report_requests_per_day_per_partition": round(measure.report_requests / days / partitions, 3),
            "cpu_s_per_100k": round(measure.cpu_per_100k, 2),
            "peak_rss_mb": round(measure.peak_rss_mb, 1),
            "records_per_s": round(measure.per_second),
            "baseline_records_per_s": round(bare.per_second) if latency == 0 else None,
            "ratio": round(ours.per_second / bare.per_second, 2) if latency == 0 and bare.per_second else None,
            "ratio_after_startup": round(ours.per_second_after_startup / bare.per_second_after_startup, 2)
            if latency == 0 and bare.per_second_after_startup else None,
        })
    return rows


def bench_scale(taps: t.Iterable[str], repeat: int, workdir: Path, latency_ms: float = LATENCY_MS,
                sizes: t.Sequence[int] = SIZES) -> list[dict]:
    rows = []
    for name in taps:
        profile = SCALE_PROFILES[name]()
        for accounts in sizes:
            print(f"  {profile.tap} {profile.stream}, {accounts} account(s), 0 and {latency_ms:g} ms ...",
                  file=sys.stderr, flush=True)
            rows += bench_size(profile, accounts, repeat, workdir, latency_ms)
    return rows
