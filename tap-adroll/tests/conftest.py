"""Fixtures: an AdRoll emulator on a free loopback port, and settings pointing the tap at it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from adroll_support import ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET, END, PAT, REFRESH_TOKEN, START, make_emulator

if TYPE_CHECKING:
    from emulators.adroll import AdRollEmulator


@pytest.fixture
def emulator():
    emulator = make_emulator().start()
    yield emulator
    emulator.stop()


@pytest.fixture
def config(emulator: AdRollEmulator) -> dict:
    """Personal-access-token settings."""
    return {
        "api_url": emulator.url,
        "api_key": CLIENT_ID,
        "personal_access_token": PAT,
        "start_date": START,
        "end_date": END,
        # These tests assert the order requests arrive in, one at a time's; tests/test_in_flight.py runs with 8.
        "max_concurrent_requests": 1,
    }


@pytest.fixture
def oauth_config(emulator: AdRollEmulator) -> dict:
    """OAuth settings: an access token, a refresh token and the client secret."""
    return {
        "api_url": emulator.url,
        "api_key": CLIENT_ID,
        "access_token": ACCESS_TOKEN,
        "refresh_token": REFRESH_TOKEN,
        "client_secret": CLIENT_SECRET,
        "start_date": START,
        "end_date": END,
        # These tests assert the order requests arrive in, one at a time's; tests/test_in_flight.py runs with 8.
        "max_concurrent_requests": 1,
    }
