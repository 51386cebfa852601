"""Wall time of the sharded Dagster job (orchestrate/) with 1, 2 and 4 shards of each tap, on one machine.

    .venv/bin/python benchmarks/shards.py [--taps tap-rokt,tap-adroll,tap-mediamath] [--shards 1,2,4]
                                          [--accounts 40] [--latency-ms 200] [--max-concurrent-requests 4]

Per tap: an emulator with ``--accounts`` accounts (advertisables, advertisers) and ``--latency-ms`` on every
request; a fresh system database and warehouse (embedded PostgreSQL) per measurement, so each is the same
first extraction; the ``ads_shards`` job (multiprocess executor: every shard at once) over a copy of the
project declaring that many shards and no dbt models. Printed per row: the job's wall time (launch to exit:
Dagster's run, ``prepare_run``, the shards, the tables' materializations), the shard phase alone (first shard's Meltano
run start to last one's end, from the system database), the requests the tap made, and the speed-up over one
shard of both. The target is a speed-up of at least 0.8 x the shards where a shard makes only its own
accounts' requests (Rokt); AdRoll and MediaMath ask for all their accounts in one request per day or window,
so each of their shards repeats those requests and sharding them gains little (and spends AdRoll's quota).

``--max-concurrent-requests N`` sets every shard's ``max_concurrent_requests`` (requests in flight per tap
process; without it, the tap's default); ``--max-concurrent-requests 1`` measures requests one after another.
The target is the one for shards of one request at a time: with requests in flight, each shard's waiting shrinks
and its fixed cost does not, so the speed-up of more shards falls short of it (README, "When shards are still
worth it", has the figures), and raising ``max_concurrent_requests`` is the cheaper speed-up on one machine.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from orchestration import Stack  # noqa: E402
from postgres import postgres_server  # noqa: E402
from sources import BY_TAP  # noqa: E402

from emulators import emulator_class  # noqa: E402


@dataclasses.dataclass(frozen=True)
class Profile:
    tap: str
    start: str
    end: str
    extra: dict  # settings beyond sources.py's, to size the run

    def accounts(self, emulator) -> list:
        if self.tap == "tap-rokt":
            return list(emulator.accounts)
        if self.tap == "tap-adroll":
            return [row["eid"] for row in emulator.advertisables]
        return sorted({s.attrs["advertiser_id"] for s in emulator.strategies if s.org_id == 100001})


# Date ranges and windows that make each first run minutes of requests at 200 ms, with few rows: the fixed
# cost of a shard (Meltano, discovery, tap and target start-up: tens of CPU seconds on a 2-core machine) then
# weighs little beside the requests that sharding spreads.
PROFILES = {
    "tap-rokt": Profile("tap-rokt", "2024-10-01", "2025-04-01", {"report_window_days": 7}),
    "tap-adroll": Profile("tap-adroll", "2025-03-01", "2025-04-01", {}),
    "tap-mediamath": Profile("tap-mediamath", "2025-01-01", "2025-04-01", {"report_window_days": 7}),
}


@dataclasses.dataclass
class Row:
    tap: str
    shards: int
    accounts: int
    job_seconds: float
    shard_seconds: float
    requests: int


def measure(server: dict, scratch: Path, profile: Profile, shards: int, accounts: int, latency_ms: float,
            in_flight: int | None = None) -> Row:
    source = BY_TAP[profile.tap]
    with emulator_class(source.provider)(accounts=accounts, latency_ms=latency_ms) as emulator:
        ids = profile.accounts(emulator)
        settings = {**source.settings(emulator.url, profile.start, profile.end), **profile.extra}
        if in_flight is not None:
            settings["max_concurrent_requests"] = in_flight
        label = f"{source.schema}_{shards}_{int(time.time())}"
        stack = Stack(server, scratch / label, label, {profile.tap: (ids, shards)}, source.env(settings))
        try:
            before = len(emulator.requests)
            started = time.perf_counter()
            job = stack.launch("ads_shards", name="job")
            if job.wait(3600) != 0:
                raise SystemExit(f"{profile.tap}, {shards} shard(s): the job failed:\n{job.text()[-4000:]}")
            job_seconds = time.perf_counter() - started
            (phase,) = stack.query("meltano", "select extract(epoch from max(ended_at) - min(started_at)) from runs "
                                   "where job_name like %s", f"%{profile.tap}--shard-%")
            return Row(profile.tap, shards, len(ids), job_seconds, float(phase[0]), len(emulator.requests) - before)
        finally:
            stack.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taps", default=",".join(PROFILES))
    parser.add_argument("--shards", default="1,2,4")
    parser.add_argument("--accounts", type=int, default=40)
    parser.add_argument("--latency-ms", type=float, default=200)
    parser.add_argument("--max-concurrent-requests", type=int, choices=range(1, 33), metavar="1..32",
                        help="requests in flight per tap process (default: the tap's own default)")
    args = parser.parse_args(argv)
    in_flight = args.max_concurrent_requests
    counts = [int(n) for n in args.shards.split(",")]
    rows: list[Row] = []
    with postgres_server() as server, tempfile.TemporaryDirectory(prefix="bench-shards-") as scratch:
        for tap in args.taps.split(","):
            for shards in counts:
                rows.append(measure(server, Path(scratch), PROFILES[tap], shards, args.accounts, args.latency_ms,
                                    in_flight))
                print(f"  measured {tap} with {shards} shard(s): {rows[-1].job_seconds:.1f}s", file=sys.stderr, flush=True)
    requests_in_flight = "the taps' default" if in_flight is None else in_flight
    print(f"\nSharded job, multiprocess executor, {args.latency_ms:g} ms per request, max_concurrent_requests: "
          f"{requests_in_flight}\n")
    print(f"{'tap':<14} {'accounts':>8} {'shards':>6} {'job s':>8} {'shard phase s':>14} {'requests':>9} "
          f"{'speed-up':>9} {'phase speed-up':>15} {'target':>7}")
    for row in rows:
        base = next(r for r in rows if r.tap == row.tap and r.shards == min(counts))
        print(f"{row.tap:<14} {row.accounts:>8} {row.shards:>6} {row.job_seconds:>8.1f} {row.shard_seconds:>14.1f} "
              f"{row.requests:>9} {base.job_seconds / row.job_seconds:>8.2f}x "
              f"{base.shard_seconds / row.shard_seconds:>14.2f}x {0.8 * row.shards / min(counts):>6.1f}x")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
