"""A memory leak: instances OOM-killed when their leak runs out of headroom, at a time the
traffic decides (scenarios/memory-leak-oom.yaml)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

import sim
from sim.simulation import Simulation
from tests.conftest import SCENARIOS, simulate

LEAK = SCENARIOS / "memory-leak-oom.yaml"
DEPLOY = 10 * 60.0
HEADROOM = 1.2e9
PER_CALL = 40_000.0


def run(overrides: dict[str, Any] | None = None, until: float | None = None) -> Simulation:
    return simulate(LEAK, overrides, until=until)


def kill_rounds(simulation: Simulation) -> list[float]:
    """The times at which instances were killed, one per round of simultaneous kills."""
    rounds: list[float] = []
    for t, _, _ in simulation.memory.kills:
        if not rounds or t - rounds[-1] > 1.0:
            rounds.append(t)
    return rounds


def real_calls_per_instance(simulation: Simulation, t0: float, t1: float) -> float:
    """Real calls per second per instance the web tier served in [t0, t1) (its rows count
    real calls: simulated × represents)."""
    rows = simulation.engine.metrics.rows
    calls = sum(
        r[3]
        for r in rows[0 : len(rows)]
        if r[1] == "component" and r[2] == "web" and t0 <= r[0] < t1
    )
    return calls / (t1 - t0) / 5


@pytest.fixture(scope="module")
def leaking() -> Simulation:
    return run()


def test_the_first_kill_comes_when_the_traffic_has_filled_the_headroom(
    leaking: Simulation,
) -> None:
    """headroom ÷ (bytes per call × calls per second per instance), within 10 %, and every
    instance at once (they took the same share since the same deploy)."""
    first = kill_rounds(leaking)[0]
    rate = real_calls_per_instance(leaking, DEPLOY, first)
    predicted = HEADROOM / (PER_CALL * rate)
    assert first - DEPLOY == pytest.approx(predicted, rel=0.10)
    assert sorted(i for t, _, i in leaking.memory.kills if t == first) == [0, 1, 2, 3, 4]


@pytest.mark.slow
def test_twice_the_traffic_runs_out_in_half_the_time(leaking: Simulation) -> None:
    busy = run({"traffic.arrival_rate": 10.4}, until=75 * 60)
    normal = kill_rounds(leaking)[0] - DEPLOY
    doubled = kill_rounds(busy)[0] - DEPLOY
    assert doubled == pytest.approx(normal / 2, rel=0.15)


def test_the_kills_come_sooner_as_the_evening_traffic_rises(leaking: Simulation) -> None:
    rounds = kill_rounds(leaking)
    gaps = [b - a for a, b in itertools.pairwise(rounds)]
    assert len(gaps) >= 4
    assert gaps[-1] < 0.85 * gaps[0]


def test_each_kill_takes_the_instance_down_for_its_restart(leaking: Simulation) -> None:
    """Down for restart_time, back with its memory free, the shop failing meanwhile; the
    host's log has the kernel's line."""
    kills = [e for e in leaking.timeline if e["kind"] == "instance.oom_killed"]
    back = [e for e in leaking.timeline if e["kind"] == "instance.restarted"]
    assert [round(b["t"] - k["t"], 6) for k, b in zip(kills, back, strict=False)][:5] == [45.0] * 5
    assert all(k["leaked"] >= HEADROOM for k in kills)
    examples = [s.example for s in leaking.logs.signatures() if s.component == "web"]
    assert any(m.startswith("Out of memory: Killed process") for m in examples)
    assert any("OOMKilled (exit code 137)" in m for m in examples)


@pytest.mark.slow
def test_a_restart_buys_time_and_a_rollback_ends_it(leaking: Simulation) -> None:
    """Counterfactuals: a rolling restart at 40 min frees every instance's memory (the next
    kills come one by one, about half an hour after each restart); rolling the deploy back
    at 50 min ends the leak."""
    restarted = run(
        {
            "response.responder": "scripted",
            "actions": [{"at": "40m", "action": "restart", "target": "web"}],
        },
        until=2 * 3600,
    )
    first = kill_rounds(leaking)[0]
    kills = [t for t, _, _ in restarted.memory.kills]
    assert min(kills) > 40 * 60 + 25 * 60
    assert len({round(t) for t in kills[:5]}) == 5  # one at a time now, as they restarted
    assert min(kills) - 40 * 60 > first - DEPLOY - 5 * 60
    rolled = run(
        {
            "response.responder": "scripted",
            "actions": [{"at": "30m", "action": "rollback_deploy", "target": "dep-web-5.13.0"}],
        },
        until=2 * 3600,
    )
    assert not rolled.memory.kills
    assert "fragment-cache-leak" in rolled.faults.ended


def test_the_flow_engine_refuses_a_leak_by_name() -> None:
    with pytest.raises(ValueError, match="memory leaks and OOM kills"):
        sim.run(sim.load_scenario(LEAK), 1, engine="flow", horizon=60)
