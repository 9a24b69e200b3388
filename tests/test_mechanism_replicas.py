"""Replicas: reads routed by role, lag as state, overload relapse from load, crash recovery and
cold caches, and the operators' moves on them (scenarios/replica-relapse.yaml)."""

from __future__ import annotations

from typing import Any

import pytest

import sim
from sim.expect.overrides import apply_overrides
from sim.journal import Journal
from sim.scenario import Scenario
from sim.simulation import Simulation
from tests.conftest import SCENARIOS

RELAPSE = SCENARIOS / "replica-relapse.yaml"
SURGE_ENDS = 60 * 60.0
HEADROOM = 0.2


def variant(overrides: dict[str, Any]) -> Scenario:
    doc = sim.load_scenario(RELAPSE).model_dump(mode="json", by_alias=True)
    return Scenario.model_validate(apply_overrides(doc, overrides))


def crashes(journal: Journal) -> list[float]:
    return [e["t"] for e in journal.events("db.crashed")]


def failed_after(journal: Journal, t: float) -> int:
    f = journal.metrics_frame()
    rows = f[(f.scope == "endpoint") & (f.t >= t)]
    return int((rows.requests - rows.ok).sum())


def surge_load(factor: float) -> float:
    """One replica's read load (queries/s) in the steady part of a surge of ``factor``,
    measured where replicas have capacity to spare (ten times the slots), so nothing falls."""
    roomy = variant({"traffic.surges.0.factor": factor, "components.db.concurrency": 10})
    simulation = Simulation(roomy, 1)
    simulation.advance(1900)
    offered = 0
    tick = simulation.data.tick

    def counting(d: Any) -> None:
        nonlocal offered
        offered += d.members[1].offered
        tick(d)

    simulation.data.tick = counting  # type: ignore[method-assign]
    simulation.advance(3400)
    return offered / 1500


@pytest.mark.parametrize("factor", [1.2, 1.7])
def test_replicas_relapse_if_and_only_if_their_share_passes_their_limit(factor: float) -> None:
    """A surge whose read load on each replica stays under its capacity × (1 − headroom)
    topples nothing; one whose load passes it topples the replicas."""
    scenario = sim.load_scenario(RELAPSE)
    spec = scenario.components["db"]
    limit = spec.concurrency / spec.service_time.mean * (1 - HEADROOM)
    load = surge_load(factor)
    journal = sim.run(
        variant({"traffic.surges.0.factor": factor}), seed=1, responder="none", horizon=2400
    )
    assert bool(crashes(journal)) == (load > limit), (load, limit)
    assert abs(load - limit) > 0.1 * limit  # each case clearly on its side of the line


@pytest.fixture(scope="module")
def nobody() -> Journal:
    return sim.run(sim.load_scenario(RELAPSE), seed=1, responder="none", horizon=6000)


def test_cold_replicas_keep_falling_over_after_the_surge(nobody: Journal) -> None:
    """Nobody responding, the relapse outlives its cause: a replica back from a crash is cold,
    four times slower, and the ordinary read load is more than it can take."""
    late = [t for t in crashes(nobody) if t > SURGE_ENDS + 600]
    assert len(late) >= 5
    (episode,) = nobody.summary["faults"]
    assert episode["type"] == "replica_outage"
    assert episode["ended"] is None


def test_a_crash_takes_boot_plus_redo_to_recover(nobody: Journal) -> None:
    """Each restart comes back after its boot and its redo of the log since the checkpoint."""
    recovering = nobody.events("db.recovering")[:6]
    recovered = nobody.events("db.recovered")
    for event in recovering:
        back = next(
            r for r in recovered if r["instance"] == event["instance"] and r["t"] > event["t"]
        )
        assert back["t"] - event["t"] == pytest.approx(event["boot"] + event["redo"], abs=1e-6)


@pytest.mark.slow
def test_draining_and_adding_back_beats_adding_a_replica(nobody: Journal) -> None:
    """Counterfactual at 65 minutes, after the surge: draining the replicas and adding them
    back warm ends the outage; provisioning a fifth replica (boot + a copy of the data) adds
    one more cold replica to the relapse and fails about as much as doing nothing."""
    drain = sim.run(
        variant(
            {
                "actions": [
                    {"at": "65m", "action": "drain", "target": "db"},
                    {"at": "72m", "action": "add_back", "target": "db"},
                ]
            }
        ),
        seed=1,
        responder="scripted",
        horizon=6000,
    )
    grow = sim.run(
        variant({"actions": [{"at": "65m", "action": "scale_out", "target": "db"}]}),
        seed=1,
        responder="scripted",
        horizon=6000,
    )
    start = 65 * 60.0
    assert failed_after(drain, start) < failed_after(grow, start) / 3
    assert failed_after(grow, start) > failed_after(nobody, start) / 2
    assert drain.summary["errors_stopped"] is not None
    (episode,) = drain.summary["faults"]
    (add_back,) = [s for s in drain.data["response"]["steps"] if s["call"] == "add_back"]
    assert add_back["remedied"] == [episode["id"]]
    (scale,) = [s for s in grow.data["response"]["steps"] if s["call"] == "scale_out"]
    db = sim.load_scenario(RELAPSE).databases["db"]
    copy = sum(t.rows * t.row_bytes for t in db.tables.values()) / db.restore_rate
    assert scale["end"] - scale["t"] == pytest.approx(db.recovery.boot + copy, rel=0.02, abs=5)


def test_a_replica_catches_up_at_its_apply_rate_less_the_write_rate() -> None:
    """Lag is state: a replica 20 minutes behind catches up in backlog ÷ (apply − write)."""
    scenario = variant({"databases.db.replication.lag_at_start": "20m", "traffic.surges": []})
    simulation = Simulation(scenario, 2)
    db = simulation.world.data["db"]
    apply_rate = scenario.databases["db"].replication.apply_rate  # type: ignore[union-attr]
    backlog = db.members[1].backlog
    assert backlog == pytest.approx(1200 * apply_rate)
    written = 0.0
    t = 0.0
    while db.lag(1) > 0 and t < 7200:
        before = sum(tb.rows for tb in db.tables.values())
        simulation.advance(t + 10)
        t += 10
        written += sum(tb.rows for tb in db.tables.values()) - before
    assert db.lag(1) == 0
    write_rate = written / t
    assert t == pytest.approx(backlog / (apply_rate - write_rate), rel=0.10)


def test_reads_go_to_the_replicas_and_writes_to_the_primary() -> None:
    """By role: the primary gets every write and no read; each replica about a third of reads."""
    simulation = Simulation(variant({"traffic.surges": []}), 1)
    db = simulation.world.data["db"]
    offered = dict.fromkeys(range(5), 0)
    tick = simulation.data.tick

    def counting(d: Any) -> None:
        for m in d.members:
            offered[m.i] += m.offered
        tick(d)

    simulation.data.tick = counting  # type: ignore[method-assign]
    simulation.advance(900)
    reads = [offered[i] for i in (1, 2, 3)]
    assert min(reads) > 0.9 * max(reads)
    assert offered[4] == 0  # the spare
    assert 0 < offered[0] < min(reads)  # the primary: writes only
    assert db.readers == (1, 2, 3)


def test_a_scale_out_without_a_spare_is_refused() -> None:
    """With no spare instance left the scale-out is refused at no cost (the quota)."""
    from sim.response.api import Incident

    scenario = variant({"databases.db.replication.spares": 0})
    incident = Incident(Simulation(scenario, 1), 600.0)
    ev = incident.scale_out("db")
    assert not ev.ok
    assert ev.end == ev.t
    assert "no spare instance left" in ev.summary


def test_the_oracle_adds_the_replicas_back_once_the_surge_is_over() -> None:
    """Added back while the surge is on, rested replicas get its load again and relapse after
    the close (seed 6 did, before the oracle waited); the oracle, which knows the traffic,
    adds them back after it and the incident stays resolved."""
    from sim.runner import run
    from sim.scoring.phases import phases

    journal = run(sim.load_scenario(RELAPSE), 6, responder="oracle", compact=True)
    added = [s["t"] for s in journal.data["response"]["steps"] if s["call"] == "add_back"]
    assert added
    assert min(added) >= SURGE_ENDS
    assert phases(journal)["resolution"].status == "ok"
