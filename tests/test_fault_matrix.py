"""Every tap under every fault of the matrix: exact rows, or a loud failure that a resumed run completes."""

from __future__ import annotations

import pytest
from fault_matrix import PROFILES, run_scenario, scenarios

CASES = [(tap, scenario, in_flight) for tap, make in PROFILES.items() for scenario in scenarios(make()) for in_flight in (1, 8)]


@pytest.mark.parametrize(("tap", "scenario", "in_flight"), CASES, ids=[f"{tap}: {s.name}, {n} in flight" for tap, s, n in CASES])
def test_fault_matrix(tap, scenario, in_flight):
    outcome = run_scenario(PROFILES[tap](), scenario, in_flight)
    assert outcome.ok, outcome.detail
    assert outcome.delivered_rows == outcome.expected_rows > 0
