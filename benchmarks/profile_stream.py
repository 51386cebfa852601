"""Where a tap's time goes on one report stream of the throughput table: the tap under cProfile, its own time
summed per package (the SDK, the tap, json, requests, ...), then the functions that take the most.

    .venv/bin/python benchmarks/profile_stream.py tap-adroll ad_report [--top 20]

The emulator and the date range are the stream's in benchmarks/profiles.py. cProfile slows the process down
about twofold, evenly enough for shares to hold: read the shares, not the seconds.
"""

from __future__ import annotations

import argparse
import collections
import json
import pstats
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from profiles import PROFILES  # noqa: E402

from emulators.testing import discover, select, tap_executable  # noqa: E402


def package_of(filename: str, name: str = "") -> str:
    """The top-level package a profiled function's file belongs to (C functions: ``<built-in>``, and socket
    calls apart: their time is mostly waiting on the API)."""
    if filename.startswith(("~", "<")):
        return "<socket: waiting on the API>" if "socket" in name else "<built-in>"
    match = re.search(r"site-packages/([^/]+)", filename)
    if match:
        return match.group(1).removesuffix(".py")
    match = re.search(r"/(tap_[a-z]+)/", filename)
    if match:
        return match.group(1)
    return "<stdlib>" if "/lib/python3" in filename else filename


def profile(tap: str, stream_name: str, workdir: Path) -> pstats.Stats:
    bench = PROFILES[tap]()
    stream = next(s for s in bench.streams if s.name == stream_name)
    with bench.make_emulator() as emulator:
        config = bench.config(emulator, stream)
        config_path, catalog_path, out = workdir / "config.json", workdir / "catalog.json", workdir / "tap.prof"
        config_path.write_text(json.dumps(config))
        catalog_path.write_text(json.dumps(select(discover(bench.tap, config), {stream.name})))
        command = [sys.executable, "-m", "cProfile", "-o", str(out), tap_executable(bench.tap),
                   "--config", str(config_path), "--catalog", str(catalog_path)]
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return pstats.Stats(str(out))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tap", choices=sorted(PROFILES))
    parser.add_argument("stream")
    parser.add_argument("--top", type=int, default=20, help="how many functions to list")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stats = profile(args.tap, args.stream, Path(tmp))
    own = collections.Counter()
    functions = []
    for (filename, line, name), (_, calls, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        package = package_of(filename, name)
        own[package] += tottime
        functions.append((tottime, calls, f"{package}: {Path(filename).name}:{line} {name}"))
    total = sum(own.values()) or 1.0
    print(f"## {args.tap} {args.stream}: own time per package ({total:.1f} s profiled)\n")
    print("| package | own s | share |\n|---|---|---|")
    for package, seconds in own.most_common():
        if seconds / total >= 0.005:
            print(f"| {package} | {seconds:.2f} | {seconds / total:.1%} |")
    print(f"\n## the {args.top} functions with the most own time\n")
    print("| own s | share | calls | function |\n|---|---|---|---|")
    for tottime, calls, where in sorted(functions, reverse=True)[: args.top]:
        print(f"| {tottime:.2f} | {tottime / total:.1%} | {calls} | {where} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
