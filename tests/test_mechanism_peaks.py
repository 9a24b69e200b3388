"""Surges that recur on the clock (traffic.peaks) and a scaling policy that arrives after each
one (scenarios/top-of-hour-peaks.yaml)."""

from __future__ import annotations

from typing import Any

import pytest

import sim
from sim.expect.overrides import apply_overrides
from sim.scenario import Scenario, ScenarioError, parse_scenario
from sim.scenario.budget import estimated_calls
from sim.simulation import Simulation
from tests.conftest import SCENARIOS, SEED_SCENARIO, SEED_SHOP, failed_share
from tests.conftest import events_of as events

PEAKS = SCENARIOS / "top-of-hour-peaks.yaml"
# the run starts at 14:40: the tops of the hours are 20, 80 and 140 minutes in
HOURS = (20 * 60.0, 80 * 60.0, 140 * 60.0)
PEAK = 4 * 60.0


def run(overrides: dict[str, Any] | None = None) -> Simulation:
    doc = sim.load_scenario(PEAKS).model_dump(mode="json", by_alias=True)
    scenario = Scenario.model_validate(apply_overrides(doc, overrides or {}))
    simulation = Simulation(scenario, 1)
    simulation.advance(scenario.horizon)
    simulation.engine.finish()
    return simulation


@pytest.fixture(scope="module")
def hourly() -> Simulation:
    return run()


def requests(simulation: Simulation, t0: float, t1: float, endpoint: str = "home") -> float:
    rows = simulation.engine.metrics.rows
    return sum(
        r[3]
        for r in rows[0 : len(rows)]
        if r[1] == "endpoint" and r[2] == endpoint and t0 <= r[0] < t1
    )


@pytest.mark.parametrize("engine", ["request", "flow"])
def test_the_arrivals_triple_at_the_top_of_every_hour(engine: str) -> None:
    """On the wall clock, not the run's: a run starting at 14:40 peaks 20 minutes in."""
    doc = sim.load_scenario(SEED_SCENARIO).model_dump(mode="json", by_alias=True)
    doc["clock_start"] = "2026-03-14T14:40:00Z"
    doc["traffic"]["peaks"] = [{"every": "1h", "at": 0, "duration": "4m", "factor": 3}]
    doc["faults"] = []
    simulation = Simulation(Scenario.model_validate(doc), 1, engine=engine)
    rate = simulation.engine.shoppers.rate
    assert rate(20 * 60 + 1) == pytest.approx(3 * rate(20 * 60 - 1), rel=0.01)
    assert rate(24 * 60 + 1) == pytest.approx(rate(24 * 60 - 1) / 3, rel=0.01)
    assert rate(80 * 60 + 1) > 2.5 * rate(79 * 60)
    simulation.advance(30 * 60)
    before, during = requests(simulation, 14 * 60, 18 * 60), requests(simulation, 20 * 60, 24 * 60)
    assert during == pytest.approx(3 * before, rel=0.25)


def test_each_peak_fails_pages_and_the_policy_scales_out_after_it(hourly: Simulation) -> None:
    """Nothing is broken: every hour's four minutes fail and the minutes around them do not;
    the policy launches two or three datapoints into each peak, and what it launches is in service
    only after the peak is over; it has scaled in again before the next one."""
    for top in HOURS:
        assert failed_share(hourly, top, top + PEAK) > 0.15
        assert failed_share(hourly, top - 600, top) < 0.01
        assert failed_share(hourly, top + PEAK + 60, top + 600) < 0.03
    launches = [e for e in events(hourly, "scale.launch") if e["component"] == "web"]
    for top in HOURS:
        first = next(e for e in launches if e["t"] >= top)
        # three datapoints above target; between the peaks the fleet runs at its target, so
        # the minute before the top may be the first of them
        assert top + 2 * 60 <= first["t"] <= top + 5 * 60
        assert first["t"] + 3 * 60 >= top + PEAK  # booted: the peak is over
    terminations = [e for e in events(hourly, "scale.terminate") if e["component"] == "web"]
    assert any(HOURS[0] + PEAK < e["t"] < HOURS[1] for e in terminations)
    assert hourly.pager.incidents


def test_capacity_in_place_before_the_hour_rides_the_peaks() -> None:
    """The counterfactual: a minimum of nine instances (scheduled scaling) instead of a
    faster reaction — the peaks pass with hardly a failure."""
    ready = run({"components.web.autoscaling.min": 9, "components.web.replicas": 9})
    for top in HOURS:
        assert failed_share(ready, top, top + PEAK) < 0.05


def test_a_peak_must_fit_its_period() -> None:
    text = SEED_SHOP.read_text(encoding="utf-8").replace(
        "  represents: 12\n",
        "  represents: 12\n  peaks:\n    - {every: 10m, duration: 10m, factor: 2}\n",
    )
    with pytest.raises(ScenarioError, match="duration: expected less than `every`"):
        parse_scenario(text, "peaks.yaml")


def test_the_work_budget_counts_the_peaks(seed_scenario: Scenario) -> None:
    doc = seed_scenario.model_dump(mode="json", by_alias=True)
    doc["traffic"]["peaks"] = [{"every": "1h", "duration": "30m", "factor": 3}]
    peaked = Scenario.model_validate(doc)
    assert estimated_calls(peaked) == pytest.approx(2 * estimated_calls(seed_scenario))
