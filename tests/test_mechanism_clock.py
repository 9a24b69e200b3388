"""Clocks that drift: each instance fails once its skew passes the tolerance, at a time its
drift decides; a restart steps it back (scenarios/clocks-drift-apart.yaml)."""

from __future__ import annotations

import pytest

from sim.faults.mechanisms.clock import rate
from sim.response.api import Incident
from sim.simulation import Simulation
from tests.conftest import SCENARIOS, events_of, simulate

CLOCKS = SCENARIOS / "clocks-drift-apart.yaml"
SINCE, DRIFT, TOLERANCE = 854_700.0, 5.0e-5, 60.0
NOBODY = {"response.responder": "none"}


def auth_failing(simulation: Simulation, t0: float, t1: float) -> float:
    rows = simulation.engine.metrics.rows
    errors = simulation.engine.metrics.error_rows
    calls = sum(
        r[3] for r in rows[0 : len(rows)] if r[1:3] == ("component", "auth") and t0 <= r[0] < t1
    )
    bad = sum(
        r[4]
        for r in errors[0 : len(errors)]
        if r[1:4] == ("component", "auth", "InvalidToken") and t0 <= r[0] < t1
    )
    return bad / calls if calls else 0.0


@pytest.fixture(scope="module")
def drifting() -> Simulation:
    return simulate(CLOCKS, NOBODY, seed=9, until=60 * 60)


def test_the_fastest_clock_crosses_the_tolerance_first_when_its_drift_says(
    drifting: Simulation,
) -> None:
    """tolerance ÷ its drift after the sync stopped (within a tick); then the calls it gets —
    a third, round robin — fail, and the slower clocks are still inside the leeway."""
    (skewed,) = events_of(drifting, "clock.skewed")
    assert skewed["instance"] == 2
    predicted = TOLERANCE / rate(DRIFT, 2, 3) - SINCE
    assert predicted <= skewed["t"] <= predicted + 5.0
    assert auth_failing(drifting, skewed["t"] - 600, skewed["t"] - 10) == 0.0
    assert auth_failing(drifting, skewed["t"] + 60, 60 * 60) == pytest.approx(1 / 3, abs=0.05)
    skews = [drifting.clocks.skew("auth", i) for i in range(3)]
    assert skews[0] < skews[1] < TOLERANCE < skews[2]


def test_a_restart_steps_the_clocks_back_and_a_fix_ends_it() -> None:
    simulation = simulate(CLOCKS, NOBODY, seed=9, until=50 * 60)
    incident = Incident(simulation, 2 * 3600)
    incident.restart("auth", takes=0.0)
    after = incident.now
    assert max(simulation.clocks.skew("auth", i) for i in range(3)) < 1.0
    incident.wait(10 * 60)
    assert auth_failing(simulation, after + 30, incident.now) == 0.0
    assert events_of(simulation, "fault.end") == []  # still drifting: it will cross again
    incident.diagnose("auth", takes=0.0)
    incident.fix("auth", takes=0.0)
    assert [e["id"] for e in events_of(simulation, "fault.end")] == ["auth-ntp-lost"]
    assert simulation.clocks.skew("auth", 2) == 0.0
