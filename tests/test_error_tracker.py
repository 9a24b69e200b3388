"""The error tracker: a kind of error not seen before, loud enough, fires an alert that quotes
its line; a team whose page says in words what is wrong names it before the status page."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.model.world import Event, World
from sim.runner import run
from sim.scenario import Scenario
from sim.scenario.schema import Monitor
from sim.scoring.phases import phases
from sim.telemetry.logs import LogStore
from sim.telemetry.monitors import NEW_FOR, Monitors, default_monitors

WINDOW = 10.0
BUSINESS = (0.0, 100, 10, 500.0, 10, 0, 0, 0.0)
ROOT = Path(__file__).resolve().parent.parent
SEQUENCE = 'ERROR: nextval: reached maximum value of sequence "audit_id_seq" (2147483647)'


def tracker(scenario: Scenario, **kw: Any) -> Monitor:
    """The shipped error tracker (the default set's ``new-errors``), with ``kw`` changed."""
    shipped = next(r for r in default_monitors(scenario) if r.name == "new-errors")
    return Monitor.model_validate({**shipped.model_dump(by_alias=True), **kw})


def make(scenario: Scenario, rule: Monitor) -> tuple[LogStore, Monitors, list[Event]]:
    world = World(scenario)
    events: list[Event] = []
    world.subscribe(events.append)
    logs = LogStore(random.Random(0))
    monitors = Monitors(
        world, (rule,), WINDOW, lambda name: 64, lambda a, b: 100.0, new_errors=logs.new_errors
    )
    return logs, monitors, events


def feed(
    logs: LogStore,
    monitors: Monitors,
    start: float,
    end: float,
    per_window: dict[tuple[str, str], int],
) -> None:
    """Windows [start, end): each logs ``per_window[(component, message)]`` lines, then closes."""
    t = start
    while t < end - 1e-9:
        for (component, message), n in per_window.items():
            for i in range(n):
                logs.add(t + (i + 0.5) * WINDOW / max(n, 1), component, "ERROR", message)
        monitors.on_window(t, [], BUSINESS)
        t += WINDOW


def fired(events: list[Event]) -> list[tuple[float, str, str]]:
    return [
        (e.t, e.data["target"], e.data.get("message", ""))
        for e in events
        if e.kind == "alert.firing"
    ]


def test_a_new_loud_error_fires_once_it_held_and_quotes_its_line(seed_scenario: Scenario) -> None:
    """60 lines a minute of an error never seen: over 30 a minute as soon as the first window
    is in (the 60 s window holds only it), pending then, firing 60 s later; it quotes the line
    and resolves when the lines stop and the minute's average falls below the threshold."""
    logs, monitors, events = make(seed_scenario, tracker(seed_scenario))
    feed(logs, monitors, 0, 600, {})
    feed(logs, monitors, 600, 900, {("db", SEQUENCE): 10})
    feed(logs, monitors, 900, 1200, {})
    assert fired(events) == [(670.0, "db", SEQUENCE)]
    assert monitors.records[0]["message"] == SEQUENCE
    resolved = [e.t for e in events if e.kind == "alert.resolved"]
    assert resolved == [940.0]  # the 60 s window holds 3 of 6 loud windows at t=930: 30/min


def test_quiet_new_errors_and_old_loud_ones_do_not_fire(seed_scenario: Scenario) -> None:
    """Below the threshold a new error is noise; an error first seen more than an hour before
    it got loud is a known issue, not a new one, however loud."""
    logs, monitors, events = make(seed_scenario, tracker(seed_scenario))
    feed(logs, monitors, 0, 300, {("orders", "timeout after 3000 ms"): 1})  # 6 a minute
    feed(logs, monitors, 300, NEW_FOR + 600, {})
    feed(logs, monitors, NEW_FOR + 600, NEW_FOR + 1200, {("orders", "timeout after 3000 ms"): 20})
    assert fired(events) == []


def test_each_component_has_its_own_alert_with_its_own_loudest_line(
    seed_scenario: Scenario,
) -> None:
    logs, monitors, events = make(seed_scenario, tracker(seed_scenario, **{"for": 0}))
    caller = "psycopg.errors.SequenceGeneratorLimitExceeded: nextval: reached maximum value"
    feed(
        logs,
        monitors,
        0,
        60,
        {("db", SEQUENCE): 12, ("cart", caller): 8, ("cart", "500 GET /cart"): 2},
    )
    assert sorted((target, msg) for _, target, msg in fired(events)) == [
        ("cart", caller),
        ("db", SEQUENCE),
    ]


def _reference(lines: list[int], threshold: float) -> list[tuple[float, str]]:
    """What the rule should do, from its definition alone: from the window a new error is
    first logged, its lines a minute over the last six windows (60 s); pending once above
    the threshold, firing 60 s later if it held at every window end, resolving at the first
    window end it no longer holds."""
    events: list[tuple[float, str]] = []
    samples: list[int] = []
    state, since = "inactive", 0.0
    for i, n in enumerate(lines):
        if not samples and n == 0:
            continue  # not seen yet: no series
        samples.append(n)
        last = samples[-6:]
        now = (i + 1) * WINDOW
        holds = sum(last) / (len(last) * WINDOW / 60.0) > threshold
        if holds:
            if state == "inactive":
                state, since = "pending", now
            if state == "pending" and now - since >= 60.0 - 1e-9:
                state = "firing"
                events.append((now, "alert.firing"))
        elif state == "firing":
            state = "inactive"
            events.append((now, "alert.resolved"))
        else:
            state = "inactive"
    return events


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=60))
def test_the_tracker_follows_its_definition_for_any_stream_of_lines(
    seed_scenario: Scenario, lines: list[int]
) -> None:
    """For any number of lines a window of one new error (all within the hour), the alerts
    fire and resolve exactly when the rule's definition says, and every firing quotes it.
    (A threshold of 30.5 lines a minute: whole lines in 10 s windows never land on it, so
    float sums cannot tip a tie.)"""
    logs, monitors, events = make(seed_scenario, tracker(seed_scenario, threshold=30.5))
    for i, n in enumerate(lines):
        feed(logs, monitors, i * WINDOW, (i + 1) * WINDOW, {("db", SEQUENCE): n})
    got = [(e.t, e.kind) for e in events if e.kind.startswith("alert.")]
    assert got == _reference(lines, 30.5)
    assert all(r["message"] == SEQUENCE for r in monitors.records)


def test_the_tracker_is_in_the_default_set_and_warns_without_paging(
    seed_scenario: Scenario,
) -> None:
    rules = {r.name: r for r in default_monitors(seed_scenario)}
    assert rules["new-errors"].kind == "new_error"
    assert rules["new-errors"].severity == "warning"


def test_a_tracker_rule_must_watch_components(tmp_path: Path) -> None:
    from sim.scenario.errors import ScenarioError

    text = (ROOT / "scenarios/bad-schema-migration.yaml").read_text(encoding="utf-8")
    rule = "monitors:\n  - {name: tracker, kind: new_error, scope: endpoint, threshold: 30}\n"
    path = tmp_path / "tracker.yaml"
    path.write_text(text + "\n" + rule, encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        sim.load_scenario(path)
    assert "new_error counts the error lines each component logs" in str(err.value)
    assert "tracker.yaml:" in str(err.value)


# -- the team that reads it ------------------------------------------------------------------
def _steps(journal: Any) -> list[str]:
    doc = journal.data if hasattr(journal, "data") else journal
    return [s["call"] for s in doc["response"]["steps"]]


def _without_tracker(scenario: Scenario) -> Scenario:
    rules = tuple(r for r in default_monitors(scenario) if r.kind != "new_error")
    return scenario.model_copy(update={"monitors": rules})


@pytest.mark.slow
def test_a_page_that_says_what_is_wrong_is_acted_on_before_the_status_page() -> None:
    """The sequence runs out: the tracker quotes the database's own line, and a team that
    reads it right names the database at once — then tells users. Without the tracker the
    same team finds the line in the logs, after the status page and the first note, and names
    the cause later in every seed."""
    scenario = sim.load_scenario(ROOT / "scenarios/audit-log-ids-run-out.yaml")
    blind = _without_tracker(scenario)
    early = 0
    for seed in range(1, 7):
        # the first 90 minutes hold both diagnoses (the sequence runs out at about 34)
        with_page = run(scenario, seed, horizon=5400, responder="experienced", compact=True)
        without = run(blind, seed, horizon=5400, responder="experienced", compact=True)
        calls = _steps(with_page)
        assert calls[0] == "alerts"
        assert "diagnose" not in _steps(without)[: _steps(without).index("status")]
        diagnosed = phases(with_page)["diagnosis"].at
        blind_at = phases(without)["diagnosis"].at
        assert diagnosed is not None
        assert blind_at is not None
        if calls.index("diagnose") < calls.index("status"):
            early += 1
            assert diagnosed < blind_at
    assert early >= 4  # the line is read right with the runbook's skill, 0.85


@pytest.mark.slow
def test_symptoms_quoted_change_nothing() -> None:
    """The CPU push: the tracker quotes timeouts and 504s, which say where it hurts, not what
    is wrong; the team starts with the status page as before."""
    scenario = sim.load_scenario(ROOT / "scenarios/config-push-exhausts-cpu.yaml")
    for seed in range(1, 4):
        journal = run(scenario, seed, responder="experienced", compact=True)
        assert _steps(journal)[:2] == ["alerts", "status"]
        doc = journal.data if hasattr(journal, "data") else journal
        quotes = [a["message"] for a in doc["alerts"] if a.get("message")]
        assert quotes, "the tracker quotes the new timeouts"
