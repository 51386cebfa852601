"""Throughput, CPU, memory and API calls of each report stream, against a bare baseline.

    .venv/bin/python benchmarks/bench.py [--taps tap-rokt,...] [--repeat 3]

For each tap, an emulator with a large deterministic dataset runs in this process. Each report stream is
extracted alone (a catalog selecting only it) by the tap as a child process, and by the tap's baseline: a
minimal script (benchmarks/baselines/) that makes the same HTTP requests to the same emulator and writes each
row as a Singer RECORD line with no SDK in between. Both write to a pipe that this process only counts.

Figures per stream: report days and records of the backfill, records/s (wall, best of --repeat), CPU seconds
per 100,000 records and peak RSS of the child, HTTP requests (and per extracted day), and the seconds a run of
the first report day alone takes (the process's fixed cost: imports, authentication, discovery); the same for
the baseline; then the ratio of our records/s to the baseline's. Absolute times on shared machines are noise:
read the ratios.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from profiles import PROFILES, BenchStream  # noqa: E402

from emulators.testing import discover, select, tap_executable  # noqa: E402


@dataclasses.dataclass
class Measure:
    records: int
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    requests: int

    @property
    def per_second(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    @property
    def cpu_per_100k(self) -> float:
        return self.cpu_seconds / self.records * 100_000 if self.records else 0.0


def run_child(command: list[str], emulator, count_stream: str) -> Measure:
    """Run a command, count its RECORD lines of ``count_stream`` from the pipe, and read its rusage."""
    before = len(emulator.calls())
    marker = f'"stream":"{count_stream}"'.encode()
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    peaks = [0]
    done = threading.Event()

    def sample() -> None:  # VmHWM is a high-water mark: the last reading before exit is the peak
        while not done.wait(0.02):
            peaks.append(_peak_rss_kb(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    records = 0
    for line in process.stdout:
        if line.startswith(b'{"type":"RECORD"') and marker in line:
            records += 1
    peaks.append(_peak_rss_kb(process.pid))
    done.set()
    sampler.join()
    peak_kb = max(peaks)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed")
    requests = len(emulator.calls()) - before
    return Measure(records, seconds, usage.ru_utime + usage.ru_stime, peak_kb / 1024, requests)


def _peak_rss_kb(pid: int) -> int:
    """The child's peak resident set (VmHWM) so far. Not ru_maxrss: that counts the pages the child
    shared with this large parent between fork and exec."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def best(measures: list[Measure]) -> Measure:
    return min(measures, key=lambda m: m.seconds)


def bench_stream(profile, stream: BenchStream, emulator, catalog: dict, repeat: int, workdir: Path) -> dict:
    catalog_path = workdir / f"catalog-{stream.name}.json"
    catalog_path.write_text(json.dumps(select(catalog, {stream.name})))

    def tap_and_baseline(config: dict, label: str) -> tuple[Measure, Measure]:
        """Both extract with ``config``: after a warm-up run each (the emulator computes, and may cache,
        its answers), the fastest of ``repeat`` runs each."""
        config_path = workdir / f"config-{stream.name}-{label}.json"
        config_path.write_text(json.dumps(config))
        tap = [tap_executable(profile.tap), "--config", str(config_path), "--catalog", str(catalog_path)]
        baseline = [sys.executable, str(HERE / "baselines" / f"{profile.provider}.py"), str(config_path), stream.name]
        for command in (baseline, tap):
            run_child(command, emulator, stream.name)
        # Millions of cached emulator objects would make this process's garbage collector pause at random
        # moments of the measured runs: exempt everything allocated so far from collection.
        gc.collect()
        gc.freeze()
        return (
            best([run_child(tap, emulator, stream.name) for _ in range(repeat)]),
            best([run_child(baseline, emulator, stream.name) for _ in range(repeat)]),
        )

    ours, bare = tap_and_baseline(profile.config(emulator, stream), "backfill")
    if ours.records != bare.records:
        raise SystemExit(f"{profile.tap} {stream.name}: {ours.records} records, baseline {bare.records}")
    # Start-up apart: the same stream for its first report day only, so the process's fixed cost shows.
    ours_day, bare_day = tap_and_baseline(profile.config(emulator, stream, one_day=True), "one-day")
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
        "one_day_s": round(ours_day.seconds, 2),
        "baseline_records_per_s": round(bare.per_second),
        "baseline_cpu_s_per_100k": round(bare.cpu_per_100k, 2),
        "baseline_requests": bare.requests,
        "baseline_one_day_s": round(bare_day.seconds, 2),
        "ratio": round(ours.per_second / bare.per_second, 2) if bare.per_second else None,
        # The emulator's own work is in both wall times: CPU per record of the two processes shows the tap's cost alone.
        "cpu_ratio": round(bare.cpu_per_100k / ours.cpu_per_100k, 2) if ours.cpu_per_100k else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taps", default=",".join(PROFILES), help="comma-separated taps")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (the fastest counts)")
    args = parser.parse_args()
    results = []
    for name in args.taps.split(","):
        profile = PROFILES[name]()
        with profile.make_emulator() as emulator, tempfile.TemporaryDirectory() as tmp:
            catalog = discover(profile.tap, profile.config(emulator, profile.streams[0]))
            for stream in profile.streams:
                print(f"  {profile.tap} {stream.name} ...", file=sys.stderr, flush=True)
                results.append(bench_stream(profile, stream, emulator, catalog, args.repeat, Path(tmp)))
    columns = ["tap", "stream", "days", "records", "records_per_s", "cpu_s_per_100k", "peak_rss_mb", "requests",
               "requests_per_day", "one_day_s", "baseline_records_per_s", "baseline_cpu_s_per_100k", "baseline_one_day_s", "ratio", "cpu_ratio"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "|".join("---" for _ in columns) + "|")
    for row in results:
        print("| " + " | ".join(str(row[c]) for c in columns) + " |")
    print(json.dumps(results), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
