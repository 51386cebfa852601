"""Fixtures: a MediaMath emulator on a free loopback port, and settings pointing the tap at it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from mediamath_support import make_emulator, settings

if TYPE_CHECKING:
    from emulators.mediamath import MediaMathEmulator


@pytest.fixture
def emulator():
    with make_emulator() as emulator:
        yield emulator


@pytest.fixture
def config(emulator: MediaMathEmulator) -> dict:
    return settings(emulator)


@pytest.fixture
def paginated_config(emulator: MediaMathEmulator) -> dict:
    return settings(emulator, response_mode="paginated", page_size=50)


def pytest_configure(config: pytest.Config) -> None:
    # Registered here too, so that the marker is known when pytest runs from the repository root.
    config.addinivalue_line("markers", "slow: the million-row streaming run (a minute or more)")
