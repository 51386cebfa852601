"""The Singer SDK's standard tap tests, run against the emulator."""

from __future__ import annotations

import atexit

from singer_sdk.testing import SuiteConfig, get_tap_test_class
from tap_rokt.tap import TapRokt

from emulators.rokt import RoktEmulator

# The test class is built at import time, so the emulator must already be listening.
EMULATOR = RoktEmulator().start()
atexit.register(EMULATOR.stop)

TestTapRokt = get_tap_test_class(
    TapRokt,
    config={
        "app_id": EMULATOR.app_id,
        "app_secret": EMULATOR.app_secret,
        "api_url": EMULATOR.url,
        "start_date": "2025-03-01",
        "end_date": "2025-03-04",
    },
    suite_config=SuiteConfig(max_records_limit=500),
)
