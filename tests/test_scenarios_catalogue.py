"""Every scenario in the catalogue validates and runs a short horizon."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim
from tests.conftest import SCENARIOS

FILES = sorted(SCENARIOS.glob("*.yaml"))


def test_catalogue_has_the_three_founding_scenarios() -> None:
    """The seed incident, the payment outage and the flash sale ship with the project."""
    names = {p.stem for p in FILES}
    assert {"bad-schema-migration", "payment-provider-outage", "flash-sale-surge"} <= names


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_scenario_validates_and_runs(path: Path) -> None:
    """Each scenario loads, its name matches its file, and 10 simulated minutes produce traffic."""
    scenario = sim.load_scenario(path)
    assert scenario.name == path.stem
    journal = sim.run(scenario, horizon=600)
    assert journal.summary["requests"] > 0
    assert journal.summary["sessions"] > 0


@pytest.mark.parametrize(
    ("name", "endpoint", "error_class"),
    [
        ("payment-provider-outage", "pay", "Timeout"),
        ("flash-sale-surge", "search", "Timeout"),
    ],
)
def test_other_incidents_break_what_they_should(name: str, endpoint: str, error_class: str) -> None:
    """The payment outage breaks payments; the flash sale makes searches time out."""
    journal = sim.run(sim.load_scenario(SCENARIOS / f"{name}.yaml"), horizon=2700)
    assert journal.summary["errors_started"] is not None
    errors = journal.errors_frame()
    hit = errors[(errors.scope == "endpoint") & (errors.name == endpoint)]
    assert error_class in set(hit.error_class)
