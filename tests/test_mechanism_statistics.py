"""Planner statistics lost in a major-version upgrade (docs/mechanisms.md, "Planner
statistics"): pg_upgrade does not carry pg_statistic over, so every table's queries cost
× ``stats_reset_factor`` from the upgrade until an ANALYZE — a minor upgrade, a MySQL upgrade
or an upgrade of a component without a data tier changes nothing; the upgrade cannot be
rolled back; the experienced responder finds the missing statistics in the database view and
analyzes (scenarios/upgrade-loses-planner-statistics.yaml)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import sim
from sim.expect.overrides import overridden
from sim.journal import Journal
from sim.model.sql import classify, drops_statistics
from sim.model.world import postgres_major
from sim.response.api import Incident
from sim.scenario import Scenario
from sim.scoring.phases import phases
from sim.simulation import Simulation
from tests.conftest import SCENARIOS, drill_transcript

UPGRADE = SCENARIOS / "upgrade-loses-planner-statistics.yaml"
AT = 600.0  # the upgrade's time in the scenario
TABLES = 8


def variant(overrides: dict[str, Any]) -> Scenario:
    return overridden(sim.load_scenario(UPGRADE), overrides)


@pytest.fixture(scope="module")
def nobody() -> Journal:
    return sim.run(sim.load_scenario(UPGRADE), 1, responder="none", compact=False)


def failed(journal: Journal, start: float, end: float) -> float:
    """Share of the shop's requests in [start, end) that failed."""
    m = journal.metrics_frame()
    shop = m[(m["scope"] == "endpoint") & (m["t"] >= start) & (m["t"] < end)]
    bad = (shop["errors"] + shop["timeouts"] + shop["rejected"]).sum()
    return float(bad / shop["requests"].sum())


@pytest.mark.parametrize(
    ("version", "major"),
    [
        ("15.6", "15"),
        ("16.3", "16"),
        ("16", "16"),
        ("9.6.24", "9.6"),
        ("9.5", "9.5"),
        ("10.1", "10"),
    ],
)
def test_the_major_version_is_what_pg_upgrade_changes(version: str, major: str) -> None:
    assert postgres_major(version) == major


@pytest.mark.parametrize(
    ("sql", "drops"),
    [
        ("ALTER TABLE orders ALTER COLUMN id TYPE bigint;", True),
        ("ALTER TABLE orders ALTER COLUMN note SET DATA TYPE text;", True),
        ("VACUUM FULL orders;", False),  # rewrites the table, keeps pg_statistic
        ("VACUUM (VERBOSE) orders;", False),
        ("ALTER TABLE orders ADD COLUMN gift_message text;", False),
        ("ANALYZE orders;", False),
    ],
)
def test_only_a_type_change_drops_a_tables_statistics(sql: str, drops: bool) -> None:
    assert drops_statistics(classify(sql)) is drops


@given(st.integers(10, 40), st.integers(0, 30), st.integers(0, 30))
def test_a_minor_release_never_changes_the_major_version(major: int, a: int, b: int) -> None:
    assert postgres_major(f"{major}.{a}") == postgres_major(f"{major}.{b}") == str(major)


def test_the_upgrade_resets_every_tables_statistics_at_its_time() -> None:
    """From the upgrade on, every table costs ×k and has an open episode naming the upgrade;
    the journal has one stats.reset per table at the upgrade's time, and nothing before."""
    simulation = Simulation(sim.load_scenario(UPGRADE), 1)
    incident = Incident(simulation, 7200.0)
    incident.wait(AT - 1.0)
    db = simulation.world.data["db"]
    assert {t.cost_factor for t in db.tables.values()} == {1.0}
    incident.wait(2.0)
    assert {t.cost_factor for t in db.tables.values()} == {100.0}
    # one episode: what one upgrade did, whose cause may be named as the upgrade, the
    # database or any of its tables
    (stale,) = [f for f in simulation.faults.faults.values() if f.type == "stale_statistics"]
    assert stale.targets == {"db", "upg-db-16", *db.tables}
    assert stale.id in simulation.faults.active
    # analyzing one table is not enough: the episode ends with the last one
    simulation.data.run_statements("db", "dba-analyze", ("ANALYZE orders;",), None)
    incident.wait(60.0)
    assert db.tables["orders"].cost_factor == 1.0
    assert db.tables["users"].cost_factor == 100.0
    assert stale.id in simulation.faults.active
    assert incident.analyze("db").ok
    assert stale.id not in simulation.faults.active


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"changes.1.version": "15.7"}, "a minor release keeps pg_statistic"),
        (
            {"databases.db.dialect": "mysql"},
            "an in-place MySQL upgrade keeps persistent statistics",
        ),
        ({"databases.db.stats_reset_factor": 1}, "the documented default: no slowdown"),
    ],
)
def test_what_keeps_the_statistics_changes_nothing(
    nobody: Journal, overrides: dict[str, Any], why: str
) -> None:
    resets = nobody.events("stats.reset")
    assert len(resets) == TABLES
    assert {e["t"] for e in resets} == {AT}
    assert {e["by"] for e in resets} == {"upg-db-16"}
    journal = sim.run(variant(overrides), 1, responder="none", compact=False)
    assert journal.events("stats.reset") == [], why
    assert journal.summary["failed_requests"] == 0, why


def test_the_slowdown_fails_requests_until_analyze_and_analyzing_sooner_fails_fewer(
    nobody: Journal,
) -> None:
    """With nobody responding the database stays behind to the end; an ANALYZE ends it, and
    one started ten minutes earlier leaves fewer failed requests (the counterfactual)."""
    assert failed(nobody, AT + 600, AT + 3600) > 0.1
    assert failed(nobody, 7200 - 600, 7200) > 0.1  # it does not catch up by itself
    assert failed(nobody, 0, AT) == 0

    simulation = Simulation(sim.load_scenario(UPGRADE), 1)
    incident = Incident(simulation, 7200.0)
    incident.wait(AT + 600 - incident.now)
    ev = incident.analyze("db")
    assert ev.ok, ev.summary
    # eight tables, analyze_time each, back to back: the world's time, not a typed one
    assert ev.end - ev.t >= TABLES * 30.0
    assert {t.cost_factor for t in simulation.world.data["db"].tables.values()} == {1.0}
    assert not [f for f in simulation.faults.active if f.startswith("stale_statistics")]

    def analyzed_at(minute: int) -> Journal:
        action = {"at": f"{minute}m", "action": "analyze", "target": "db"}
        scripted = variant({"response.responder": "scripted", "actions": [action]})
        return sim.run(scripted, 1, compact=False)

    early, late = analyzed_at(20), analyzed_at(30)
    assert failed(early, 7200 - 1800, 7200) == failed(late, 7200 - 1800, 7200) == 0
    assert early.summary["failed_requests"] < late.summary["failed_requests"]
    assert late.summary["failed_requests"] < nobody.summary["failed_requests"]


def test_the_upgrade_cannot_be_rolled_back() -> None:
    simulation = Simulation(sim.load_scenario(UPGRADE), 1)
    incident = Incident(simulation, 7200.0)
    incident.wait(AT + 300)
    ev = incident.rollback("upg-db-16")
    assert not ev.ok
    assert "upgraded db from PostgreSQL 15.6 to 16.3 with pg_upgrade" in ev.summary
    assert "fix forward" in ev.summary
    assert simulation.world.states["db"].version == "16.3"


@pytest.mark.slow
def test_the_experienced_responder_analyzes_from_the_evidence() -> None:
    """It never reads faults: it names the upgrade, reads the missing statistics in the db
    view, finds the rollback refused and analyzes; the episodes end with its ANALYZE."""
    for seed in (1, 2):
        journal = sim.run(sim.load_scenario(UPGRADE), seed, responder="experienced")
        steps = journal.data["response"]["steps"]
        calls = [(s["call"], s["target"]) for s in steps]
        looked = calls.index(("db", "db"))
        analyzed = calls.index(("analyze", "db"))
        assert looked < analyzed
        assert "planner statistics missing on" in steps[looked]["evidence"]
        assert steps[analyzed]["ok"]
        assert steps[analyzed]["remedied"]
        refused = [s for s in steps if s["call"] == "rollback"]
        assert all(not s["ok"] for s in refused)
        assert phases(journal)["mitigation"].status == "ok"


@pytest.mark.slow
def test_a_trainee_reads_the_statistics_and_analyzes_in_the_drill() -> None:
    journal, shown = drill_transcript(
        UPGRADE, 1, ("wait 15m", "rollback upg-db-16", "db", "analyze db", "quit")
    )
    assert "there is no going back in place" in shown
    assert "planner statistics missing on carts, inventory" in shown
    assert "analyze db done in" in shown
    assert phases(journal)["mitigation"].status == "ok"


def test_a_hint_says_the_database_is_busy_with_blind_plans_not_short_of_capacity() -> None:
    """The saturation hint reads the database view: with statistics missing it says so,
    and that more capacity would not help (elsewhere it still says short of capacity)."""
    _, shown = drill_transcript(UPGRADE, 3, ("wait 3m", "hint", "hint", "quit"))
    assert "db is saturated (100% busy) and its planner has no statistics for carts" in shown
    assert "short of capacity rather than broken" not in shown
