"""Fixtures: a Rokt emulator on a free loopback port, and settings pointing the tap at it."""

from __future__ import annotations

import pytest
from rokt_support import APP_ID, APP_SECRET, END, START

from emulators.rokt import RoktEmulator


@pytest.fixture
def emulator():
    with RoktEmulator(app_id=APP_ID, app_secret=APP_SECRET) as emulator:
        yield emulator


@pytest.fixture(params=[1, 8], ids=["1 in flight", "8 in flight"])
def in_flight(request: pytest.FixtureRequest) -> int:
    """Requests in flight: every test runs one at a time and with 8 under way, except those that assert the order
    requests reach the emulator in (or which of them a fault hits), which pin 1 with
    ``@pytest.mark.parametrize("in_flight", [1])``."""
    return int(request.param)


@pytest.fixture
def config(emulator: RoktEmulator, in_flight: int) -> dict:
    return {
        "app_id": APP_ID,
        "app_secret": APP_SECRET,
        "api_url": emulator.url,
        "start_date": START,
        "end_date": END,
        "max_concurrent_requests": in_flight,
    }
