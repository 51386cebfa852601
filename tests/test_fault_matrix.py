"""Every tap under every fault of the matrix: exact rows, or a loud failure that a resumed run completes."""

from __future__ import annotations

import pytest
from fault_matrix import PROFILES, run_scenario, scenarios

CASES = [(tap, scenario) for tap, make in PROFILES.items() for scenario in scenarios(make())]


@pytest.mark.parametrize(("tap", "scenario"), CASES, ids=[f"{tap}: {s.name}" for tap, s in CASES])
def test_fault_matrix(tap, scenario):
    outcome = run_scenario(PROFILES[tap](), scenario)
    assert outcome.ok, outcome.detail
    assert outcome.delivered_rows == outcome.expected_rows > 0
