"""Shards: a component whose instances hold different data sends each shopper's (client's)
calls to the one instance its key maps to (``balancing: shard``): one shard down fails its
keys' calls and nobody else's, and a retry goes back to the same shard
(scenarios/shard-host-fails.yaml, shops/api-platform.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import sim
from sim.engine.flow.engine import flow_lacks
from sim.response.api import Incident
from sim.runner import run
from sim.scenario.errors import ScenarioError
from sim.scoring.phases import phases
from sim.simulation import Simulation
from tests.conftest import SCENARIOS, failed_share, simulate

SHARD_DOWN = SCENARIOS / "shard-host-fails.yaml"
FAULT = 25 * 60.0
UNTIL = 45 * 60.0
NOBODY = {"response.responder": "none"}


@pytest.fixture(scope="module")
def sharded() -> Simulation:
    return simulate(SHARD_DOWN, NOBODY, until=UNTIL)


@pytest.fixture(scope="module")
def spread() -> Simulation:
    """The same host down, the instances copies of one another (round robin)."""
    return simulate(
        SHARD_DOWN, {**NOBODY, "components.shards.balancing": "round_robin"}, until=UNTIL
    )


def _shard_lines(simulation: Simulation) -> list[Any]:
    return list(simulation.logs.query(text="out of rotation", start=FAULT))


def test_one_shard_down_fails_an_eighth_of_the_keys_and_retries_do_not_help(
    sharded: Simulation, spread: Simulation
) -> None:
    before = failed_share(sharded, 0.0, FAULT)
    during = failed_share(sharded, FAULT + 120.0, UNTIL)
    assert before < 0.005
    # three of the four steps read or write the customer's shard; an eighth of the keys are
    # on shard 0, and their clients' four tries all go back to it
    assert 0.75 / 8 * 0.6 < during < 0.75 / 8 * 1.6
    # copies instead of shards: the checks eject the dead host and the others serve its calls
    assert failed_share(spread, FAULT + 120.0, UNTIL) < during / 10


def test_the_failures_name_the_shard_that_holds_the_key(sharded: Simulation) -> None:
    lines = _shard_lines(sharded)
    assert lines
    assert all("shard shards-0 (this key's) is out of rotation" in line.message for line in lines)
    assert {line.component for line in lines} <= {"records", "ledger"}


def test_the_responder_fails_the_one_shard_over_rather_than_restart_all_eight() -> None:
    journal = run(sim.load_scenario(SHARD_DOWN), 1, responder="experienced", compact=True)
    steps = [(s["call"], s["target"], s["ok"]) for s in journal.data["response"]["steps"]]
    failover = steps.index(("failover", "shards", True))
    assert ("diagnose", "shards", True) in steps[:failover]
    assert not any(call == "restart" and target == "shards" for call, target, _ in steps)
    assert phases(journal)["mitigation"].status == "ok"


def test_the_flow_engine_refuses_shards_by_name() -> None:
    scenario = sim.load_scenario(SHARD_DOWN)
    assert any(lack.startswith("shards (shards:") for lack in flow_lacks(scenario))


def test_a_scale_out_of_a_shard_is_refused_with_the_reason() -> None:
    scenario = sim.load_scenario(SHARD_DOWN)
    incident = Incident(Simulation(scenario, 1), scenario.horizon)
    ev = incident.scale_out("shards")
    assert not ev.ok
    assert "sharded" in ev.summary
    assert "resharding" in ev.summary
    assert ev.end == ev.t  # refused at once: no time spent


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "databases:\n  shards:\n    tables:\n      transfers: {rows: 1000, row_bytes: 100}\n",
            "shards is sharded (balancing: shard): its instances hold different data",
        ),
        (
            "components:\n  shards:\n    autoscaling: {metric: cpu, target: 0.6, min: 8, max: 12}\n",
            "a sharded component does not autoscale",
        ),
    ],
)
def test_what_a_shard_cannot_have_is_refused_with_file_and_line(
    extra: str, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "sharded.yaml"
    path.write_text(f"extends: shops/api-platform.yaml\nname: x\n{extra}", encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        sim.load_scenario(path)
    (problem,) = caught.value.problems
    assert message in str(problem)
    assert str(problem).startswith(f"{path}:")
