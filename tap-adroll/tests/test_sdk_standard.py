"""The SDK's standard tap tests, against an emulator started at import (the config needs its URL)."""

from __future__ import annotations

import atexit

from adroll_support import CLIENT_ID, PAT, make_emulator
from singer_sdk.testing import SuiteConfig, get_tap_test_class
from tap_adroll.tap import TapAdRoll

_EMULATOR = make_emulator().start()
atexit.register(_EMULATOR.stop)

SDK_CONFIG = {
    "api_url": _EMULATOR.url,
    "api_key": CLIENT_ID,
    "personal_access_token": PAT,
    "start_date": "2025-03-01",
    "end_date": "2025-03-03",  # two report days
}

TestTapAdRoll = get_tap_test_class(
    TapAdRoll,
    config=SDK_CONFIG,
    suite_config=SuiteConfig(ignore_no_records_for_streams=[]),
)
