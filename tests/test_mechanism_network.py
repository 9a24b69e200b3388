"""A link that saturates: loss and latency from utilisation, a vendor that adds capacity
slowly, an escalation that doubles it (scenarios/link-saturates.yaml)."""

from __future__ import annotations

from typing import Any

import pytest

import sim
from sim.faults.mechanisms.network import delay, loss
from sim.response.api import Incident
from sim.scenario import Scenario
from sim.simulation import Simulation
from tests.conftest import SCENARIOS, events_of, simulate

LINK = SCENARIOS / "link-saturates.yaml"
SURGE = (60 * 60.0, 150 * 60.0)


def run(overrides: dict[str, Any] | None = None) -> Simulation:
    return simulate(LINK, overrides)


def search_failed(simulation: Simulation, t0: float, t1: float) -> float:
    rows = simulation.engine.metrics.rows
    total = bad = 0
    for r in rows[0 : len(rows)]:
        if r[1] == "endpoint" and r[2] == "search" and t0 <= r[0] < t1:
            total += r[3]
            bad += r[3] - r[4]
    return bad / total if total else 0.0


def search_p95(simulation: Simulation, t0: float, t1: float) -> float:
    rows = simulation.engine.metrics.rows
    values = sorted(
        r[9]
        for r in rows[0 : len(rows)]
        if r[1] == "endpoint" and r[2] == "search" and t0 <= r[0] < t1
    )
    return values[len(values) // 2]


@pytest.fixture(scope="module")
def saturating() -> Simulation:
    return run()


def test_loss_and_delay_grow_as_utilisation_nears_capacity() -> None:
    """The buffer's arithmetic: nothing lost at half load, a few per mille at 95 %, a sixth
    of the packets at 120 %; and delay rising steeply on the way."""
    assert loss(0.5) < 1e-10
    assert 0.001 < loss(0.95) < 0.01
    assert loss(1.0) == pytest.approx(1 / 65)
    assert loss(1.2) == pytest.approx(1 - 1 / 1.2, rel=0.01)
    rhos = [0.5, 0.8, 0.9, 0.95, 0.99, 1.0, 1.05, 1.2, 2.0]
    losses = [loss(r) for r in rhos]
    delays = [delay(r, 4e6) for r in rhos]
    assert losses == sorted(losses)
    assert delays == sorted(delays)


def test_the_link_loses_packets_only_when_the_surge_fills_it(saturating: Simulation) -> None:
    """In the run: the measured loss tracks the measured utilisation — nothing below 85 %,
    percent and more above capacity — and the link says it is congested once, in the surge."""
    history = saturating.network.links["transit"].history
    low = [p for _, rho, p, _ in history if rho < 0.85]
    high = [p for _, rho, p, _ in history if rho > 1.05]
    assert low
    assert high
    assert max(low) < 0.001
    assert min(high) > 0.01
    (congested,) = events_of(saturating, "link.congested")
    assert SURGE[0] < congested["t"] < SURGE[0] + 900
    (clear,) = events_of(saturating, "link.clear")
    assert clear["t"] > SURGE[1]


def test_searches_slow_then_fail_while_everything_else_is_fine(saturating: Simulation) -> None:
    """Only what crosses the link suffers: searches slow down and a share time out; the link
    itself logs nothing, the net view shows the loss."""
    before = (20 * 60.0, SURGE[0])
    during = (SURGE[0] + 1800, SURGE[1])
    assert search_failed(saturating, *before) < 0.005
    assert search_failed(saturating, *during) > 0.05
    assert search_p95(saturating, *during) > 3 * search_p95(saturating, *before)
    rows = saturating.engine.metrics.rows
    others = [
        r
        for r in rows[0 : len(rows)]
        if r[1] == "endpoint" and r[2] in ("home", "cart") and during[0] <= r[0] < during[1]
    ]
    assert sum(r[3] - r[4] for r in others) <= 0.01 * sum(r[3] for r in others)


def test_the_net_view_shows_the_congested_link() -> None:
    doc = sim.load_scenario(LINK).model_dump(mode="json", by_alias=True)
    incident = Incident(Simulation(Scenario.model_validate(doc), 1), 3 * 3600)
    incident.wait(SURGE[0] + 1800 - incident.now)
    evidence = incident.net()
    assert evidence.summary.startswith("packet loss")
    assert "on link transit" in evidence.summary
    assert evidence.facts["links"]["transit"]["utilisation"] > 1.0
    assert evidence.facts["loss"] > 0.01


@pytest.mark.slow
def test_escalating_early_ends_it_and_the_vendor_alone_is_slow(saturating: Simulation) -> None:
    """Counterfactual: escalating at 70 min doubles the link 45 min later and the searches
    recover then; left to the vendor's 10 % an hour, they fail until the surge ends."""
    escalated = run(
        {
            "response.responder": "scripted",
            "actions": [{"at": "70m", "action": "escalate", "target": "transit"}],
        }
    )
    grown = [
        e for e in events_of(escalated, "link.scaled") if e["by"] == "escalation to the vendor"
    ]
    assert [round(e["t"]) for e in grown] == [70 * 60 + 2700]
    after = (70 * 60 + 2700 + 300, SURGE[1])
    assert search_failed(escalated, *after) < 0.01
    assert search_failed(saturating, *after) > 0.05
    vendor = events_of(saturating, "link.scaled")
    assert all(e["new"] == pytest.approx(e["old"] * 1.1) for e in vendor)


def test_a_failed_bundle_member_congests_the_link_at_normal_traffic() -> None:
    """A capacity_loss fault on the link (half of a two-member bundle) is the same mechanism
    at ordinary load: congested without any surge."""
    halved = run(
        {
            "traffic.surges": [],
            "components.transit.vendor": None,
            "faults": [
                {
                    "id": "member-down",
                    "type": "capacity_loss",
                    "target": "transit",
                    "remaining": 0.5,
                    "start": "30m",
                    "duration": "1h",
                }
            ],
        }
    )
    assert events_of(halved, "link.congested")
    assert search_failed(halved, 45 * 60, 90 * 60) > 0.05
    assert search_failed(halved, 0, 30 * 60) < 0.005


def test_the_flow_engine_refuses_links_by_name() -> None:
    with pytest.raises(ValueError, match="links that saturate"):
        sim.run(sim.load_scenario(LINK), 1, engine="flow", horizon=60)


def test_a_runbook_that_reads_the_net_view_escalates_the_congested_link() -> None:
    """A runbook's `net` then `remedy network`: the responder has seen the link drop packets,
    so the remedy is an escalation to its vendor (in the background), not a restart."""
    runbook = {
        "name": "check-the-network",
        "profile": {"skill": 1.0},
        "steps": [
            {"call": "wait", "takes": {"dist": "constant", "mean": "10m"}},  # after the page
            {"call": "net"},
            {"call": "remedy", "target": "network"},
        ],
    }
    simulation = simulate(
        LINK,
        {"runbooks": {"check-the-network": runbook}, "response.responder": "check-the-network"},
        seed=6,  # the scenario's seed: paged at 65 min
    )
    grown = [
        e for e in events_of(simulation, "link.scaled") if e["by"] == "escalation to the vendor"
    ]
    assert len(grown) == 1
    assert grown[0]["t"] > SURGE[0] + 2700
