"""Disks that fill with what the instances write, at a time the traffic decides; freed by
``free_disk``, not by a restart (scenarios/disk-fills-with-logs.yaml)."""

from __future__ import annotations

from typing import Any

import pytest

from sim.response.api import Incident
from sim.simulation import Simulation
from tests.conftest import SCENARIOS, events_of, failed_share, simulate

DISK = SCENARIOS / "disk-fills-with-logs.yaml"
DEPLOY = 20 * 60.0
PER_CALL, FREE = 20_000.0, 1.0e9
NOBODY = {"response.responder": "none"}


def run(overrides: dict[str, Any] | None = None, until: float = 80 * 60) -> Simulation:
    return simulate(DISK, {**NOBODY, **(overrides or {})}, seed=7, until=until)


def real_calls_per_instance(simulation: Simulation, t0: float, t1: float) -> float:
    rows = simulation.engine.metrics.rows
    calls = sum(
        r[3] for r in rows[0 : len(rows)] if r[1:3] == ("component", "web") and t0 <= r[0] < t1
    )
    return calls / (t1 - t0) / 4


@pytest.fixture(scope="module")
def full() -> Simulation:
    return run()


def test_the_disks_fill_when_the_traffic_has_written_the_free_space(full: Simulation) -> None:
    """free ÷ (bytes a call × calls a second an instance), within 10 %; then every call the
    instance serves fails with ENOSPC, and an episode is open."""
    fills = events_of(full, "disk.full")
    assert sorted(e["instance"] for e in fills) == [0, 1, 2, 3]
    first = fills[0]["t"]
    rate = real_calls_per_instance(full, DEPLOY, first)
    assert first - DEPLOY == pytest.approx(FREE / (PER_CALL * rate), rel=0.10)
    assert failed_share(full, first + 60, 80 * 60) > 0.9
    errors = full.engine.metrics.error_rows
    classes = {
        r[3] for r in errors[0 : len(errors)] if r[1:3] == ("component", "web") and r[0] > first
    }
    assert classes == {"OSError"}
    assert [e["type"] for e in events_of(full, "fault.start")] == ["disk_full", "disk_full"]


def test_a_restart_frees_nothing_and_free_disk_brings_it_back_until_it_fills_again() -> None:
    simulation = run(until=75 * 60)
    incident = Incident(simulation, simulation.scenario.horizon)
    incident.restart("web", takes=0.0)
    incident.wait(120)
    assert failed_share(simulation, incident.now - 60, incident.now) > 0.9
    freed = incident.free_disk("web", takes=0.0)
    assert freed.ok
    (episode_end,) = [e for e in events_of(simulation, "fault.end") if e["cause"] == "disk freed"]
    incident.wait(300)
    assert failed_share(simulation, episode_end["t"] + 60, incident.now) < 0.01
    # the deploy still writes: an interval like the first one later, the disks are full again
    first = events_of(simulation, "disk.full")[0]["t"]
    incident.wait(episode_end["t"] + 1.15 * (first - DEPLOY) - incident.now)
    refills = [e for e in events_of(simulation, "disk.full") if e["t"] > episode_end["t"]]
    assert len(refills) == 4


def test_rolled_back_and_freed_it_stays_up() -> None:
    simulation = run(until=75 * 60)
    incident = Incident(simulation, simulation.scenario.horizon)
    back = incident.rollback("dep-web-5.13.0", takes=0.0)
    assert "web-debug-logs" in incident.steps[-1]["remedied"]
    assert failed_share(simulation, back.end - 60, back.end) > 0.5  # still full
    incident.free_disk("web", takes=0.0)
    incident.wait(simulation.scenario.horizon - incident.now)
    fills = events_of(simulation, "disk.full")
    assert all(e["t"] < back.end for e in fills)
    assert failed_share(simulation, incident.now - 1800, incident.now) < 0.01
