"""Fixtures: a Rokt emulator on a free loopback port, and settings pointing the tap at it."""

from __future__ import annotations

import pytest
from rokt_support import APP_ID, APP_SECRET, END, START

from emulators.rokt import RoktEmulator


@pytest.fixture
def emulator():
    with RoktEmulator(app_id=APP_ID, app_secret=APP_SECRET) as emulator:
        yield emulator


@pytest.fixture
def config(emulator: RoktEmulator) -> dict:
    return {
        "app_id": APP_ID,
        "app_secret": APP_SECRET,
        "api_url": emulator.url,
        "start_date": START,
        "end_date": END,
    }
