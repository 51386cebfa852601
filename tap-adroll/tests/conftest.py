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


@pytest.fixture
def config(emulator: AdRollEmulator) -> dict:
    """Personal-access-token settings."""
    return {
        "api_url": emulator.url,
        "api_key": CLIENT_ID,
        "personal_access_token": PAT,
        "start_date": START,
        "end_date": END,
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
    }
