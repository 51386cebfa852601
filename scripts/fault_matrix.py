"""Run the whole fault matrix (tests/fault_matrix.py) and print one table: scenario by tap, outcome, rows.

.venv/bin/python scripts/fault_matrix.py [tap-rokt ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fault_matrix import PROFILES, run_scenario, scenarios


def main(taps: list[str]) -> int:
    rows = []
    for tap in taps or list(PROFILES):
        profile = PROFILES[tap]()
        for scenario in scenarios(profile):
            outcome = run_scenario(profile, scenario)
            rows.append(outcome)
            print(f"  {tap:<14} {scenario.name:<34} {'ok' if outcome.ok else 'FAILED'}", file=sys.stderr, flush=True)
    print("| tap | scenario | outcome | rows expected | rows delivered | verdict |")
    print("|---|---|---|---:|---:|---|")
    for o in rows:
        print(
            f"| {o.tap} | {o.scenario} | {o.outcome} | {o.expected_rows} | {o.delivered_rows} | "
            f"{'ok' if o.ok else 'FAILED: ' + o.detail[:120]} |"
        )
    failed = [o for o in rows if not o.ok]
    print(f"\n{len(rows) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def parse_taps(argv: list[str]) -> list[str]:
    parser = argparse.ArgumentParser(prog="scripts/fault_matrix.py", description=__doc__.splitlines()[0])
    parser.add_argument("taps", nargs="*", metavar="TAP", help=f"taps to run (default: all): {', '.join(PROFILES)}")
    taps = parser.parse_args(argv).taps
    unknown = [tap for tap in taps if tap not in PROFILES]
    if unknown:
        parser.error(f"unknown tap {', '.join(unknown)}: choose among {', '.join(PROFILES)}")
    return taps


if __name__ == "__main__":
    sys.exit(main(parse_taps(sys.argv[1:])))
