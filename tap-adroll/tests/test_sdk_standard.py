"""The Singer SDK's standard tap tests, run against the emulator (two report days)."""

from __future__ import annotations

import atexit

from adroll_support import CLIENT_ID, PAT, make_emulator
from singer_sdk.testing import SuiteConfig, get_tap_test_class
from tap_adroll.tap import TapAdRoll

# The test class is built at import time, so the emulator must already be listening.
EMULATOR = make_emulator().start()
atexit.register(EMULATOR.stop)

TestTapAdRoll = get_tap_test_class(
    TapAdRoll,
    config={
        "api_url": EMULATOR.url,
        "api_key": CLIENT_ID,
        "personal_access_token": PAT,
        "start_date": "2025-03-01",
        "end_date": "2025-03-03",
    },
    suite_config=SuiteConfig(max_records_limit=500),
)
