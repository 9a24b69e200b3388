"""Passive outlier ejection: the balancer reads each instance's answers and ejects one whose
answers fail (scenarios/one-bad-host.yaml)."""

from __future__ import annotations

from typing import Any

import pytest

import sim
from sim.expect.overrides import apply_overrides
from sim.scenario import Scenario
from sim.simulation import Simulation
from tests.conftest import SCENARIOS, failed_share
from tests.conftest import events_of as events

BAD_HOST = SCENARIOS / "one-bad-host.yaml"
FAULT = 15 * 60.0
UNTIL = 40 * 60.0


def run(overrides: dict[str, Any] | None = None) -> Simulation:
    doc = sim.load_scenario(BAD_HOST).model_dump(mode="json", by_alias=True)
    scenario = Scenario.model_validate(apply_overrides(doc, overrides or {}))
    simulation = Simulation(scenario, 1)
    simulation.advance(UNTIL)
    simulation.engine.finish()
    return simulation


@pytest.fixture(scope="module")
def passive() -> Simulation:
    return run()


@pytest.fixture(scope="module")
def without() -> Simulation:
    """The same bad host, and no passive checks."""
    return run({"components.catalog.health_check.outlier": None})


def test_the_bad_host_is_ejected_within_an_interval_and_for_longer_each_time(
    passive: Simulation,
) -> None:
    out = [e for e in events(passive, "instance.outlier_ejected") if e["component"] == "catalog"]
    back = [e for e in events(passive, "instance.outlier_returned") if e["component"] == "catalog"]
    assert {e["instance"] for e in out} == {0}  # only the bad host, never a healthy one
    assert FAULT < out[0]["t"] <= FAULT + 2 * 10.0  # the first look that saw a whole interval
    assert out[0]["failed"] >= 0.85
    # 30 s, 60 s, 90 s …: each ejection longer, each return on time, and out again within a
    # few looks (a look judges it only on an interval's worth of its answers, and 90 % bad
    # answers are sometimes under the 85 % line)
    assert [e["seconds"] for e in out[:4]] == [30.0, 60.0, 90.0, 120.0]
    for ejected, returned, again in zip(out, back, out[1:], strict=False):
        assert returned["t"] == pytest.approx(ejected["t"] + ejected["seconds"], abs=10.0)
        assert again["t"] - returned["t"] <= 5 * 10.0
    # the active checks never saw anything: the host is up and fast
    assert not events(passive, "instance.ejected")


def test_without_passive_checks_the_bad_host_fails_pages_and_someone_is_paged(
    passive: Simulation, without: Simulation
) -> None:
    """The counterfactual: the same fault, a sixth of the catalogue's calls on the bad host."""
    window = (FAULT + 60.0, UNTIL)
    assert failed_share(without, *window) > 4 * failed_share(passive, *window)
    assert failed_share(passive, *window) < 0.02
    assert without.pager.incidents
    assert not passive.pager.incidents
    assert not events(without, "instance.outlier_ejected")


def test_when_what_every_instance_calls_fails_no_more_than_the_cap_are_ejected() -> None:
    """The cache every catalogue call needs goes down: every instance's answers fail, and
    the balancer ejects no more than max_ejection_percent of them (at least one) at a time."""
    shared = run(
        {
            "faults.0": {
                "id": "cache-down",
                "type": "crash",
                "target": "cache",
                "start": "15m",
                "duration": "10m",
            }
        }
    )
    out = [e for e in events(shared, "instance.outlier_ejected") if e["component"] == "catalog"]
    back = [e for e in events(shared, "instance.outlier_returned") if e["component"] == "catalog"]
    assert out  # they all looked bad
    timeline = sorted([(e["t"], 1) for e in out] + [(e["t"], -1) for e in back])
    at_once, most = 0, 0
    for _, step in timeline:
        at_once += step
        most = max(most, at_once)
    assert most == 1  # 10 % of six instances, at least one
    assert len({e["instance"] for e in out}) > 1  # one after another


def test_turning_the_checks_off_returns_the_ejected_host() -> None:
    """disable_checks turns the passive checks off too: the bad host is back at the next
    look and stays in rotation; the `lb` view said it was out."""
    from sim.response.api import Incident
    from sim.response.evidence import View

    simulation = Simulation(sim.load_scenario(BAD_HOST), 1)
    simulation.advance(FAULT + 125)  # into its third ejection, 90 s long
    bad = simulation.engine.runtimes["catalog"].instances[0]
    assert bad.outlying
    due = bad.returns_at
    line, facts = View(simulation).lb()
    assert facts["backends"]["catalog"]["outlying"] == 1
    assert "ejected for failing answers (passive checks): catalog 1/6" in line
    incident = Incident(simulation, UNTIL)
    off = incident.disable_checks("catalog", takes=0.0)
    assert off.ok
    incident.wait(UNTIL - 60 - incident.now)
    back = [e for e in events(simulation, "instance.outlier_returned") if e["t"] >= off.t]
    assert back
    assert back[0]["t"] <= off.end + 10.0 < due  # the first look with the checks off
    assert not [e for e in events(simulation, "instance.outlier_ejected") if e["t"] > off.end]
    assert len(simulation.engine.runtimes["catalog"].available) == 6


def test_the_flow_engine_refuses_it() -> None:
    with pytest.raises(ValueError, match="passive outlier ejection"):
        Simulation(sim.load_scenario(BAD_HOST), 1, engine="flow")
