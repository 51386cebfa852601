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


@pytest.fixture(params=[1, 8], ids=["1 in flight", "8 in flight"])
def in_flight(request: pytest.FixtureRequest) -> int:
    """Requests in flight: every test runs one at a time and with 8 under way, except those that assert the order
    requests reach the emulator in (or which of them a fault hits), which pin 1 with
    ``@pytest.mark.parametrize("in_flight", [1])``."""
    return int(request.param)


@pytest.fixture
def config(emulator: MediaMathEmulator, in_flight: int) -> dict:
    return settings(emulator, max_concurrent_requests=in_flight)


@pytest.fixture
def paginated_config(emulator: MediaMathEmulator, in_flight: int) -> dict:
    return settings(emulator, response_mode="paginated", page_size=50, max_concurrent_requests=in_flight)


def pytest_configure(config: pytest.Config) -> None:
    # Registered here too, so that the marker is known when pytest runs from the repository root.
    config.addinivalue_line("markers", "slow: the million-row streaming run (a minute or more)")
