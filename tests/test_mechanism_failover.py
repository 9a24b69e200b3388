"""Promoting a replica when the primary is gone: it takes over once it has replayed what it
lacks — backlog ÷ apply rate, then a switchover — so how long a failover takes is the world's
to say (scenarios/primary-failover.yaml)."""

from __future__ import annotations

import functools
from typing import Any

import pytest

import sim
from sim.expect.overrides import apply_overrides
from sim.faults.mechanisms.datatier import PROMOTE_SWITCH
from sim.journal import Journal
from sim.model.data import DatabaseState
from sim.scenario import Scenario
from tests.conftest import SCENARIOS, drill_transcript

FAILOVER = SCENARIOS / "primary-failover.yaml"
LOST_AT = 25 * 60.0
ACT_AT = 40 * 60.0


def variant(overrides: dict[str, Any]) -> Scenario:
    doc = sim.load_scenario(FAILOVER).model_dump(mode="json", by_alias=True)
    return Scenario.model_validate(apply_overrides(doc, overrides))


@functools.cache
def scripted(action: str, **overrides: Any) -> Journal:
    """The loss, and one ``action`` on db at 40 min by the scripted responder (run once per
    action and overrides in a process: four tests read the plain promotion, none changes it)."""
    scenario = variant({"actions": [{"at": "40m", "action": action, "target": "db"}], **overrides})
    return sim.run(scenario, seed=1, responder="scripted")


def fault_ended(journal: Journal) -> float:
    (end,) = [e["t"] for e in journal.events("fault.end") if e["id"] == "primary-volume-lost"]
    return float(end)


def test_the_promotion_waits_for_the_replay_of_what_the_replica_lacks() -> None:
    """The replica has replayed the import since 08:00 at its apply rate (the primary wrote
    little, and nothing after the loss): at 40 min it is 90 − 40 min behind, and taking over
    takes that replay plus the switchover."""
    journal = scripted("promote")
    (began,) = journal.events("db.promoting")
    (done,) = journal.events("db.promoted")
    assert began["t"] == pytest.approx(ACT_AT)
    assert began["lag"] == pytest.approx(50 * 60, rel=0.01)
    assert done["t"] - began["t"] == pytest.approx(began["lag"] + PROMOTE_SWITCH)
    assert fault_ended(journal) == pytest.approx(done["t"])
    (end,) = journal.events("action.end")
    assert end["decided_by"] == "mechanism"


@pytest.mark.slow
def test_a_replica_further_behind_takes_over_later_by_exactly_its_extra_lag() -> None:
    near = scripted("promote")
    far = scripted("promote", **{"databases.db.replication.lag_at_start": "120m", "horizon": "3h"})
    assert fault_ended(far) - fault_ended(near) == pytest.approx(30 * 60, rel=0.01)


@pytest.mark.slow
def test_promoting_beats_restoring_when_the_replay_is_shorter_than_the_copy() -> None:
    """Counterfactual at the same moment: the restore copies 19 GB at 5 MB/s (about an hour)
    and boots; the promotion replays 50 minutes of log."""
    promoted = scripted("promote")
    restored = scripted("restore")
    (copy,) = restored.events("db.restoring")
    assert fault_ended(restored) - ACT_AT == pytest.approx(copy["seconds"])
    assert fault_ended(promoted) < fault_ended(restored)
    # … and the other way round when the replicas are further behind than the copy takes
    late = scripted("promote", **{"databases.db.replication.lag_at_start": "3h", "horizon": "4h"})
    assert fault_ended(late) > fault_ended(restored)


def test_writes_fail_until_the_promotion_and_reads_never_do() -> None:
    """Between the loss and the promotion logins (writes to sessions) fail and browsing (reads
    from the replicas) does not; after it, nothing fails."""
    journal = scripted("promote")
    (done,) = journal.events("db.promoted")
    f = journal.metrics_frame()
    ends = f[f.scope == "endpoint"]
    failed = ends.requests - ends.ok
    during = (ends.t > LOST_AT + 60) & (ends.t < done["t"])
    login, home = ends.name == "login", ends.name == "home"
    assert failed[during & login].sum() > 0.9 * ends.requests[during & login].sum() > 0
    assert failed[during & home].sum() == 0
    assert failed[ends.t > done["t"] + 120].sum() == 0


@pytest.mark.slow
def test_the_experienced_responder_promotes_from_the_database_view() -> None:
    """It sees the primary's data lost and replicas streaming in the database view, and
    promotes rather than restores; the oracle does the same."""
    journal = sim.run(sim.load_scenario(FAILOVER), seed=1, responder="experienced")
    calls = [s["call"] for s in journal.data["response"]["steps"]]
    assert "promote" in calls
    assert "restore" not in calls
    looked = list(journal.data["response"]["steps"][: calls.index("promote")])
    assert any(s["call"] == "db" and "data lost" in str(s["evidence"]) for s in looked)
    oracle = sim.run(sim.load_scenario(FAILOVER), seed=1, responder="oracle")
    assert [s["call"] for s in oracle.data["response"]["steps"]].count("promote") == 1


def test_promote_is_refused_without_a_replica_or_a_data_tier() -> None:
    from sim.response.api import Incident
    from sim.simulation import Simulation

    lone = sim.load_scenario(SCENARIOS / "primary-data-loss.yaml")
    ev = Incident(Simulation(lone, 1), 600.0).promote("db")
    assert not ev.ok
    assert ev.end == ev.t
    assert "not a database with replicas" in ev.summary
    drain = Incident(Simulation(lone, 1), 600.0).drain("db")
    assert not drain.ok
    assert "'db' is not a database with replicas (this scenario has none)" in drain.summary


def test_the_candidate_is_the_serving_replica_least_behind() -> None:
    spec = sim.load_scenario(FAILOVER).databases["db"]
    db = DatabaseState("db", spec, 4)
    db.members[1].backlog, db.members[2].backlog, db.members[3].backlog = 900.0, 300.0, 100.0
    db.members[3].crashed = True
    assert db.candidate() == 2
    db.members[2].lost = True
    assert db.candidate() == 1
    db.members[1].recovering_until = 10.0
    assert db.candidate() is None


@pytest.mark.slow
def test_in_the_drill_a_promotion_runs_while_the_trainee_goes_on() -> None:
    """`promote db` starts the replay and hands the clock back at once, with the estimate an
    engineer could make from the lag; the step completes when the promotion ends."""
    journal, shown = drill_transcript(
        FAILOVER, 2, ("db db", "promote db", "update", "wait 1h", "quit")
    )
    assert "promote db started; at the data's size and rates, this takes about" in shown
    steps = {s["call"]: s for s in journal.data["response"]["steps"]}
    promote, update = steps["promote"], steps["update"]
    assert update["t"] < promote["end"]  # the trainee posted an update during the replay
    assert promote["remedied"] == ["primary-volume-lost"]
    (done,) = journal.events("db.promoted")
    assert promote["end"] == pytest.approx(done["t"], abs=1e-6)
