"""Constants and helpers of the tap-adroll tests (a uniquely named module: the three taps' test suites never
shadow each other's helpers)."""

from __future__ import annotations

import functools
import json

from emulators.adroll import AdRollEmulator
from emulators.testing import discover, select

# Distinctive credentials, so that the tests can look for them in every output.
CLIENT_ID = "adroll-client-4d1e7c"
CLIENT_SECRET = "adroll-secret-Kq7Zp2Xw9LmV"
PAT = "adroll-pat-Hn3Rt8Vb6YcQ"
ACCESS_TOKEN = "adroll-access-Jf5Ug1Mz4TeS"
REFRESH_TOKEN = "adroll-refresh-Wd2Ko9Pa7NxB"
START, END = "2025-03-01", "2025-03-04"  # three report days

REPORT_STREAMS = ("ad_report", "campaign_report", "advertisable_report")
ENTITY_STREAMS = ("organization", "advertisables", "campaigns", "ad_groups", "ads", "segments")


def make_emulator(**options) -> AdRollEmulator:
    return AdRollEmulator(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        personal_access_token=PAT,
        access_token=ACCESS_TOKEN,
        refresh_token=REFRESH_TOKEN,
        **options,
    )


@functools.cache
def _catalog() -> str:
    # The catalog is static (no request at discovery): discover once per test session.
    return json.dumps(discover("tap-adroll", {"api_key": CLIENT_ID, "personal_access_token": PAT, "start_date": START}))


def catalog_for(*streams: str) -> dict:
    """The tap's catalog with exactly ``streams`` selected."""
    return select(json.loads(_catalog()), streams)


def assert_no_secrets(emulator: AdRollEmulator, *outputs: str) -> None:
    for secret in [CLIENT_SECRET, PAT, ACCESS_TOKEN, REFRESH_TOKEN, *emulator.secrets()]:
        for output in outputs:
            assert secret not in output, "a secret or token appears in the tap's output"


def advertisable_bookmarks(state: dict, stream: str) -> dict[str, str]:
    """A report stream's bookmark per advertisable, from a STATE value."""
    partitions = state["bookmarks"][stream].get("partitions", [])
    return {p["context"]["advertisable_eid"]: p["replication_key_value"] for p in partitions if "advertisable_eid" in p["context"]}
