"""Constants and helpers shared by the tap-mediamath tests (a uniquely named module, so the three taps'
test suites can run in one pytest session)."""

from __future__ import annotations

import datetime as dt

from emulators.mediamath import MediaMathEmulator

# Distinctive credentials, so that the tests can look for them in every output.
CLIENT_ID = "mm-client-3b7e21"
CLIENT_SECRET = "mm-client-secret-Vq9Rz4Lk"
USERNAME = "reporting-bot@example.com"
PASSWORD = "mm-password-Jx5Tn8Pw"
ORG = 100001
START, END = "2025-01-01", "2025-01-11"  # ten report days
START_DAY, END_DAY = dt.date(2025, 1, 1), dt.date(2025, 1, 11)
SECRETS = (CLIENT_SECRET, PASSWORD)


def make_emulator(**options) -> MediaMathEmulator:
    return MediaMathEmulator(username=USERNAME, password=PASSWORD, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, **options)


def settings(emulator: MediaMathEmulator, **overrides) -> dict:
    config = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "username": USERNAME,
        "password": PASSWORD,
        "organization_id": ORG,
        "api_url": f"{emulator.url}/reporting/v2",
        "auth_url": f"{emulator.url}/oauth/token",
        "start_date": START,
        "end_date": END,
        # Week-long windows (the default is 31 days), so that ten report days make two requests and the tests
        # can break the second one.
        "report_window_days": 7,
        # These tests break "the second request" and assert the order requests arrive in, which is one request at
        # a time's; tests/test_in_flight.py runs the taps with 8 in flight.
        "max_concurrent_requests": 1,
    }
    config.update(overrides)
    return config


# ---------------------------------------------------------------------- large streaming runs

LEAN_REPORT = {"name": "lean", "dataset": "performance", "fields": ["strategy_id", "impressions", "total_spend"]}


def lean_catalog(config: dict) -> dict:
    """A catalog selecting only the lean report stream (the performance stream deselected)."""
    from tap_mediamath.tap import TapMediaMath

    from emulators.testing import select

    tap = TapMediaMath(config=config, validate_config=True, setup_mapper=False)
    return select(tap.catalog_dict, ["lean"])


def count_records(config: dict, catalog: dict, timeout: float = 900, *, check_schemas: bool = True) -> dict:
    """Run the tap as a child process, count its RECORD lines as they come (nothing kept in memory), check each
    against its stream's SCHEMA (in a process of its own, emulators.testing.RecordCheckProcess; ``check_seconds``:
    its CPU time), and measure the child's peak RSS. A record that breaks its schema raises
    ``SchemaViolationError`` once the child has ended.

    ``peak_rss_mb`` is the tap's own high-water mark (``VmHWM`` of /proc/<pid>/status, sampled every 0.1 s
    until it exits). ``rusage_maxrss_mb`` is ``wait4``'s ``ru_maxrss`` of the child, which on Linux also counts
    the pages the child shared with this (forking) process before it exec'd the tap: with a large emulator
    in this process it reports this process's size, not the tap's.
    """
    import json
    import os
    import subprocess
    import tempfile
    import threading
    import time
    from pathlib import Path

    from emulators.testing import RecordCheckProcess, tap_executable

    with tempfile.TemporaryDirectory() as tmp:
        config_path, catalog_path = Path(tmp) / "config.json", Path(tmp) / "catalog.json"
        config_path.write_text(json.dumps(config))
        catalog_path.write_text(json.dumps(catalog))
        stderr_path = Path(tmp) / "stderr.txt"
        started = time.monotonic()
        with stderr_path.open("w") as stderr:
            child = subprocess.Popen(
                [tap_executable("tap-mediamath"), "--config", str(config_path), "--catalog", str(catalog_path)],
                stdout=subprocess.PIPE,
                stderr=stderr,
            )
            marks: list[int] = []
            finished = threading.Event()

            def sample() -> None:
                while not finished.is_set():  # (not child.poll(): wait4 must reap the child)
                    try:
                        with open(f"/proc/{child.pid}/status") as status:
                            marks.extend(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
                    except (OSError, ValueError):
                        pass
                    time.sleep(0.1)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            records = 0
            last_state = None
            checker = RecordCheckProcess("tap-mediamath") if check_schemas else None
            assert child.stdout is not None
            for line in child.stdout:
                if line.startswith(b'{"type":"RECORD"'):
                    records += 1
                    if checker:
                        checker.line(line)
                elif line.startswith(b'{"type":"STATE"'):
                    last_state = line
                elif line.startswith(b'{"type":"SCHEMA"') and checker:
                    checker.line(line)
            finished.set()
            sampler.join()
            _, status, usage = os.wait4(child.pid, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        if checker:
            checker.finish()
        return {
            "returncode": child.returncode,
            "records": records,
            "seconds": seconds,
            "records_per_second": records / seconds if seconds else 0.0,
            "checked_records": checker.records if checker else 0,
            "check_seconds": checker.seconds if checker else 0.0,
            "peak_rss_mb": max(marks, default=0) / 1024,
            "rusage_maxrss_mb": usage.ru_maxrss / 1024,
            "state": json.loads(last_state)["value"] if last_state else None,
            "stderr": stderr_path.read_text()[-3000:],
        }
