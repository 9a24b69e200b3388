"""Regions that go dark, and failing their shoppers over (scenarios/region-goes-dark.yaml):
the dark region's shoppers and checks fail at the edge while the other region's do not; a
failover moves them over the DNS TTL, which decides how long it takes; the responders read it
from the status view."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import sim
from sim.engine.flow.engine import flow_lacks
from sim.expect.overrides import apply_overrides
from sim.response.api import Incident
from sim.scenario import Scenario
from sim.simulation import Simulation
from sim.telemetry.metrics import SERIES_COLUMNS
from tests.conftest import SCENARIOS, drill_transcript

DARK = SCENARIOS / "region-goes-dark.yaml"
AT = 30 * 60.0  # us-east goes dark
TTL = 300.0


def variant(overrides: dict[str, Any]) -> Scenario:
    doc = sim.load_scenario(DARK).model_dump(mode="json", by_alias=True)
    return Scenario.model_validate(apply_overrides(doc, overrides))


def opened(minute: float, overrides: dict[str, Any] | None = None) -> tuple[Simulation, Incident]:
    """The scenario, nobody responding, run to ``minute`` and opened to the action API."""
    scenario = variant({"response.responder": "none", **(overrides or {})})
    simulation = Simulation(scenario, 1)
    simulation.advance(minute * 60)
    return simulation, Incident(simulation, scenario.horizon, failures=False)


def frame(simulation: Simulation) -> pd.DataFrame:
    """A kept-open run's metrics rows so far, as a table (columns as the journal's)."""
    rows = simulation.engine.metrics.rows
    return pd.DataFrame(list(rows[0 : len(rows)]), columns=list(SERIES_COLUMNS))


def failed_by_region(simulation: Simulation, t0: float, t1: float) -> dict[str, float]:
    """The failed share of the synthetic checks from each region in [t0, t1)."""
    f = frame(simulation)
    probes = f[(f.scope == "probe") & (f.t >= t0) & (f.t < t1)]
    out = {}
    for region in ("eu-west", "us-east"):
        rows = probes[probes.name.str.endswith(f"@{region}")]
        out[region] = float((rows.requests - rows.ok).sum() / max(1, rows.requests.sum()))
    return out


def test_the_dark_regions_shoppers_and_checks_fail_and_the_others_do_not() -> None:
    simulation, _ = opened(45)
    before = failed_by_region(simulation, 0, AT)
    during = failed_by_region(simulation, AT + 60, 45 * 60)
    assert before == {"eu-west": 0.0, "us-east": 0.0}
    assert during["us-east"] == 1.0
    assert during["eu-west"] < 0.01
    edge = simulation.engine.metrics.series[("edge", "us-east")]
    assert ("edge", "eu-west") not in simulation.engine.metrics.series
    assert edge.errors.get("ConnectError", 0) > 0


def moved_share(simulation: Simulation, t0: float, t1: float) -> float:
    """The share of us-east's shopper requests in [t0, t1) that got past the edge."""
    f = frame(simulation)
    edge = f[(f.scope == "edge") & (f.name == "us-east") & (f.t >= t0) & (f.t < t1)]
    home = f[(f.scope == "endpoint") & (f.t >= t0) & (f.t < t1)]
    dark = float(edge.requests.sum())
    return 1.0 - dark / (0.35 * float(home.requests.sum()))


def test_a_failover_moves_the_shoppers_over_the_ttl_and_ends_when_the_last_has_moved() -> None:
    """The step lasts the TTL (decided by the mechanism, not a constant); the share still
    dark falls evenly over it; afterwards nobody fails, though the region is still dark."""
    simulation, inc = opened(40)
    ev = inc.failover_region("us-east")
    assert ev.ok, ev.summary
    (start,) = [e for e in simulation.timeline if e["kind"] == "region.failing_over"]
    (end,) = [e for e in simulation.timeline if e["kind"] == "action.end"]
    assert end["t"] - start["t"] == pytest.approx(TTL)
    assert end["decided_by"] == "mechanism"
    assert end["remedied"] == ["us-east-edge-dark"]
    simulation.advance(end["t"] + 900)
    t = start["t"]
    first, last = moved_share(simulation, t, t + 100), moved_share(simulation, t + 200, t + 300)
    assert first < 0.4 < 0.6 < last  # about a sixth, then five sixths, of the way across
    assert failed_by_region(simulation, end["t"] + 60, end["t"] + 900)["us-east"] == 0.0


def test_a_longer_ttl_makes_the_same_failover_longer() -> None:
    """Counterfactual: at a 20-minute TTL the same failover, at the same moment, takes four
    times as long, and the region's shoppers fail that much longer."""
    ends = {}
    for ttl in ("5m", "20m"):
        simulation, inc = opened(40, {"traffic.dns_ttl": ttl})
        ev = inc.failover_region("us-east")
        assert ev.ok, ev.summary
        (end,) = [e for e in simulation.timeline if e["kind"] == "action.end"]
        ends[ttl] = end["t"]
    assert ends["20m"] - ends["5m"] == pytest.approx(15 * 60)


def test_failing_over_beats_waiting_for_the_provider() -> None:
    """Counterfactual: nobody fails over, and a third of the shoppers fail for the rest of the
    shift; the experienced engineer fails over and the errors end within half an hour."""
    nobody = sim.run(variant({"response.responder": "none"}), 1, compact=True)
    engineer = sim.run(sim.load_scenario(DARK), 1, responder="experienced", compact=True)
    assert nobody.summary["errors_stopped"] is None
    stopped = engineer.summary["errors_stopped"]
    assert stopped is not None
    assert stopped - AT < 30 * 60
    assert engineer.summary["lost_revenue"] < 0.5 * nobody.summary["lost_revenue"]
    calls = [s["call"] for s in engineer.data["response"]["steps"]]
    assert calls.index("failover_region") > calls.index("status")
    assert ("diagnose", "us-east") in [
        (s["call"], s["target"]) for s in engineer.data["response"]["steps"]
    ]


def test_the_status_view_says_which_region_cannot_reach_the_edge() -> None:
    _, inc = opened(35)
    ev = inc.status()
    assert "regional outage in us-east only" in ev.summary
    assert "shoppers in us-east cannot reach the edge (connect: no route to host)" in ev.summary
    assert ev.facts["unreachable"] == ["us-east"]


@pytest.mark.parametrize(
    ("region", "why"),
    [
        ("us-est", "no region named 'us-est'; did you mean 'us-east'?"),
        ("eu-west", "eu-west is not dark: nothing to move"),
    ],
)
def test_what_cannot_be_failed_over_says_why(region: str, why: str) -> None:
    _, inc = opened(35)
    ev = inc.failover_region(region)
    assert not ev.ok
    assert why in ev.summary


def test_the_oracle_fails_the_region_over() -> None:
    journal = sim.run(sim.load_scenario(DARK), 2, responder="oracle", compact=True)
    acts = [(s["call"], s["target"]) for s in journal.data["response"]["steps"] if s["remedied"]]
    assert acts == [("failover_region", "us-east")]


def test_in_the_drill_a_trainee_fails_the_region_over(tmp_path: Any) -> None:
    journal, text = drill_transcript(
        DARK, 1, ("status", "failover_region us-est", "failover_region us-east", "quit")
    )
    assert "shoppers in us-east cannot reach the edge" in text
    assert "no region named 'us-est'" in text
    assert "failover_region us-east done in" in text
    (step,) = [s for s in journal.data["response"]["steps"] if s["remedied"]]
    assert step["call"] == "failover_region"


def test_the_flow_engine_refuses_a_dark_region_by_name() -> None:
    lacks = flow_lacks(sim.load_scenario(DARK))
    assert any("regions that go dark (us-east" in why for why in lacks)


def test_a_dark_region_must_be_one_the_shoppers_are_in_at_the_edge(tmp_path: Any) -> None:
    import subprocess
    import sys

    text = DARK.read_text(encoding="utf-8").replace(
        "extends: shops/", f"extends: {SCENARIOS}/shops/"
    )
    for old, new, where, says in (
        (
            "region: us-east",
            "region: ap-south",
            "faults[0].region",
            "no traffic region named 'ap-south'",
        ),
        (
            "target: lb",
            "target: web",
            "faults[0].target",
            "expected the component shoppers reach first (lb)",
        ),
    ):
        bad = tmp_path / "bad.yaml"
        bad.write_text(text.replace(old, new, 1), encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "sim", "validate", str(bad)], capture_output=True, text=True
        )
        message = done.stdout + done.stderr
        assert done.returncode != 0
        assert "Traceback" not in message
        assert where in message
        assert says in message
