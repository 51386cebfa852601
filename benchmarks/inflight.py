"""Requests in flight (``max_concurrent_requests``): each tap's main report stream at a real API's latency, at 20
and 200 accounts, with 1, 4 and 8 requests in flight; and tap-rokt's discovery at 200 accounts.

    .venv/bin/python benchmarks/inflight.py [--taps tap-rokt,...] [--sizes 20,200] [--in-flight 1,4,8]
                                            [--days 31] [--latency-ms 200] [--json FILE]

For each tap and size, one emulator (``accounts=``) runs in this process: tap-rokt ``campaign_report`` (its
accounts are the partitions), tap-adroll ``ad_report`` (advertisables; one report request a day for all of them),
tap-mediamath ``performance`` with ``advertiser_ids`` set to every advertiser the emulator serves, so each
advertiser is a partition (generated advertisers without campaigns serve nothing: 161 partitions of 200
accounts). After a warm-up run (the emulator computes and caches its answers), the tap extracts the same
days with each number of requests in flight, at ``--latency-ms`` and at 0 ms. tap-rokt's ``--discover`` (every
account's help listings) is timed the same way on its largest emulator.

31 days are one report window per partition at the taps' default ``report_window_days``: at 200 accounts and
one request at a time, tap-rokt's 402 requests (token, accounts, the campaigns help listing and one window per
account) take 80 s at 200 ms and its discovery's 402 (both help listings) as long; 60 days would add a window per
partition and take the benchmark well past 10 minutes on a 2-core machine.

Per run: the requests of the emulator's request log; wall time after start-up (from the first API request to
the process's exit, as scale.py measures it); the latency floor, ``requests x latency`` with the requests of the
run with one request in flight; and the bound ``max(floor / in flight, the same run's wall after start-up at
0 ms)``: requests in flight can at best divide the latency, and cannot beat the tap's own work. Targets: wall
after start-up at most 1.15 x the bound, exactly the requests (and records) of the one-at-a-time run, peak RSS
under 150 MB. Where a target is missed, two figures from the request log say why: ``most_in_flight_seen``, the
most requests the emulator held at once (a tap that never exceeds 1 sends one after another), and
``to_first_report_s``, from the first API request to the first report request (tokens, listings, help).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import gc
import json
import math
import re
import sys
import tempfile
import time
import typing as t
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from measure import Measure, run_child  # noqa: E402
from scale import LATENCY_MS, SCALE_PROFILES, ScaleProfile  # noqa: E402
from targets import INFLIGHT_CHECKS, misses, render  # noqa: E402

from emulators.testing import discover, select, tap_executable  # noqa: E402

if t.TYPE_CHECKING:
    from emulators.server import Emulator

START = dt.date(2025, 1, 1)
DAYS = 31  # one report window per partition at the taps' default report_window_days; AdRoll: a request a day
SIZES = (20, 200)
IN_FLIGHT = (1, 4, 8)
DISCOVER = "--discover"  # the stream column of discovery rows
COLUMNS = ["tap", "stream", "accounts", "partitions", "days", "in_flight", "records", "requests",
           "report_requests", "requests_at_0ms", "requests_one_at_a_time", "wall_s", "startup_s",
           "after_startup_s", "floor_s", "floor_per_in_flight_s", "after_startup_at_0ms_s", "bound_s",
           "after_startup_over_bound", "speed_up", "most_in_flight_seen", "to_first_report_s", "chain_bound_s",
           "after_startup_over_chain_bound", "cpu_s", "peak_rss_mb"]


@dataclasses.dataclass(frozen=True)
class InflightProfile:
    """A tap's main report stream as scale.py runs it, plus what makes each account a partition."""

    scale: ScaleProfile
    partition: str  # what a partition is, for the table
    partition_ids: t.Callable[[Emulator], list]
    extra: t.Callable[[Emulator], dict] = lambda _emulator: {}  # settings beyond scale.py's
    make_emulator: t.Callable[[int], Emulator] | None = None  # default: scale.py's

    def config(self, emulator: Emulator, days: int, in_flight: int) -> dict:
        return {**self.scale.settings(emulator), **self.extra(emulator), "start_date": START.isoformat(),
                "end_date": (START + dt.timedelta(days=days)).isoformat(), "max_concurrent_requests": in_flight}


def _mediamath_advertisers(emulator) -> list[int]:
    """Every advertiser the emulator serves data for (generated ones without campaigns have none)."""
    return sorted({strategy.attrs["advertiser_id"] for strategy in emulator.strategies})


def _profile(tap: str) -> InflightProfile:
    scale = SCALE_PROFILES[tap]()
    if tap == "tap-rokt":
        return InflightProfile(scale, "account", lambda e: list(e.accounts))
    if tap == "tap-adroll":
        return InflightProfile(scale, "advertisable", lambda e: [row["eid"] for row in e.advertisables])
    from emulators.mediamath import MediaMathEmulator

    # scale.py's organization, with the emulator's default 3 strategies per campaign rather than 10: rows cost
    # CPU, not requests, and would make the 0 ms runs (the bound at 8 in flight) the tap's parsing speed.
    return InflightProfile(scale, "advertiser", _mediamath_advertisers,
                           lambda e: {"advertiser_ids": _mediamath_advertisers(e)},
                           lambda n: MediaMathEmulator(organizations=((100001, "Benchmark Media"),), accounts=n))


@dataclasses.dataclass
class Run:
    """One measured run and what the request log says of it."""

    measure: Measure
    most_in_flight: int  # the most requests the emulator held at once
    to_first_report: float | None  # seconds from the first API request to the first report request


@dataclasses.dataclass
class Runs:
    """One command's runs at latency and at 0 ms, per number of requests in flight."""

    slow: dict[int, Run] = dataclasses.field(default_factory=dict)
    fast: dict[int, Run] = dataclasses.field(default_factory=dict)


def _run(command: list[str], emulator: Emulator, count_stream: str, report_path: str) -> Run:
    before = len(emulator.calls())
    measure = run_child(command, emulator, count_stream, report_path=report_path)
    calls = emulator.calls()[before:]
    # Each request is held from its arrival to its answer; +1 sorts after -1 at the same instant.
    events = sorted([(call.received, 1) for call in calls] + [(call.at, -1) for call in calls])
    held = most = 0
    for _, change in events:
        held += change
        most = max(most, held)
    first = min((call.received for call in calls), default=None)
    first_report = min((call.received for call in calls if re.search(report_path, call.path)), default=None)
    to_first_report = first_report - first if first is not None and first_report is not None else None
    return Run(measure, most, to_first_report)


def _measure_all(emulator: Emulator, commands: dict[int, list[str]], count_stream: str, report_path: str,
                 latency_ms: float, *, warm_up: bool = True) -> Runs:
    """Each command (per number in flight) at ``latency_ms``, then at 0 ms; first, unless the emulator has already
    answered the same requests, one warm-up run at 0 ms (the emulator computes and caches its answers)."""
    emulator.latency_ms = 0
    if warm_up:
        run_child(commands[max(commands)], emulator, count_stream)
    # The emulator's cached objects would make this process's garbage collector pause at random moments of
    # the measured runs: exempt everything allocated so far from collection.
    gc.collect()
    gc.freeze()
    runs = Runs()
    for in_flight, command in commands.items():
        emulator.latency_ms = latency_ms
        runs.slow[in_flight] = _run(command, emulator, count_stream, report_path)
        emulator.latency_ms = 0
        runs.fast[in_flight] = _run(command, emulator, count_stream, report_path)
    return runs


def _rows(runs: Runs, latency_ms: float, identity: dict) -> list[dict]:
    """A row per number in flight, judged against the run with the fewest in flight (one at a time)."""
    reference = runs.slow[min(runs.slow)].measure
    rows = []
    for in_flight, run in runs.slow.items():
        slow, fast = run.measure, runs.fast[in_flight].measure
        floor = reference.requests * latency_ms / 1000
        bound = max(floor / in_flight, fast.after_startup_seconds)
        rows.append({
            **identity,
            "in_flight": in_flight,
            "records": slow.records,
            "records_one_at_a_time": reference.records,
            "records_at_0ms": fast.records,
            "requests": slow.requests,
            "report_requests": slow.report_requests,
            "requests_at_0ms": fast.requests,
            "requests_one_at_a_time": reference.requests,
            "wall_s": round(slow.seconds, 2),
            "startup_s": round(slow.startup_seconds, 2),
            "after_startup_s": round(slow.after_startup_seconds, 2),
            "floor_s": round(floor, 2),
            "floor_per_in_flight_s": round(floor / in_flight, 2),
            "after_startup_at_0ms_s": round(fast.after_startup_seconds, 2),
            "bound_s": round(bound, 2),
            "after_startup_over_bound": round(slow.after_startup_seconds / bound, 2) if bound else None,
            "speed_up": round(reference.after_startup_seconds / slow.after_startup_seconds, 2)
            if slow.after_startup_seconds > 0 else None,
            "most_in_flight_seen": run.most_in_flight,
            "to_first_report_s": None if run.to_first_report is None else round(run.to_first_report, 2),
            **_chain_bound(run.to_first_report, slow.report_requests, in_flight, latency_ms, slow.after_startup_seconds),
            "cpu_s": round(slow.cpu_seconds, 2),
            "peak_rss_mb": round(max(slow.peak_rss_mb, fast.peak_rss_mb), 1),
        })
    return rows


def _chain_bound(to_first_report: float | None, report_requests: int, in_flight: int, latency_ms: float,
                 after_startup: float) -> dict:
    """The least a run can take once its requests wait for one another: the report requests cannot leave before
    the requests they need are answered (token, listings, help: ``to_first_report``, as the run made them), then
    go ``in_flight`` at a time, a latency each round. Not a target: it says how much of a miss is that chain."""
    if to_first_report is None:
        return {"chain_bound_s": None, "after_startup_over_chain_bound": None}
    bound = to_first_report + math.ceil(report_requests / in_flight) * latency_ms / 1000
    return {"chain_bound_s": round(bound, 2), "after_startup_over_chain_bound": round(after_startup / bound, 2) if bound else None}


def bench_stream(profile: InflightProfile, accounts: int, days: int, in_flight: t.Sequence[int], latency_ms: float,
                 workdir: Path, *, discovery: bool) -> list[dict]:
    """The report stream's rows at each number in flight; then, if asked, discovery's on the same emulator."""
    scale = profile.scale
    rows = []
    with (profile.make_emulator or scale.make_emulator)(accounts) as emulator:
        partitions = len(profile.partition_ids(emulator))
        catalog_path = workdir / f"inflight-{scale.tap}-{accounts}-catalog.json"
        catalog = discover(scale.tap, profile.config(emulator, days, max(in_flight)))
        catalog_path.write_text(json.dumps(select(catalog, {scale.stream})))
        configs = {}
        for n in in_flight:
            configs[n] = workdir / f"inflight-{scale.tap}-{accounts}-{n}.json"
            configs[n].write_text(json.dumps(profile.config(emulator, days, n)))
        identity = {"tap": scale.tap, "accounts": accounts,
                    "partitions": f"{partitions} {profile.partition}{'s' if partitions != 1 else ''}"}
        tap = tap_executable(scale.tap)
        commands = {n: [tap, "--config", str(path), "--catalog", str(catalog_path)] for n, path in configs.items()}
        print(f"  {scale.tap} {scale.stream}, {accounts} accounts, {days} days, "
              f"{'/'.join(map(str, in_flight))} in flight ...", file=sys.stderr, flush=True)
        runs = _measure_all(emulator, commands, scale.stream, scale.report_path, latency_ms)
        rows += _rows(runs, latency_ms, {**identity, "stream": scale.stream, "days": days})
        if discovery:
            print(f"  {scale.tap} {DISCOVER}, {accounts} accounts ...", file=sys.stderr, flush=True)
            commands = {n: [tap, "--config", str(path), DISCOVER] for n, path in configs.items()}
            # The catalog's discovery and every stream run have asked for each account's help listings already.
            runs = _measure_all(emulator, commands, "", scale.report_path, latency_ms, warm_up=False)
            rows += _rows(runs, latency_ms, {**identity, "stream": DISCOVER, "days": None})
    return rows


def bench_inflight(taps: t.Iterable[str], workdir: Path, latency_ms: float = LATENCY_MS,
                   sizes: t.Sequence[int] = SIZES, in_flight: t.Sequence[int] = IN_FLIGHT, days: int = DAYS) -> list[dict]:
    rows = []
    for tap in taps:
        profile = _profile(tap)
        for accounts in sizes:
            discovery = tap == "tap-rokt" and accounts == max(sizes)
            rows += bench_stream(profile, accounts, days, sorted(in_flight), latency_ms, workdir, discovery=discovery)
    return rows


def title(rows: list[dict], latency_ms: float) -> str:
    sizes = sorted({row["accounts"] for row in rows})
    in_flight = sorted({row["in_flight"] for row in rows})
    discovery = any(row["stream"] == DISCOVER for row in rows)
    return (f"Requests in flight: main report streams, {rows[0]['days']} days, {' and '.join(map(str, sizes))} "
            f"accounts, {', '.join(map(str, in_flight))} in flight, {latency_ms:g} ms"
            + (f"; tap-rokt {DISCOVER} at {max(sizes)} accounts" if discovery else ""))


def label(row: dict) -> str:
    return f"{row['tap']} {row['stream']} {row['accounts']} accounts {row['in_flight']} in flight"


def _counts(low: int, high: int) -> t.Callable[[str], list[int]]:
    """An argparse type: comma-separated integers from ``low`` to ``high``."""

    def parse(text: str) -> list[int]:
        try:
            values = [int(item) for item in text.split(",")]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: comma-separated integers expected") from None
        if not values or any(not low <= value <= high for value in values):
            raise argparse.ArgumentTypeError(f"{text!r}: each must be from {low} to {high}")
        return values

    return parse


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taps", default=",".join(SCALE_PROFILES), help="comma-separated taps")
    parser.add_argument("--sizes", type=_counts(1, 1000), default=list(SIZES),
                        help="comma-separated account counts (tap-rokt's discovery runs at the largest)")
    parser.add_argument("--in-flight", type=_counts(1, 32), default=list(IN_FLIGHT),
                        help="comma-separated max_concurrent_requests, 1 to 32 (the smallest is the reference)")
    parser.add_argument("--days", type=int, default=DAYS, help="report days of every extraction")
    parser.add_argument("--latency-ms", type=float, default=LATENCY_MS, help="the API latency of the measured runs")
    parser.add_argument("--json", help="also write every row to this file")
    args = parser.parse_args()
    unknown = sorted(set(args.taps.split(",")) - set(SCALE_PROFILES))
    if unknown:
        parser.error(f"--taps: unknown {', '.join(unknown)} (known: {', '.join(SCALE_PROFILES)})")
    if args.days < 1:
        parser.error("--days: at least 1")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        rows = bench_inflight(args.taps.split(","), Path(tmp), args.latency_ms, args.sizes, args.in_flight, args.days)
    print(f"\n## {title(rows, args.latency_ms)}\n")
    print(render(rows, COLUMNS, INFLIGHT_CHECKS))
    missed = misses(rows, INFLIGHT_CHECKS, label)
    print("\n## Targets\n")
    print("\n".join(missed) if missed else "every target PASS")
    print(f"\n{time.perf_counter() - started:.0f} s in all", file=sys.stderr)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"inflight": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
