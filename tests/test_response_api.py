"""The action API (``sim.response.api.Incident``) on the seed incident.

Observations cost time and read telemetry only; actions change the system with the side
effects of their nature and end a fault only by one of its remedies; refused calls cost
nothing and never raise; the horizon stops a call part-way.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

import sim
from sim.response.api import OBSERVE, HorizonReached, Incident, _about
from sim.response.evidence import Evidence
from sim.scenario import Scenario
from sim.simulation import Simulation

FAULT = "users-orders-schema-break"
MIGRATION_AT = 2400.0
# Every observation of the action API on the seed shop; `db` needs a database with a data tier
# (tests/test_mechanism_locks.py), and on this shop it is refused at no cost (below).
OBSERVATIONS = tuple(call for call in OBSERVE if call != "db")


# -- helpers ---------------------------------------------------------------------------------
def failed(inc: Incident, endpoint: str, start: float, end: float | None = None) -> int:
    """Failed requests (errors, timeouts, rejections) of ``endpoint`` in windows [start, end)."""
    totals = inc.view.totals("endpoint", start, end).get(endpoint)
    return totals.failed if totals is not None else 0


def requests(inc: Incident, endpoint: str, start: float, end: float | None = None) -> int:
    totals = inc.view.totals("endpoint", start, end).get(endpoint)
    return totals.requests if totals is not None else 0


def events(inc: Incident, kind: str) -> list[dict[str, Any]]:
    return [e for e in inc.sim.timeline if e["kind"] == kind]


def wait_until(inc: Incident, t: float) -> None:
    inc.wait(t - inc.now)


class Tripwire:
    """Stands in for the fault list: any use of it fails the test."""

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)

    def _trip(self, *_: Any, **__: Any) -> Any:
        raise AssertionError(f"an observation read the fault list ({self._name})")

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        self._trip()

    __iter__ = __contains__ = __len__ = __getitem__ = __bool__ = _trip


# -- shared runs -----------------------------------------------------------------------------
@dataclass
class Observed:
    incident: Incident
    early: dict[str, Evidence] = field(default_factory=dict)
    late: dict[str, Evidence] = field(default_factory=dict)


@pytest.fixture(scope="module")
def observed(seed_scenario: Scenario) -> Observed:
    """Every observation at ~30 min (before the migration), then again from 44 min on."""
    inc = Incident(Simulation(seed_scenario, 7), 4200)
    out = Observed(inc)
    wait_until(inc, 1800)
    out.early["dashboard"] = inc.dashboard()
    out.early["status"] = inc.status()
    wait_until(inc, 2640)
    for call in OBSERVATIONS:
        out.late[call] = getattr(inc, call)()
    return out


@dataclass
class Responded:
    incident: Incident
    ev: dict[str, Evidence] = field(default_factory=dict)
    marks: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="module")
def responded(seed_scenario: Scenario) -> Responded:
    """The original response, through the API: restart auth, roll back its deploy, then the
    migration; messages before, during and after."""
    inc = Incident(Simulation(seed_scenario, 7), 4800, failures=False)
    out = Responded(inc)
    wait_until(inc, 2640)
    out.ev["notify"] = inc.notify()
    out.ev["restart"] = inc.restart("auth")
    out.ev["rollback_app"] = inc.rollback("dep-auth-3.8.0")
    out.ev["status_after_futile"] = inc.status()
    out.marks["active_after_futile"] = FAULT in inc.sim.faults.active
    out.marks["ends_after_futile"] = len(events(inc, "fault.end"))
    out.ev["diagnose"] = inc.diagnose("mig-2041")
    out.ev["update"] = inc.update()
    out.ev["rollback_mig"] = inc.rollback("mig-2041")
    out.marks["before_again"] = inc.now
    out.ev["rollback_again"] = inc.rollback("mig-2041")
    out.marks["after_again"] = inc.now
    inc.wait(300)
    out.ev["status_after_fix"] = inc.status()
    out.ev["mitigated"] = inc.mitigated()
    out.ev["notify_after"] = inc.notify()
    return out


@dataclass
class Harmed:
    incident: Incident
    refused: dict[str, tuple[float, Evidence]] = field(default_factory=dict)
    ev: dict[str, Evidence] = field(default_factory=dict)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)


@pytest.fixture(scope="module")
def harmed(seed_scenario: Scenario) -> Harmed:
    """Before the migration: bad calls, then a database restart and a payments isolation."""
    inc = Incident(Simulation(seed_scenario, 7), 2400)
    out = Harmed(inc)
    wait_until(inc, 1790)
    bad: dict[str, Callable[[], Evidence]] = {
        "logs-typo": lambda: inc.logs("atuh"),
        "deps-typo": lambda: inc.deps("dbb"),
        "restart-typo": lambda: inc.restart("atuh"),
        "isolate-typo": lambda: inc.isolate("paymnts"),
        "rollback-notice": lambda: inc.rollback("notice-isp-0314"),
        "rollback-unapplied": lambda: inc.rollback("mig-2041"),
        "rollback-typo": lambda: inc.rollback("mig-2401"),
        "fix-undiagnosed": lambda: inc.fix("mig-2041"),
        "restore-not-isolated": lambda: inc.restore("payments"),
        "diagnose-unknown": lambda: inc.diagnose("dtabase"),
    }
    for name, call in bad.items():
        before = inc.now
        out.refused[name] = (before, call())
        out.steps[name] = inc.steps[-1]
    out.ev["restart_db"] = inc.restart("db")
    out.steps["restart_db"] = inc.steps[-1]
    out.ev["isolate"] = inc.isolate("payments")
    out.steps["isolate"] = inc.steps[-1]
    out.ev["isolate_again"] = inc.isolate("payments")
    inc.wait(120)
    out.ev["restore"] = inc.restore("payments")
    out.steps["restore"] = inc.steps[-1]
    inc.wait(120)
    return out


# -- cost of calls ---------------------------------------------------------------------------
def test_every_observation_costs_time_and_is_recorded(observed: Observed) -> None:
    """Each observation moves the clock on by a positive amount and appends one step."""
    inc = observed.incident
    looks = [s for s in inc.steps if s["kind"] == "observe"]
    assert [s["call"] for s in looks] == ["dashboard", "status", *OBSERVATIONS]
    for s in looks:
        assert s["ok"] is True
        assert s["t"] < s["end"]
    for ev in [*observed.early.values(), *observed.late.values()]:
        assert ev.ok
        assert ev.end > ev.t
    # the calls run back to back: each starts where the one before ended
    late = [observed.late[c] for c in OBSERVATIONS]
    assert all(a.end == pytest.approx(b.t) for a, b in itertools.pairwise(late))
    assert inc.now == pytest.approx(late[-1].end)
    assert [s["i"] for s in inc.steps] == list(range(len(inc.steps)))


def test_step_kinds_follow_the_call(responded: Responded) -> None:
    """Steps are tagged observe / act / communicate / declare / wait by their call."""
    kinds = {(s["call"], s["kind"]) for s in responded.incident.steps}
    assert {
        ("notify", "communicate"),
        ("update", "communicate"),
        ("restart", "act"),
        ("rollback", "act"),
        ("status", "observe"),
        ("diagnose", "declare"),
        ("mitigated", "declare"),
        ("wait", "wait"),
    } <= kinds
    for s in responded.incident.steps:
        if s["ok"]:
            assert s["t"] < s["end"], s


def test_refused_calls_cost_nothing_and_say_why(harmed: Harmed) -> None:
    """Unknown targets, impossible rollbacks, a fix with no cause: ok=False, no time spent."""
    expected = {
        "logs-typo": ("observe", "no component named 'atuh'; did you mean 'auth'?"),
        "deps-typo": ("observe", "no component named 'dbb'; did you mean 'db'?"),
        "restart-typo": ("act", "no component named 'atuh'; did you mean 'auth'?"),
        "isolate-typo": ("act", "did you mean 'payments'?"),
        "rollback-notice": ("act", "not something that can be rolled back"),
        "rollback-unapplied": ("act", "mig-2041 has not been applied"),
        "rollback-typo": ("act", "no change named 'mig-2401'; did you mean 'mig-2041'?"),
        "fix-undiagnosed": ("act", "diagnose first"),
        "restore-not-isolated": ("act", "payments is not isolated"),
        "diagnose-unknown": (
            "declare",
            "no change, component, table, query or lead named 'dtabase'",
        ),
    }
    assert set(harmed.refused) == set(expected)
    for name, (kind, text) in expected.items():
        before, ev = harmed.refused[name]
        step = harmed.steps[name]
        assert ev.ok is False, name
        assert text in ev.summary, (name, ev.summary)
        assert ev.t == ev.end == before, name
        assert step["t"] == step["end"] == before, name
        assert step["kind"] == kind
        assert step["ok"] is False
        assert step["evidence"] == ev.summary
    # the refusals cost nothing: every one happened at the same instant
    assert len({before for before, _ in harmed.refused.values()}) == 1
    assert harmed.incident.cause is None
    assert harmed.incident.diagnosis is None


def test_rollback_twice_is_refused_at_no_cost(responded: Responded) -> None:
    again = responded.ev["rollback_again"]
    assert again.ok is False
    assert "already rolled back" in again.summary
    assert responded.marks["before_again"] == responded.marks["after_again"] == again.t


def test_isolating_twice_is_refused(harmed: Harmed) -> None:
    again = harmed.ev["isolate_again"]
    assert again.ok is False
    assert "already isolated" in again.summary
    assert again.t == again.end


# -- observations read telemetry -------------------------------------------------------------
def test_before_the_migration_nothing_fails(observed: Observed) -> None:
    """At ~30 min the dashboard and status show no failing endpoint; search never fails."""
    dash, status = observed.early["dashboard"], observed.early["status"]
    assert dash.end < MIGRATION_AT
    assert dash.facts["failing"] == {}
    assert dash.summary.startswith("every endpoint under")
    assert status.facts["scope"] == "none"
    assert status.facts["failing"] == {}
    inc = observed.incident
    assert requests(inc, "search", 0, MIGRATION_AT) > 0
    assert failed(inc, "search", 0, MIGRATION_AT) == 0


def test_status_during_the_outage_is_global_on_login_and_checkout(observed: Observed) -> None:
    status = observed.late["status"]
    assert MIGRATION_AT < status.t < status.end < 2800
    assert status.facts["scope"] == "global"
    assert {"login", "checkout"} <= set(status.facts["failing"])
    assert status.facts["failing"]["login"] > 0.5
    assert status.facts["onset"] == MIGRATION_AT
    assert "home" not in status.facts["failing"]
    assert "search" not in status.facts["failing"]
    assert "login" in observed.late["dashboard"].facts["failing"]


def test_logs_name_the_broken_tables_and_column(observed: Observed) -> None:
    logs = observed.late["logs"]
    assert {"users", "orders"} <= set(logs.facts["tables"])
    assert "password_hash" in logs.summary
    assert logs.facts["since"] < MIGRATION_AT


def test_deps_point_at_the_database(observed: Observed) -> None:
    deps = observed.late["deps"]
    assert deps.facts["deepest"] == ["db"]
    assert "db" in deps.facts["failing"]
    assert "auth" in deps.facts["failing"]
    assert deps.summary.startswith("deepest failing: db")


def test_changes_list_the_migration_first(observed: Observed) -> None:
    changes = observed.late["changes"].facts["changes"]
    assert [c["id"] for c in changes] == [
        "mig-2041",
        "dep-auth-3.8.0",
        "notice-isp-0314",
        "chg-lb-412",
    ]
    assert changes[0]["at"] == MIGRATION_AT
    assert changes[0]["tables"] == ["orders", "users"]


def test_alerts_list_the_critical_ones_first(observed: Observed) -> None:
    firing = observed.late["alerts"].facts["firing"]
    targets = {(a["monitor"], a["target"]) for a in firing if a["severity"] == "critical"}
    assert ("endpoint-errors", "login") in targets
    assert ("endpoint-errors", "checkout") in targets
    severities = [a["severity"] for a in firing]
    assert severities == sorted(severities, key=lambda s: s != "critical")
    assert severities[0] == "critical"


def test_vendors_are_operational(observed: Observed) -> None:
    tp = observed.late["thirdparty"]
    assert tp.facts["providers"] == {
        "payment-provider": "operational",
        "email-provider": "operational",
    }


def test_observations_never_read_the_fault_list(
    seed_scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the fault list replaced by tripwires once the outage is on, every observation
    still works (and still sees the outage)."""
    simulation = Simulation(seed_scenario, 7)
    inc = Incident(simulation, 3600)
    inc.wait(2520)
    assert FAULT in simulation.faults.active  # the fault is on before the wires go in
    schedule = simulation.faults
    monkeypatch.setattr(schedule, "faults", Tripwire("faults.faults"))
    monkeypatch.setattr(schedule, "active", Tripwire("faults.active"))
    monkeypatch.setattr(simulation, "faults", Tripwire("faults"))
    with pytest.raises(AssertionError, match="fault list"):
        _ = simulation.faults.active  # the wire is live
    seen = {call: getattr(inc, call)(takes=5.0) for call in OBSERVATIONS}
    seen["logs:db"] = inc.logs("db", takes=5.0)
    seen["deps:auth"] = inc.deps("auth", takes=5.0)
    assert all(ev.ok for ev in seen.values())
    assert seen["status"].facts["scope"] == "global"
    assert seen["deps"].facts["deepest"] == ["db"]
    assert "users" in seen["logs"].facts["tables"]


def test_db_without_a_data_tier_is_refused_at_no_cost(seed_scenario: Scenario) -> None:
    """Querying a database only works where one declares a data tier; elsewhere it says so."""
    inc = Incident(Simulation(seed_scenario, 7), 3600)
    ev = inc.db("db")
    assert not ev.ok
    assert ev.end == ev.t
    assert "nothing to query: db keeps no tables, locks or replicas to look at" in ev.summary
    assert "deps and logs" in ev.summary  # where its health shows instead


# -- actions ---------------------------------------------------------------------------------
def test_restart_and_app_rollback_do_not_end_the_fault(responded: Responded) -> None:
    restart, rollback = responded.ev["restart"], responded.ev["rollback_app"]
    assert restart.ok
    assert rollback.ok
    steps = {(s["call"], s["target"]): s for s in responded.incident.steps}
    assert steps[("restart", "auth")]["remedied"] == []
    assert steps[("rollback", "dep-auth-3.8.0")]["remedied"] == []
    assert responded.marks["active_after_futile"] is True
    assert responded.marks["ends_after_futile"] == 0
    after = responded.ev["status_after_futile"]
    assert after.t >= rollback.end
    assert "login" in after.facts["failing"]


def test_migration_rollback_ends_the_fault(responded: Responded) -> None:
    inc = responded.incident
    ev = responded.ev["rollback_mig"]
    step = next(s for s in inc.steps if s["call"] == "rollback" and s["target"] == "mig-2041")
    assert ev.ok
    assert step["ok"]
    assert step["remedied"] == [FAULT]
    assert ev.end - ev.t >= 360
    start = next(e for e in events(inc, "action.start") if e["target"] == "mig-2041")
    (end,) = events(inc, "fault.end")
    assert end["id"] == FAULT
    assert end["t"] - start["t"] == pytest.approx(360)
    assert ev.t <= start["t"]
    assert end["t"] <= ev.end
    assert FAULT not in inc.sim.faults.active
    # logins work again once the next metrics window opens
    quiet = end["t"] + inc.sim.scenario.window
    assert requests(inc, "login", quiet) > 0
    assert failed(inc, "login", quiet) == 0
    assert responded.ev["status_after_fix"].facts["scope"] == "none"


def test_migration_rollback_locks_the_tables_while_it_runs(responded: Responded) -> None:
    inc = responded.incident
    start = next(e["t"] for e in events(inc, "action.start") if e["target"] == "mig-2041")
    end = events(inc, "fault.end")[0]["t"]
    assert inc.sim.logs.query(text="lock timeout", end=start) == []
    during = inc.sim.logs.query(text="lock timeout", start=start, end=end)
    assert any(line.component == "db" for line in during)
    assert inc.sim.logs.query(text="lock timeout", start=end + 1) == []
    firsts = {k: t for k, (t, _) in inc.sim.engine.first_errors.items()}
    assert start <= firsts[("login", "LockNotAvailable")] < end


def test_diagnose_then_fix_ends_the_fault_after_25_minutes(seed_scenario: Scenario) -> None:
    inc = Incident(Simulation(seed_scenario, 7), 4800, failures=False)
    inc.wait(2640)
    diagnosis = inc.diagnose("mig-2041")
    assert diagnosis.ok
    assert inc.cause == "mig-2041"
    assert inc.diagnosis is not None
    assert inc.diagnosis["cause"] == "mig-2041"
    ev = inc.fix("mig-2041")
    assert ev.ok
    assert inc.steps[-1]["remedied"] == [FAULT]
    assert ev.end - ev.t >= 25 * 60
    start = next(e for e in events(inc, "action.start") if e["action"] == "deploy_fix")
    (end,) = events(inc, "fault.end")
    assert end["t"] - start["t"] == pytest.approx(25 * 60)
    assert failed(inc, "login", start["t"] + 60, end["t"]) > 0  # still broken while it deploys
    inc.wait(120)
    quiet = end["t"] + inc.sim.scenario.window
    assert requests(inc, "login", quiet) > 0
    assert failed(inc, "login", quiet) == 0


# -- side effects and harm -------------------------------------------------------------------
def test_database_restart_is_harmful_and_breaks_search(harmed: Harmed) -> None:
    inc = harmed.incident
    ev, step = harmed.ev["restart_db"], harmed.steps["restart_db"]
    assert ev.ok
    assert step["harmful"] is True
    assert "one instance" in step["harm"]
    assert "search" in step["harm"]
    start = next(e["t"] for e in events(inc, "action.start") if e["target"] == "db")
    end = next(e["t"] for e in events(inc, "action.end") if e["target"] == "db")
    assert end - start == pytest.approx(90)  # one instance, restart_time 90 s
    window = inc.sim.scenario.window
    opened = start // window * window  # the metrics window the restart began in
    assert requests(inc, "search", 0, opened) > 0
    assert failed(inc, "search", 0, opened) == 0
    assert failed(inc, "search", opened, end) > 0


def test_isolating_payments_fails_pay_fast_until_restored(harmed: Harmed) -> None:
    inc = harmed.incident
    step = harmed.steps["isolate"]
    assert harmed.ev["isolate"].ok
    assert step["harmful"] is True
    assert "pay" in step["harm"]
    assert "every shopper" in step["harm"]
    assert harmed.ev["restore"].ok
    assert harmed.steps["restore"]["harmful"] is False
    on = next(e["t"] for e in events(inc, "action.start") if e["action"] == "isolate")
    off = next(e["t"] for e in events(inc, "action.end") if e["action"] == "restore")
    window = inc.sim.scenario.window
    isolated = inc.view.totals("endpoint", on + window, off - window)["pay"]
    assert isolated.requests > 0
    assert isolated.failed == isolated.requests
    normal = inc.view.totals("endpoint", 1000, 1700)["pay"]
    assert normal.failed == 0
    assert isolated.p95 < normal.p95 / 5  # fails fast: no call to the provider
    assert ("pay", "Disabled") in inc.sim.engine.first_errors
    assert requests(inc, "pay", off + window) > 0
    assert failed(inc, "pay", off + window) == 0
    assert inc.actions.isolated == set()


# -- failures --------------------------------------------------------------------------------
def test_some_migration_rollback_fails_and_ends_nothing(seed_scenario: Scenario) -> None:
    """Across seeds an action's job sometimes fails: it takes its time, achieves nothing, and
    may be tried again."""
    for seed in range(1, 100):
        inc = Incident(Simulation(seed_scenario, seed), 4200)
        inc.wait(MIGRATION_AT + 10)
        ev = inc.rollback("mig-2041", takes=0.0)
        if not ev.ok:
            break
        assert inc.steps[-1]["remedied"] == [FAULT]
    else:
        pytest.fail("no migration rollback failed in 99 seeds")
    assert "failed after" in ev.summary
    assert "lock timeout" in ev.summary
    assert ev.end - ev.t >= 360
    assert inc.steps[-1]["remedied"] == []
    assert inc.steps[-1]["ok"] is False
    assert FAULT in inc.sim.faults.active
    assert events(inc, "fault.end") == []
    assert failed(inc, "login", ev.end - 60, ev.end) > 0
    # a failed rollback is not "already rolled back": it can be retried
    inc.failures = False
    retry = inc.rollback("mig-2041", takes=0.0)
    assert retry.ok
    assert inc.steps[-1]["remedied"] == [FAULT]


def test_without_failures_no_action_fails(
    seed_scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``failures = False`` even a draw that would fail every job is never consulted."""
    inc = Incident(Simulation(seed_scenario, 7), 4200)
    inc.failures = False
    monkeypatch.setattr(inc.rng, "random", lambda: 0.0)
    inc.wait(MIGRATION_AT + 10)
    evs = [
        inc.restart("auth", takes=0.0),
        inc.rollback("dep-auth-3.8.0", takes=0.0),
        inc.rollback("mig-2041", takes=0.0),
    ]
    assert [ev.ok for ev in evs] == [True, True, True]
    assert not any("failed" in ev.summary for ev in evs)
    assert inc.steps[-1]["remedied"] == [FAULT]
    # and with failures on, the same draw fails the job
    inc.failures = True
    ev = inc.isolate("search", takes=0.0)  # isolation never fails (chance 0)
    assert ev.ok
    ev = inc.restart("auth", takes=0.0)
    assert not ev.ok
    assert "failed after" in ev.summary


# -- horizon ---------------------------------------------------------------------------------
def test_observation_past_the_horizon_raises_and_is_recorded(seed_scenario: Scenario) -> None:
    inc = Incident(Simulation(seed_scenario, 7), 600)
    assert inc.wait(600 - inc.now).ok  # ending exactly at the horizon is fine
    assert inc.now == 600
    assert inc.remaining == 0
    inc = Incident(Simulation(seed_scenario, 7), 600)
    inc.wait(500)
    with pytest.raises(HorizonReached):
        inc.logs(takes=200.0)
    assert inc.now == 600
    step = inc.steps[-1]
    assert step["call"] == "logs"
    assert step["ok"] is False
    assert step["evidence"] == "horizon reached"
    assert step["t"] == 500
    assert step["end"] == 600


def test_action_past_the_horizon_raises_and_is_recorded(seed_scenario: Scenario) -> None:
    inc = Incident(Simulation(seed_scenario, 7), 600, failures=False)
    inc.wait(500)
    with pytest.raises(HorizonReached):
        inc.restart("db", takes=30.0)  # 30 s hands-on + 90 s down: ends past 600
    step = inc.steps[-1]
    assert step["call"] == "restart"
    assert step["kind"] == "act"
    assert step["ok"] is False
    assert step["evidence"] == "horizon reached"
    assert step["t"] == 500
    assert step["end"] == 600
    assert step["harmful"] is True
    with pytest.raises(HorizonReached):
        inc.wait(1)
    assert inc.steps[-1]["evidence"] == "horizon reached"


# -- communication ---------------------------------------------------------------------------
def test_messages_follow_the_incident(responded: Responded) -> None:
    notify = responded.ev["notify"]
    assert notify.ok
    assert notify.facts["message"] == notify.summary
    assert "/login" in notify.summary
    assert "/checkout" in notify.summary
    assert "since 08:40 UTC" in notify.summary
    assert "investigating" in notify.summary
    assert "/search" not in notify.summary
    assert "fixed" not in notify.summary

    update = responded.ev["update"].summary
    assert "ongoing" in update
    assert "cause: mig-2041" in update
    lost = re.search(r"lost revenue so far ≈ ([\d,]+) USD", update)
    assert lost is not None
    assert int(lost.group(1).replace(",", "")) > 0

    assert responded.ev["mitigated"].ok
    after = responded.ev["notify_after"].summary
    assert "fixed" in after
    assert "/login" not in after

    inc = responded.incident
    assert inc.notified_at == notify.t  # the first notice counts
    assert inc.stakeholders_at == responded.ev["update"].t
    assert inc.mitigated_at == responded.ev["mitigated"].t


# -- end to end ------------------------------------------------------------------------------
def test_oracle_resolves_without_chasing_herrings(seed_scenario: Scenario) -> None:
    journal = sim.run(seed_scenario, 7, responder="oracle", horizon=4200)
    response = journal.data["response"]
    assert response["resolved_at"] is not None
    assert response["mitigated_at"] is not None
    steps = response["steps"]
    assert steps
    assert all(s["herring"] is None for s in steps)
    assert any(s["remedied"] == [FAULT] for s in steps)
    (fault,) = journal.summary["faults"]
    assert fault["ended"] is not None
    assert fault["ended"] <= response["mitigated_at"]


def test_nobody_responding_leaves_the_fault_on(seed_scenario: Scenario) -> None:
    journal = sim.run(seed_scenario, 7, responder="none", horizon=3000)
    assert journal.data["response"]["steps"] == []
    assert journal.data["response"]["resolved_at"] is None
    (fault,) = journal.summary["faults"]
    assert fault["start"] == MIGRATION_AT
    assert fault["ended"] is None
    assert journal.events("fault.end") == []


def test_a_fix_in_the_background_returns_at_once_and_completes_later(
    seed_scenario: Scenario,
) -> None:
    """The drill's rollout: the call returns after the hands-on minute; the step gets its
    end and what it remedied when the 25-minute rollout is over."""
    inc = Incident(Simulation(seed_scenario, 7), 7200)
    inc.failures = False
    wait_until(inc, 2700.0)
    inc.diagnose("mig-2041", takes=0.0)
    ev = inc.fix("mig-2041", takes=60.0, background=True)
    assert ev.ok
    assert ev.end - ev.t == pytest.approx(60.0)
    assert "started" in ev.summary
    step = inc.steps[-1]
    assert step["remedied"] == []
    assert not events(inc, "fault.end")
    inc.wait(26 * 60)
    assert step["remedied"] == [FAULT]
    assert step["end"] == pytest.approx(2700.0 + 60.0 + 25 * 60)
    assert "done in" in step["evidence"]
    assert events(inc, "fault.end")


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (0.0, "under a minute"),  # a catalog change (a sequence restarted)
        (29.0, "under a minute"),
        (45.0, "about 1 minute"),
        (90.0, "about 2 minutes"),
        (25 * 60.0, "about 25 minutes"),
    ],
)
def test_a_started_action_says_how_long_it_takes_as_a_person_would(
    seconds: float, said: str
) -> None:
    """The drill's "… started; this takes …" never says "about 0 minutes" or "1 minutes"."""
    assert _about(seconds) == said
