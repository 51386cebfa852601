"""Serve the emulators on loopback until interrupted.

    python -m emulators [--dev] [--providers rokt,adroll] [--port rokt=8101] [--urls-file urls.json]
                        [--latency-ms 200] [--jitter-ms 20] [--accounts 20]
                        [--adroll-nested-lists docs] [--option rokt.token_ttl=3600]

--latency-ms, --jitter-ms and --accounts apply to every provider served (accounts: Rokt accounts, AdRoll
advertisables, MediaMath advertisers per organization); an --option of the same name sets one provider's value.
--adroll-nested-lists: AdRoll's nested entity lists as production sends them (the default: an ad's adgroups as
{id, status} objects) or as the docs read ("docs": an ad's adgroups as adgroup EIDs).

--dev serves each provider on the port the `dev` environment of meltano.yml points its tap at, so that
`meltano run ads-to-duckdb` runs against them from another shell. Without it (or --port) each port is a free one.

Prints one JSON object, provider -> base URL, on stdout (and into --urls-file), then serves.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import signal
import sys
import threading

from emulators import PROVIDERS, emulator_class
from emulators.adroll import NESTED_LIST_SHAPES

# The ports of the `dev` environment's URLs in meltano.yml (tests/test_day_one.py keeps the two the same).
DEV_PORTS = {"rokt": 18101, "adroll": 18102, "mediamath": 18103}


def _pairs(values: list[str]) -> dict[str, str]:
    return dict(value.split("=", 1) for value in values)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m emulators", description=__doc__.splitlines()[0])
    parser.add_argument("--providers", default=",".join(PROVIDERS), help="comma-separated providers to serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--dev", action="store_true", help="serve on the ports of meltano.yml's dev environment")
    parser.add_argument("--port", action="append", default=[], metavar="PROVIDER=PORT")
    parser.add_argument("--option", action="append", default=[], metavar="PROVIDER.NAME=JSON",
                        help="constructor option of one emulator, e.g. rokt.token_ttl=60")
    parser.add_argument("--latency-ms", type=float, default=0, help="milliseconds added to every API request")
    parser.add_argument("--jitter-ms", type=float, default=0, help="plus a uniform draw of up to this many ms")
    parser.add_argument("--accounts", type=int, help="scale of every universe (default: the demo universe)")
    parser.add_argument("--adroll-nested-lists", choices=NESTED_LIST_SHAPES, default="production",
                        help="shape of AdRoll's nested entity lists: as production sends them, or as the docs read")
    parser.add_argument("--urls-file", help="also write the URLs JSON to this file")
    args = parser.parse_args(argv)

    ports = {**(DEV_PORTS if args.dev else {}), **{name: int(port) for name, port in _pairs(args.port).items()}}
    shared: dict = {"latency_ms": args.latency_ms, "latency_jitter_ms": args.jitter_ms}
    if args.accounts is not None:
        shared["accounts"] = args.accounts
    options: dict[str, dict] = {}
    for key, value in _pairs(args.option).items():
        provider, _, name = key.partition(".")
        options.setdefault(provider, {})[name] = json.loads(value)
    options.setdefault("adroll", {}).setdefault("nested_lists", args.adroll_nested_lists)

    emulators = {}
    for provider in args.providers.split(","):
        emulators[provider] = emulator_class(provider)(**{**shared, **options.get(provider, {})})
        try:
            emulators[provider].start(args.host, ports.get(provider, 0))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            for emulator in emulators.values():
                emulator.stop()
            sys.exit(
                f"python -m emulators: port {ports[provider]} ({provider}) on {args.host} is already in use: stop what "
                f"listens there (emulators left running?), or serve {provider} on another port with --port {provider}=PORT"
            )
    urls = {provider: emulator.url for provider, emulator in emulators.items()}
    if args.urls_file:
        # Written whole, then renamed, before the URLs are printed: whoever reads either sees them complete.
        partial = f"{args.urls_file}.partial"
        with open(partial, "w", encoding="utf-8") as handle:
            json.dump(urls, handle)
        os.replace(partial, args.urls_file)
    print(json.dumps(urls), flush=True)
    if args.dev:
        print("Serving the dev environment's APIs: run meltano in another shell; Ctrl-C stops them.", file=sys.stderr, flush=True)

    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
    for emulator in emulators.values():
        emulator.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
