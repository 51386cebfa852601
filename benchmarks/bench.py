"""Benchmarks of the three taps, printed as tables with their targets (PASS/MISS): `make bench`.

    .venv/bin/python benchmarks/bench.py [--tables throughput,scale,peer,inflight] [--taps tap-rokt,...] [--repeat 3]

1. throughput: records/s, CPU and memory of every report stream against a bare baseline. For each tap, an
   emulator with a large deterministic dataset runs in this process. Each report stream is extracted alone (a
   catalog selecting only it) by the tap as a child process, and by the tap's baseline: a minimal script
   (benchmarks/baselines/) that makes the same HTTP requests to the same emulator and writes each row as a
   Singer RECORD line with no SDK in between. Both write to a pipe that this process only counts. Figures per
   stream: report days and records of the backfill, records/s (wall, best of --repeat), CPU seconds per 100,000
   records and peak RSS of the child, HTTP requests (report requests per extracted day apart), and the seconds
   from its start to its first API request (the process's fixed cost: imports, settings); the same for the
   baseline; then the ratio of our records/s to the baseline's, with and without either's start-up. Absolute
   times on shared machines are noise: read the ratios.
2. scale (scale.py): each tap's main report stream, 180 days, 1 and 20 accounts, at 0 ms and at 200 ms of API
   latency: wall time against the latency floor, requests per extracted day and partition, CPU, memory.
3. peer (peer.py): our tap-adroll beside singer-io tap-adroll 1.2.1 from PyPI on the same emulator and days.
4. inflight (inflight.py, also runnable alone): each tap's main report stream at 200 ms, 20 and 200 accounts, with
   1, 4 and 8 requests in flight (max_concurrent_requests), and tap-rokt's discovery: wall time after start-up
   against max(latency floor / in flight, the same run at 0 ms), requests against the one-at-a-time run's.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import inflight  # noqa: E402
from measure import best, run_child  # noqa: E402
from peer import bench_peer  # noqa: E402
from profiles import PROFILES, BenchStream  # noqa: E402
from scale import LATENCY_MS, SIZES, bench_scale  # noqa: E402
from targets import INFLIGHT_CHECKS, SCALE_CHECKS, THROUGHPUT_CHECKS, misses, render  # noqa: E402

from emulators.testing import discover, select, tap_executable  # noqa: E402

# The request log's report requests of each provider (the rest: tokens, listings, help).
REPORT_PATHS = {"rokt": r"/(campaigns/|transactions)$", "adroll": r"^/api/v1/report/", "mediamath": r"^/reporting/v2/"}


def bench_stream(profile, stream: BenchStream, emulator, catalog: dict, repeat: int, workdir: Path) -> dict:
    catalog_path = workdir / f"catalog-{stream.name}.json"
    catalog_path.write_text(json.dumps(select(catalog, {stream.name})))
    config_path = workdir / f"config-{stream.name}.json"
    config_path.write_text(json.dumps(profile.config(emulator, stream)))
    tap = [tap_executable(profile.tap), "--config", str(config_path), "--catalog", str(catalog_path)]
    baseline = [sys.executable, str(HERE / "baselines" / f"{profile.provider}.py"), str(config_path), stream.name]
    report_path = REPORT_PATHS[profile.provider]
    # A warm-up run: the emulator computes (and may cache) its answers, so the measured runs read the same.
    run_child(baseline, emulator, stream.name)
    # Millions of cached emulator objects would make this process's garbage collector pause at random
    # moments of the measured runs: exempt everything allocated so far from collection.
    gc.collect()
    gc.freeze()
    ours = best([run_child(tap, emulator, stream.name, report_path=report_path) for _ in range(repeat)])
    bare = best([run_child(baseline, emulator, stream.name, report_path=report_path) for _ in range(repeat)])
    if ours.records != bare.records:
        raise SystemExit(f"{profile.tap} {stream.name}: {ours.records} records, baseline {bare.records}")
    return {
        "tap": profile.tap,
        "stream": stream.name,
        "days": stream.days,
        "records": ours.records,
        "records_per_s": round(ours.per_second),
        "cpu_s_per_100k": round(ours.cpu_per_100k, 2),
        "peak_rss_mb": round(ours.peak_rss_mb, 1),
        "requests": ours.requests,
        "requests_per_day": round(ours.requests / stream.days, 2),
        "report_requests_per_day": round(ours.report_requests / stream.days, 2),
        # The process's fixed cost (imports, settings): from its start to its first API request, in the same run.
        "startup_s": round(ours.startup_seconds, 2),
        "baseline_records_per_s": round(bare.per_second),
        "baseline_cpu_s_per_100k": round(bare.cpu_per_100k, 2),
        "baseline_requests": bare.requests,
        "baseline_startup_s": round(bare.startup_seconds, 2),
        "ratio": _ratio(ours.per_second, bare.per_second),
        # Per-record speed whatever the size of the dataset: the same ratio without either process's start-up.
        "ratio_after_startup": _ratio(ours.per_second_after_startup, bare.per_second_after_startup),
        # The emulator's own work is in both wall times: CPU per record of the two processes shows the tap's cost alone.
        "cpu_ratio": _ratio(bare.cpu_per_100k, ours.cpu_per_100k),
    }


def _ratio(ours: float, theirs: float) -> float | None:
    return round(ours / theirs, 2) if theirs else None


THROUGHPUT_COLUMNS = ["tap", "stream", "days", "records", "records_per_s", "cpu_s_per_100k", "peak_rss_mb", "requests",
                      "requests_per_day", "report_requests_per_day", "startup_s", "baseline_records_per_s",
                      "baseline_cpu_s_per_100k", "baseline_startup_s", "ratio", "ratio_after_startup", "cpu_ratio"]
SCALE_COLUMNS = ["tap", "stream", "accounts", "partitions", "latency_ms", "days", "records", "wall_s", "startup_s",
                 "requests", "report_requests", "floor_s", "wall_over_floor", "after_startup_over_floor",
                 "added_by_latency_s", "added_over_floor",
                 "report_requests_per_day", "report_requests_per_day_per_partition", "cpu_s_per_100k", "peak_rss_mb",
                 "records_per_s", "baseline_records_per_s", "ratio", "ratio_after_startup"]
PEER_COLUMNS = ["tap", "advertisables", "days", "latency_ms", "wall_s", "requests", "report_requests", "floor_s",
                "rows_emitted", "distinct_keys", "ad_days_in_api", "duplicates_per_key", "campaigns_received",
                "inactive_campaigns_received"]


def throughput(taps: list[str], repeat: int) -> list[dict]:
    results = []
    for name in taps:
        profile = PROFILES[name]()
        with profile.make_emulator() as emulator, tempfile.TemporaryDirectory() as tmp:
            catalog = discover(profile.tap, profile.config(emulator, profile.streams[0]))
            for stream in profile.streams:
                print(f"  {profile.tap} {stream.name} ...", file=sys.stderr, flush=True)
                results.append(bench_stream(profile, stream, emulator, catalog, repeat, Path(tmp)))
    return results


def peer_days(advertisables: int, latency_ms: float) -> int:  # noqa: ARG001 - the same days at every latency
    """Report days of the side-by-side comparison (the same for both taps). The peer makes one request per
    advertisable and day: 20 advertisables over 180 days would take 3,600 x 0.2 s = 12 minutes at latency, so the
    comparison covers 60 days of one advertisable and 10 days of twenty (the scale table has our 180 days)."""
    return 60 if advertisables == 1 else 10


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", default="throughput,scale,peer,inflight",
                        help="comma-separated: throughput,scale,peer,inflight")
    parser.add_argument("--taps", default=",".join(PROFILES), help="comma-separated taps")
    parser.add_argument("--repeat", type=int, default=3, help="runs per throughput measurement (the fastest counts)")
    parser.add_argument("--scale-repeat", type=int, default=1, help="runs per 0 ms measurement of the scale table")
    parser.add_argument("--latency-ms", type=float, default=LATENCY_MS,
                        help="the API latency of the scale, peer and inflight tables")
    parser.add_argument("--json", help="also write every row to this file")
    args = parser.parse_args()
    tables = args.tables.split(",")
    taps = args.taps.split(",")
    results: dict[str, list[dict]] = {}
    missed: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        if "throughput" in tables:
            rows = results["throughput"] = throughput(taps, args.repeat)
            print("\n## Throughput of every report stream against its bare baseline (0 ms)\n")
            print(render(rows, THROUGHPUT_COLUMNS, THROUGHPUT_CHECKS), flush=True)
            missed += misses(rows, THROUGHPUT_CHECKS, lambda r: f"{r['tap']} {r['stream']}")
        if "scale" in tables:
            rows = results["scale"] = bench_scale(taps, args.scale_repeat, Path(tmp), args.latency_ms)
            print(f"\n## Main report streams: {rows[0]['days']} days, {' and '.join(map(str, SIZES))} accounts, "
                  f"0 and {args.latency_ms:g} ms of latency\n")
            print(render(rows, SCALE_COLUMNS, SCALE_CHECKS), flush=True)
            missed += misses(rows, SCALE_CHECKS,
                             lambda r: f"{r['tap']} {r['stream']} {r['accounts']} account(s) {r['latency_ms']:g} ms")
        if "peer" in tables and "tap-adroll" in taps:
            rows = results["peer"] = bench_peer(SIZES, (0, args.latency_ms), peer_days, Path(tmp))
            print("\n## tap-adroll beside singer-io tap-adroll 1.2.1 (ad report, then campaigns), same emulator\n")
            print(render(rows, PEER_COLUMNS), flush=True)
        if "inflight" in tables:
            rows = results["inflight"] = inflight.bench_inflight(taps, Path(tmp), args.latency_ms)
            print(f"\n## {inflight.title(rows, args.latency_ms)}\n")
            print(render(rows, inflight.COLUMNS, INFLIGHT_CHECKS), flush=True)
            missed += misses(rows, INFLIGHT_CHECKS, inflight.label)
    print("\n## Targets\n")
    print("\n".join(missed) if missed else "every target PASS")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
