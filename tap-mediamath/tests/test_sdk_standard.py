"""The Singer SDK's standard tap tests, run against the emulator (three report days)."""

from __future__ import annotations

import atexit

from mediamath_support import make_emulator, settings
from singer_sdk.testing import SuiteConfig, get_tap_test_class
from tap_mediamath.tap import TapMediaMath

# The test class is built at import time, so the emulator must already be listening.
EMULATOR = make_emulator().start()
atexit.register(EMULATOR.stop)

TestTapMediaMath = get_tap_test_class(
    TapMediaMath,
    config=settings(EMULATOR, start_date="2025-01-01", end_date="2025-01-04"),
    suite_config=SuiteConfig(max_records_limit=500),
)
