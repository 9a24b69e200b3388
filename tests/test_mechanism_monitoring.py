"""Monitoring inside the topology: a metrics pipeline and alerting that fail with what they
depend on, agents that stop reporting, and external probes that still page
(scenarios/monitoring-goes-dark.yaml, scenarios/metrics-agent-goes-silent.yaml)."""

from __future__ import annotations

from typing import Any

import pytest

from sim.response.api import Incident
from sim.response.evidence import View
from sim.simulation import Simulation
from tests.conftest import SCENARIOS, events_of, simulate
from tests.test_monitors import BUSINESS, WINDOW, row, rule

DARK = SCENARIOS / "monitoring-goes-dark.yaml"
SILENT = SCENARIOS / "metrics-agent-goes-silent.yaml"
LINK = SCENARIOS / "link-saturates.yaml"
OUTAGE = 75 * 60.0  # the registry loses its leader
AGENT_STOPS = 30 * 60.0
NOBODY = {"response.responder": "none"}


@pytest.fixture(scope="module")
def dark() -> Simulation:
    """The registry outage, nobody answering, to 25 minutes into it."""
    return simulate(DARK, NOBODY, seed=4, until=OUTAGE + 25 * 60)


def test_dashboards_show_no_data_while_the_pipelines_dependency_is_down(dark: Simulation) -> None:
    """The pipeline goes dark with the registry it finds its targets through: from the first
    window after the outage, nothing of any series reaches the dashboards — though the shop
    keeps producing them, failing nearly every request."""
    (went_dark,) = [e for e in events_of(dark, "monitoring.dark") if e["piece"] == "pipeline"]
    assert OUTAGE < went_dark["t"] <= OUTAGE + 2 * WINDOW
    assert went_dark["cause"] == "registry"
    view = View(dark)
    assert not view.rows_since(went_dark["t"], "endpoint")
    assert not view.rows_since(went_dark["t"], "component")
    assert len(view.rows_since(OUTAGE - 600, "endpoint")) > 100  # before it: every graph drawn
    everything = list(dark.world.topology.components)
    assert view.no_data("component", everything) == sorted(everything)
    line, facts = view.dashboard()
    assert line.startswith("no data")
    assert len(facts["no_data"]) == len(dark.scenario.endpoints)
    # the truth the dashboards miss: the shop is failing
    rows = dark.engine.metrics.rows
    truth = [r for r in rows[0 : len(rows)] if r[1] == "endpoint" and r[0] >= went_dark["t"]]
    assert sum(r[3] - r[4] for r in truth) > 0.9 * sum(r[3] for r in truth)


def test_rules_stop_evaluating_while_alerting_is_dark_but_external_probes_page(
    dark: Simulation,
) -> None:
    """Alerting runs on the dark pipeline: no internal rule fires through a total outage.
    The vendor's external checks fire and page within minutes."""
    fired = events_of(dark, "alert.firing")
    assert fired
    assert {e["rule"] for e in fired} == {"synthetic"}
    pages = events_of(dark, "page")
    assert pages
    assert pages[0]["t"] - OUTAGE < 5 * 60


def test_without_external_probes_only_customers_page_and_without_them_nobody() -> None:
    """The counterfactuals: the same outage with internal checks only. With external checks
    a rule pages and the registry is back within the hour. Without them no rule can page;
    the customers' tickets escalate and support pages instead (docs/complaints.md). With
    neither, nobody is paged, nobody acts, and the shop is still down at the horizon."""
    seen = simulate(DARK, seed=4)
    blind = simulate(DARK, {"probes.external": False}, seed=4)
    unheard = simulate(DARK, {"probes.external": False, "complaints.probability": 0}, seed=4)
    (page,) = events_of(seen, "page")
    assert "customer-escalation" not in page["alerts"]
    (support,) = events_of(blind, "page")
    assert support["alerts"] == ["customer-escalation"]
    assert not [e for e in events_of(blind, "alert.firing") if e["severity"] == "critical"]
    assert not events_of(unheard, "page")
    (ended,) = events_of(seen, "fault.end")
    assert ended["t"] - OUTAGE < 60 * 60
    assert events_of(blind, "fault.end")
    assert not events_of(unheard, "fault.end")
    restored = [e for e in events_of(seen, "monitoring.restored") if e["piece"] == "pipeline"]
    assert restored
    assert ended["t"] <= restored[0]["t"] <= ended["t"] + 2 * WINDOW


@pytest.fixture(scope="module")
def silent() -> Simulation:
    """The catalogue's agent stops at 30 min; nobody answering, to just before the CPU
    trouble of 1h15m."""
    return simulate(SILENT, NOBODY, seed=2, until=70 * 60)


def test_a_metric_absent_rule_fires_when_a_node_stops_reporting_while_probes_stay_green(
    silent: Simulation,
) -> None:
    fired = events_of(silent, "alert.firing")
    assert [(e["monitor"], e["target"]) for e in fired] == [("metrics-absent", "catalog")]
    # threshold 0.8 of a 5-minute window, then `for` 5 minutes
    assert AGENT_STOPS + 300 <= fired[0]["t"] <= AGENT_STOPS + 660
    view = View(silent)
    assert not [r for r in view.rows_since(AGENT_STOPS + WINDOW, "component") if r[2] == "catalog"]
    assert view.no_data("component", ["catalog", "web"]) == ["catalog"]
    probes = view.totals("probe", AGENT_STOPS)
    assert probes
    assert all(t.failed == 0 for t in probes.values())
    rows = silent.engine.metrics.rows  # while the catalogue serves as before
    served = [
        r for r in rows[0 : len(rows)] if r[1:3] == ("component", "catalog") and r[0] > AGENT_STOPS
    ]
    assert sum(r[3] for r in served) > 10_000
    assert sum(r[4] for r in served) == sum(r[3] for r in served)


def test_a_restart_brings_the_agent_back_and_the_absent_alert_resolves() -> None:
    simulation = simulate(SILENT, NOBODY, seed=2, until=50 * 60)
    incident = Incident(simulation, 80 * 60)
    incident.restart("catalog")
    back = incident.now
    incident.wait(80 * 60 - incident.now)
    resolved = [e for e in events_of(simulation, "alert.resolved") if e["target"] == "catalog"]
    assert resolved
    assert back < resolved[0]["t"] <= back + 660
    rows = View(simulation).rows_since(back + WINDOW, "component")
    assert [r for r in rows if r[2] == "catalog"]


def test_the_deps_view_names_the_hole_below_a_slow_caller() -> None:
    """After the CPU trouble begins, web is slow and what it calls reports nothing: the deps
    view says so instead of calling the catalogue healthy."""
    simulation = simulate(SILENT, NOBODY, seed=2, until=85 * 60)
    line, facts = View(simulation).deps()
    assert facts["no_data"] == ["catalog"]
    assert "no data from catalog" in line


def link_run(overrides: dict[str, Any]) -> Simulation:
    """link-saturates before its campaign, nobody answering."""
    return simulate(LINK, {**NOBODY, **overrides}, until=50 * 60)


def test_monitoring_traffic_shares_the_link_it_crosses() -> None:
    """Metrics crossing a link load it beside the shop's calls: series × bytes ÷ window."""
    bytes_per_series = 60_000.0
    plain = link_run({})
    loaded = link_run(
        {"monitoring": {"pipeline": {"depends_on": ["transit"], "series_bytes": bytes_per_series}}}
    )
    series = len({(r[1], r[2]) for r in loaded.engine.metrics.rows[0:200]})
    carried = series * bytes_per_series / WINDOW
    assert loaded.network.links["transit"].background == pytest.approx(carried)
    # from when the smoothed rates have settled to before the vendor answers the extra load
    scaled = events_of(loaded, "link.scaled")
    end = scaled[0]["t"] if scaled else 50 * 60
    late = [h for h in plain.network.links["transit"].history if 20 * 60 < h[0] < end]
    late_loaded = [h for h in loaded.network.links["transit"].history if 20 * 60 < h[0] < end]
    rho = sum(h[1] for h in late) / len(late)
    rho_loaded = sum(h[1] for h in late_loaded) / len(late_loaded)
    assert rho_loaded - rho == pytest.approx(carried / 3_600_000, rel=0.15)


def test_a_pipeline_across_a_shedding_link_loses_the_share_the_link_sheds() -> None:
    """Through the campaign the link sheds a share of its calls; the metrics crossing it lose
    about the same share of their windows (the pipeline is patchy, not dark)."""
    simulation = simulate(
        LINK, {**NOBODY, "monitoring": {"pipeline": {"depends_on": ["transit"]}}}, until=2 * 3600
    )
    since = 100 * 60
    history = [h for h in simulation.network.links["transit"].history if h[0] >= since]
    shed = sum(max(0.0, 1 - 1 / rho) for _, rho, _, _ in history) / len(history)
    assert shed > 0.05
    rows = simulation.engine.metrics.rows
    lost = simulation.pipeline.lost
    recent = [r for r in rows[0 : len(rows)] if r[0] >= since]
    share = sum((r[0], r[1], r[2]) in lost for r in recent) / len(recent)
    assert share == pytest.approx(shed, rel=0.25)
    assert not events_of(simulation, "monitoring.dark")


# -- the rules, on hand-made windows --------------------------------------------------------
def test_metric_absent_counts_the_windows_that_never_arrived() -> None:
    from sim.model.world import World
    from sim.scenario import load_scenario
    from sim.telemetry.monitors import Monitors

    world = World(load_scenario(SILENT))
    absent = rule(name="absent", kind="metric_absent", scope="component", threshold=0.5, over=40)
    monitors = Monitors(world, (absent,), WINDOW, lambda name: 64, lambda a, b: 100.0)
    for t in (0.0, 10.0, 20.0, 30.0):  # db reports, catalog does not
        monitors.on_window(
            t, [row(t, "db", 50, 0, scope="component")], BUSINESS, [("component", "catalog")]
        )
    assert [a["target"] for a in monitors.firing()] == ["catalog"]
    # alerting dark: nothing moves, not even a resolution
    for t in (40.0, 50.0, 60.0, 70.0, 80.0):
        monitors.on_window(
            t, [row(t, n, 50, 0, scope="component") for n in ("db", "catalog")], BUSINESS, [], False
        )
    assert [a["target"] for a in monitors.firing()] == ["catalog"]
    for t in (90.0, 100.0, 110.0, 120.0, 130.0):
        monitors.on_window(
            t, [row(t, n, 50, 0, scope="component") for n in ("db", "catalog")], BUSINESS, []
        )
    assert monitors.firing() == []


def test_a_crawl_that_fails_few_requests_shows_and_only_its_fix_ends_it() -> None:
    """The catalogue crawls (×300) with under 2 % of requests failing: the dashboard's latency
    graphs say so against what they showed before the page, a restart of the web tier does not
    count as the fix, and a restart of the catalogue does."""
    simulation = simulate(SILENT, NOBODY, seed=3, until=95 * 60)
    incident = Incident(simulation, 150 * 60)
    _, facts = View(simulation).dashboard()
    assert not facts["failing"]  # the error graphs alone look fine
    assert set(facts["slow"]) >= {"home", "product"}
    assert min(facts["slow"].values()) >= 5.0
    incident.restart("web")
    incident.wait(120)
    assert View(simulation).dashboard()[1]["slow"]  # still crawling
    while not incident.restart("catalog").ok:  # a restart job can fail (and say so)
        pass
    incident.wait(180)
    _, after = View(simulation).dashboard(span=120)
    assert after["slow"] == {}
    assert after["failing"] == {}


def test_before_the_page_a_quiet_shop_is_neither_failing_nor_slow() -> None:
    simulation = simulate(SILENT, NOBODY, seed=3, until=70 * 60)
    _, facts = View(simulation).dashboard()
    assert facts["failing"] == {}
    assert facts["slow"] == {}
