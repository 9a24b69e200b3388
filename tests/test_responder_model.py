"""The responder model's parts: beliefs, red-herring marking, and remedies that fit the lead."""

from __future__ import annotations

import random

import sim
from sim.response.api import Incident
from sim.response.catalogue import builtin_runbook
from sim.response.responders import Beliefs, RunbookResponder
from sim.runner import lead_herring
from sim.simulation import Simulation
from tests.conftest import SCENARIOS

HERRINGS = [
    {"id": "lb-config-change", "kind": "change", "change": "chg-lb-412", "target": "lb"},
    {"id": "isp-latency-blip", "kind": "latency_blip", "change": "notice-isp-0314", "target": "lb"},
    {"id": "auth-warnings", "kind": "log_noise", "change": "dep-auth-3.8.0", "target": "auth"},
    {"id": "slow-search", "kind": "slow_component", "change": None, "target": "search"},
]
CHANGES = {
    "chg-lb-412": {"kind": "config"},
    "notice-isp-0314": {"kind": "notice"},
    "dep-auth-3.8.0": {"kind": "deploy"},
}


def test_beliefs_share_and_top() -> None:
    b = Beliefs({"network": 1.0, "change:mig": 3.0})
    assert b.top() == ("change:mig", 0.75)
    b.scale("change:mig", 0.0)
    assert b.top() == ("network", 1.0)
    assert Beliefs().top() == (None, 0.0)


def test_leads_map_to_the_herrings_they_chase() -> None:
    assert lead_herring("network", HERRINGS, CHANGES) == "isp-latency-blip"
    assert lead_herring("lb", HERRINGS, CHANGES) == "lb-config-change"
    assert lead_herring("change:dep-auth-3.8.0", HERRINGS, CHANGES) == "auth-warnings"
    assert lead_herring("component:auth", HERRINGS, CHANGES) == "auth-warnings"
    assert lead_herring("component:search", HERRINGS, CHANGES) == "slow-search"
    assert lead_herring("change:mig-2041", HERRINGS, CHANGES) is None
    assert lead_herring("thirdparty:payment-provider", HERRINGS, CHANGES) is None


def test_a_saturated_component_is_scaled_out_not_restarted() -> None:
    """In the flash sale the database runs out of slots: the remedy for it is more capacity."""
    scenario = sim.load_scenario(SCENARIOS / "flash-sale-surge.yaml")
    incident = Incident(Simulation(scenario, 2), 3000)
    incident.wait(2100)
    deps = incident.deps()
    assert "db" in deps.facts["saturated"]
    assert "saturated: db" in deps.summary
    responder = RunbookResponder(builtin_runbook("seed"), random.Random(1))
    responder.inc = incident
    responder.learn(deps)
    ev = responder.remedy("component:db", takes=0.0)
    assert ev is not None
    assert ev.call == "scale_out"
    assert ev.target == "db"
    assert incident.sim.world.states["db"].capacity_factor > 1.0


def test_an_unsaturated_component_is_restarted(seed_scenario: sim.Scenario) -> None:
    incident = Incident(Simulation(seed_scenario, 7), 4000)
    incident.wait(2700)
    deps = incident.deps()
    assert deps.facts["saturated"] == []
    responder = RunbookResponder(builtin_runbook("seed"), random.Random(1))
    responder.inc = incident
    responder.learn(deps)
    ev = responder.remedy("component:auth", takes=0.0)
    assert ev is not None
    assert ev.call == "restart"
