"""Fixtures: a Rokt emulator on a free loopback port, and settings pointing the tap at it."""

from __future__ import annotations

import pytest

from emulators.rokt import ACCOUNTS, RoktEmulator

# Distinctive credentials, so that the tests can look for them in every output.
APP_ID = "rokt-app-id-7f3a91"
APP_SECRET = "rokt-secret-Zq8XwP2mV5nL"
START, END = "2025-03-01", "2025-03-11"  # ten report days
ACCOUNT_IDS = [account.account_id for account in ACCOUNTS]


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
