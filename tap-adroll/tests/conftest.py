"""Fixtures: an AdRoll emulator on a free loopback port, and settings pointing the tap at it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from adroll_support import ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET, END, PAT, REFRESH_TOKEN, START, make_emulator

if TYPE_CHECKING:
    from emulators.adroll import AdRollEmulator


@pytest.fixture
def nested_lists() -> str:
    """The shape of the emulator's nested entity lists: production's by default; tests parametrize it over both."""
    return "production"


@pytest.fixture
def emulator(nested_lists: str):
    emulator = make_emulator(nested_lists=nested_lists).start()
    yield emulator
    emulator.stop()


@pytest.fixture(params=[1, 8], ids=["1 in flight", "8 in flight"])
def in_flight(request: pytest.FixtureRequest) -> int:
    """Requests in flight: every test runs one at a time and with 8 under way, except those that assert the order
    requests reach the emulator in (or which of them a fault hits), which pin 1 with
    ``@pytest.mark.parametrize("in_flight", [1])``."""
    return int(request.param)


@pytest.fixture
def config(emulator: AdRollEmulator, in_flight: int) -> dict:
    """Personal-access-token settings."""
    return {
        "api_url": emulator.url,
        "api_key": CLIENT_ID,
        "personal_access_token": PAT,
        "start_date": START,
        "end_date": END,
        "max_concurrent_requests": in_flight,
    }


@pytest.fixture
def oauth_config(emulator: AdRollEmulator, in_flight: int) -> dict:
    """OAuth settings: an access token, a refresh token and the client secret."""
    return {
        "api_url": emulator.url,
        "api_key": CLIENT_ID,
        "access_token": ACCESS_TOKEN,
        "refresh_token": REFRESH_TOKEN,
        "client_secret": CLIENT_SECRET,
        "start_date": START,
        "end_date": END,
        "max_concurrent_requests": in_flight,
    }
