"""tap-mediamath streaming throughput and memory: records/second and the tap process's peak RSS for two
answer sizes (memory must stay flat as the answer grows).

    .venv/bin/python benchmarks/mediamath_stream.py [--sizes 250000,1000000]

The emulator runs in this process (a thread); the tap runs as a child process reading one streamed answer
per window (report_window_days=31, a 30-day range: a single request), selecting a lean report of three fields.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tap-mediamath" / "tests"))

from mediamath_support import LEAN_REPORT, count_records, lean_catalog, make_emulator, settings

DAYS = 30
CAMPAIGNS = 8  # one organization: 2 agencies x 2 advertisers x 2 campaigns
START = dt.date(2025, 1, 1)


def measure(rows: int) -> dict:
    # about 12 of 13 strategy-days deliver
    per_campaign = math.ceil(rows / (CAMPAIGNS * DAYS * 12 / 13))
    end = START + dt.timedelta(days=DAYS)
    with make_emulator(organizations=((100001, "Benchmark Media"),), strategies_per_campaign=per_campaign) as emulator:
        expected = emulator.strategy_day_count(100001, START, end)
        config = settings(emulator, start_date=START.isoformat(), end_date=end.isoformat(), reports=[LEAN_REPORT],
                          report_window_days=31)
        result = count_records(config, lean_catalog(config), check_schemas=False)  # the tap's speed, not the test's check
    if result["returncode"] != 0 or result["records"] != expected:
        raise SystemExit(f"run failed or miscounted ({result['records']} of {expected}): {result['stderr']}")
    return {"rows": expected, "seconds": round(result["seconds"], 1),
            "records_per_second": round(result["records_per_second"]), "peak_rss_mb": round(result["peak_rss_mb"], 1),
            "rusage_maxrss_mb": round(result["rusage_maxrss_mb"], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="250000,1000000", help="comma-separated approximate row counts")
    args = parser.parse_args()
    results = [measure(int(size)) for size in args.sizes.split(",")]
    for result in results:
        print(f"{result['rows']:>9} rows  {result['seconds']:>6} s  {result['records_per_second']:>7} records/s  "
              f"peak RSS {result['peak_rss_mb']:>6} MB (VmHWM; wait4 ru_maxrss {result['rusage_maxrss_mb']:>6} MB)")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
