"""Changes outside the change log: an automation's or a customer's change (``logged: false``)
is not in ``changes`` but is in the history of a component it touched (``changes
COMPONENT``); the experienced responder reads that history when the component it suspects
has no logged change to explain it, and a trainee can roll back only what they have seen
(scenarios/quota-cuts-the-login-service.yaml: Google's quota automation, 2020)."""

from __future__ import annotations

import sim
from sim.response.api import Incident
from sim.runner import run
from sim.simulation import Simulation
from tests.conftest import SCENARIOS, drill_transcript

QUOTA = SCENARIOS / "quota-cuts-the-login-service.yaml"
CHANGE = "cfg-quota-auth-accounts"  # by the quota automation, at 46 minutes, on auth


def _incident_at(minutes: float) -> Incident:
    scenario = sim.load_scenario(QUOTA)
    incident = Incident(Simulation(scenario, 1), scenario.horizon)
    incident.wait(minutes * 60)
    return incident


def test_the_change_log_leaves_it_out_and_the_components_history_shows_it() -> None:
    incident = _incident_at(50)
    log = incident.changes()
    assert [c["id"] for c in log.facts["changes"]] == ["dep-search-0.20.0"]
    history = incident.changes("auth")
    (change,) = history.facts["changes"]
    assert change["id"] == CHANGE
    assert change["logged"] is False
    assert history.summary.startswith("auth's history: ")
    assert history.end > history.t  # a look costs time, as every look does
    # a component nothing changed
    assert incident.changes("search").facts["changes"][0]["id"] == "dep-search-0.20.0"
    assert incident.changes("cart").summary == "no change to cart in the last six hours"
    refused = incident.changes("nope")
    assert not refused.ok
    assert refused.end == refused.t


def test_the_experienced_responder_reads_the_suspects_history_before_naming_the_change() -> None:
    journal = run(sim.load_scenario(QUOTA), 1, responder="experienced", compact=True)
    steps = [(s["call"], s["target"]) for s in journal.data["response"]["steps"]]
    looked = steps.index(("changes", None))
    history = steps.index(("changes", "auth"))
    named = steps.index(("diagnose", CHANGE))
    assert looked < history < named
    assert ("toggle_flag", "quota-enforcement") in steps[named:]
    # nothing it did before reading the history aimed at the change
    assert all(target != CHANGE for _, target in steps[:history])


def test_a_trainee_can_roll_back_only_a_change_they_have_seen() -> None:
    _, text = drill_transcript(
        QUOTA,
        1,
        ("wait 50m", "ack", f"rollback {CHANGE}", "changes auth", f"rollback {CHANGE}"),
    )
    before, _, after = text.partition("auth's history")
    assert f"no change in the change log named {CHANGE!r}" in before
    assert "not in the change" in after  # the history marks it (the table wraps "log")
    assert f"rollback {CHANGE}" in after
    assert "done in" in after
