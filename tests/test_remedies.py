"""Faults end only by their remedies: restarts and app rollbacks do not end the migration fault."""

from __future__ import annotations

import sim
from sim.journal import Journal
from sim.scenario import Scenario
from sim.scenario.schema import ScriptedAction


def with_actions(s: Scenario, *actions: tuple[float, str, str]) -> Scenario:
    return s.model_copy(
        update={"actions": tuple(ScriptedAction(at=at, action=a, target=t) for at, a, t in actions)}
    )  # type: ignore[arg-type]


def fault_end(journal: Journal) -> float | None:
    ends = journal.events("fault.end")
    return ends[0]["t"] if ends else None


def endpoint_failures(journal: Journal, endpoint: str, start: float, end: float) -> int:
    f = journal.metrics_frame()
    rows = f[(f.scope == "endpoint") & (f.name == endpoint) & (f.t >= start) & (f.t < end)]
    return int((rows.errors + rows.timeouts + rows.rejected).sum())


def test_seed_timeline_restart_rollback_then_migration_rollback(seed_journal: Journal) -> None:
    """The seed run's incident timeline: migration, fault, two futile actions, the rollback that ends it."""
    incident = [
        (t, k)
        for t, k in seed_journal.timeline
        if k in ("fault.start", "fault.end", "action.start", "action.end")
    ]
    assert incident == [
        (2400.0, "fault.start"),
        (3300.0, "action.start"),
        (3390.0, "action.end"),  # restart auth: 3 × 30 s
        (3720.0, "action.start"),
        (4020.0, "action.end"),  # roll back auth 3.8.0: 5 min
        (4800.0, "action.start"),  # roll back mig-2041: 6 min
        (5160.0, "fault.end"),
        (5160.0, "action.end"),
    ]
    ends = seed_journal.events("action.end")
    assert [e["remedied"] for e in ends] == [[], [], ["users-orders-schema-break"]]


def test_errors_persist_through_restart_and_app_rollback(seed_journal: Journal) -> None:
    """Logins keep failing after the restart and after the app rollback, and stop after the migration rollback."""
    assert endpoint_failures(seed_journal, "login", 3400, 3700) > 0  # after the restart
    assert endpoint_failures(seed_journal, "login", 4030, 4800) > 0  # after the app rollback
    assert endpoint_failures(seed_journal, "login", 5200, 7200) == 0  # after the fix


def test_restart_and_app_rollback_alone_never_end_the_fault(seed_scenario: Scenario) -> None:
    """Without a migration rollback the fault is active at the horizon and logins still fail."""
    s = with_actions(
        seed_scenario,
        (3000, "restart", "auth"),
        (3300, "restart", "db"),
        (3600, "rollback_deploy", "dep-auth-3.8.0"),
    )
    journal = sim.run(s, seed=7, horizon=5400, responder="scripted")
    assert fault_end(journal) is None
    assert journal.summary["errors_stopped"] is None
    assert endpoint_failures(journal, "login", 5000, 5400) > 0


def test_deploying_compatible_code_ends_the_fault(seed_scenario: Scenario) -> None:
    """deploy_fix on the database ends the fault after its own 25 minutes."""
    s = with_actions(seed_scenario, (3000, "deploy_fix", "db"))
    journal = sim.run(s, seed=7, horizon=5400, responder="scripted")
    assert fault_end(journal) == 3000 + 25 * 60
    assert endpoint_failures(journal, "login", 4600, 5400) == 0


def test_database_restart_takes_it_down_and_breaks_more(seed_scenario: Scenario) -> None:
    """Restarting the single database instance is a harmful action: every endpoint that needs it fails."""
    s = with_actions(seed_scenario, (1800, "restart", "db"))
    journal = sim.run(s, seed=7, horizon=2300, responder="scripted")
    assert endpoint_failures(journal, "search", 1800, 1890) > 0
    assert endpoint_failures(journal, "search", 1000, 1800) == 0


def test_seed_run_is_clean_before_the_migration(seed_journal: Journal) -> None:
    """No request fails before 08:40; logins and checkouts fail after it with the database's error."""
    f = seed_journal.metrics_frame()
    early = f[(f.scope == "endpoint") & (f.t < 2400)]
    assert int((early.errors + early.timeouts + early.rejected).sum()) == 0
    assert seed_journal.summary["errors_started"] == 2400.0
    first = {(e["endpoint"], e["error_class"]) for e in seed_journal.summary["first_errors"]}
    assert {("login", "UndefinedColumn"), ("checkout", "UndefinedColumn")} <= first
    assert endpoint_failures(seed_journal, "login", 2400, 3300) > 0
    assert endpoint_failures(seed_journal, "checkout", 2400, 3300) > 0
    assert endpoint_failures(seed_journal, "home", 0, 7200) == 0
