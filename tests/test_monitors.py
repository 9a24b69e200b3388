"""Monitors and paging on hand-made metrics windows: firing, resolving, grouping, escalation."""

from __future__ import annotations

import random
from typing import Any

import simpy

from sim.model.world import Event, World
from sim.scenario import Scenario
from sim.scenario.schema import Monitor, Rotation, TimeDistribution
from sim.telemetry.monitors import Monitors
from sim.telemetry.paging import Pager

WINDOW = 10.0


def row(
    t: float,
    name: str,
    requests: int,
    failed: int,
    scope: str = "endpoint",
    p95: float = 0.05,
    busy: int = 0,
) -> tuple[Any, ...]:
    return (
        t,
        scope,
        name,
        requests,
        requests - failed,
        failed,
        0,
        0,
        p95 / 2,
        p95,
        p95,
        p95 / 2,
        busy,
        0,
        0.0,
    )


BUSINESS = (0.0, 100, 10, 500.0, 10, 0, 0, 0.0)


def rule(**kw: Any) -> Monitor:
    base: dict[str, Any] = {
        "name": "errors",
        "kind": "error_ratio",
        "threshold": 0.05,
        "over": 30,
        "for": 20,
        "min_requests": 10,
        "severity": "critical",
    }
    return Monitor.model_validate({**base, **kw})


def feed(monitors: Monitors, ratios: list[float], name: str = "login", requests: int = 100) -> None:
    for i, ratio in enumerate(ratios):
        t = i * WINDOW
        monitors.on_window(t, [row(t, name, requests, round(requests * ratio))], BUSINESS)


def make(seed_scenario: Scenario, *rules: Monitor) -> tuple[World, Monitors, list[Event]]:
    world = World(seed_scenario)
    events: list[Event] = []
    world.subscribe(events.append)
    monitors = Monitors(world, rules, WINDOW, lambda name: 64, lambda a, b: 100.0)
    return world, monitors, events


def timeline(events: list[Event]) -> list[tuple[float, str]]:
    return [(e.t, e.kind) for e in events]


def test_alert_fires_after_for_and_resolves(seed_scenario: Scenario) -> None:
    """An error ratio over 5 % fires once it has held for 20 s, and resolves when it falls."""
    _, monitors, events = make(seed_scenario, rule())
    feed(monitors, [0, 0, 0.5, 0.5, 0.5, 0.5, 0, 0, 0, 0])
    # pending at the end of window 2 (t=30), firing 20 s later; the 30 s average falls at t=90
    assert timeline(events) == [(50.0, "alert.firing"), (90.0, "alert.resolved")]
    assert monitors.records[0]["ends_at"] == 90.0


def test_short_spike_does_not_fire(seed_scenario: Scenario) -> None:
    """A spike shorter than `for` never fires."""
    _, monitors, events = make(seed_scenario, rule(over=10))
    feed(monitors, [0, 0.9, 0, 0.9, 0])
    assert events == []


def test_silence_keeps_state(seed_scenario: Scenario) -> None:
    """Windows with too few requests to judge neither fire nor resolve an alert."""
    _, monitors, events = make(seed_scenario, rule(over=10, **{"for": 10}))
    feed(monitors, [0.5, 0.5], requests=100)
    monitors.on_window(20.0, [row(20.0, "login", 2, 0)], BUSINESS)  # too few requests
    assert timeline(events) == [(20.0, "alert.firing")]


def test_each_target_alerts_separately(seed_scenario: Scenario) -> None:
    """With target '*', each endpoint has its own alert."""
    _, monitors, _ = make(seed_scenario, rule(over=10, **{"for": 0}))
    for i in range(3):
        t = i * WINDOW
        monitors.on_window(
            t,
            [row(t, "login", 100, 50), row(t, "checkout", 100, 60), row(t, "home", 100, 0)],
            BUSINESS,
        )
    assert sorted(r["target"] for r in monitors.records) == ["checkout", "login"]


def test_throughput_drop_fires_below_expected(seed_scenario: Scenario) -> None:
    """Orders below 40 % of the expected curve fire the drop rule."""
    drop = rule(
        name="orders",
        kind="throughput_drop",
        scope="shop",
        threshold=0.4,
        min_requests=5,
        over=10,
        **{"for": 0},
    )
    _, monitors, events = make(seed_scenario, drop)
    monitors.on_window(0.0, [], (0.0, 100, 90, 0.0, 0, 0, 0, 0.0))  # 90 of 100 expected
    monitors.on_window(10.0, [], (10.0, 100, 10, 0.0, 0, 0, 0, 0.0))  # 10 of 100
    assert timeline(events) == [(20.0, "alert.firing")]


def pager_world(
    seed_scenario: Scenario, ack_mean: float
) -> tuple[simpy.Environment, World, Pager, list[Event]]:
    env = simpy.Environment()
    world = World(seed_scenario)
    events: list[Event] = []
    world.subscribe(events.append)
    spec = Rotation(
        ack_delay=TimeDistribution(dist="constant", mean=ack_mean),
        escalate_after=600,
        group_wait=30,
        group_interval=3600,
    )
    pager = Pager(env, world, spec, random.Random(1), ["Ada", "Grace", "Linus", "Barbara"])
    return env, world, pager, events


def fire(
    env: simpy.Environment,
    world: World,
    at: float,
    alert: str,
    kind: str = "alert.firing",
    severity: str = "critical",
) -> None:
    def go() -> Any:
        yield env.timeout(at - env.now)
        world.emit(env.now, kind, alert=alert, severity=severity, monitor=alert)

    env.process(go())


def test_alerts_grouped_into_one_page(seed_scenario: Scenario) -> None:
    """Three critical alerts within a minute page once; the primary acknowledges after the delay."""
    env, world, pager, events = pager_world(seed_scenario, ack_mean=120)
    fire(env, world, 100, "a")
    fire(env, world, 110, "b")
    fire(env, world, 200, "c")
    fire(env, world, 150, "w", severity="warning")
    env.run(until=2000)
    pages = [
        (e.t, e.kind, e.data.get("to") or e.data.get("by"))
        for e in events
        if e.kind.startswith("page")
    ]
    assert pages == [(130.0, "page", "Ada"), (250.0, "page.acknowledged", "Ada")]
    assert pager.incidents[0]["alerts"] == ["a", "b", "c"]
    assert pager.deduplicated == 1


def test_unacknowledged_page_escalates(seed_scenario: Scenario) -> None:
    """When the primary takes longer than escalate_after, the secondary is paged and acknowledges."""
    env, world, _, events = pager_world(seed_scenario, ack_mean=900)
    fire(env, world, 0, "a")
    env.run(until=5000)
    pages = [(e.t, e.kind) for e in events if e.kind.startswith("page")]
    assert pages == [(30.0, "page"), (630.0, "page.escalated"), (1530.0, "page.acknowledged")]


def test_flapping_alert_pages_once(seed_scenario: Scenario) -> None:
    """An alert that resolves and fires again within group_interval does not page again."""
    env, world, pager, events = pager_world(seed_scenario, ack_mean=60)
    fire(env, world, 0, "a")
    fire(env, world, 300, "a", kind="alert.resolved")
    fire(env, world, 900, "a")
    env.run(until=3000)
    assert [e.kind for e in events].count("page") == 1
    assert len(pager.incidents) == 1


def test_an_alert_that_resolves_before_the_page_and_fires_again_still_pages(
    seed_scenario: Scenario,
) -> None:
    """An alert that resolves within group_wait pages nobody; when it fires again within
    group_interval the incident reopens — and is paged then (it was never paged before)."""
    env, world, pager, events = pager_world(seed_scenario, ack_mean=60)
    fire(env, world, 0, "a")
    fire(env, world, 10, "a", kind="alert.resolved")  # before the 30 s group wait
    fire(env, world, 200, "a")
    fire(env, world, 205, "b")
    env.run(until=3000)
    pages = [(e.t, e.kind) for e in events if e.kind.startswith("page")]
    assert pages == [(230.0, "page"), (290.0, "page.acknowledged")]
    assert len(pager.incidents) == 1
    assert pager.incidents[0]["alerts"] == ["a", "a", "b"]


def test_saturation_follows_live_capacity(seed_scenario: Scenario) -> None:
    """The same busy count saturates a component once its capacity has shrunk."""
    world = World(seed_scenario)
    events: list[Event] = []
    world.subscribe(events.append)
    capacity = {"db": 64}
    sat = rule(
        name="sat",
        kind="saturation",
        scope="component",
        target="db",
        threshold=0.9,
        over=10,
        severity="warning",
        **{"for": 0},
    )
    monitors = Monitors(world, (sat,), WINDOW, lambda name: capacity[name], lambda a, b: 1.0)
    monitors.on_window(0.0, [row(0.0, "db", 100, 0, scope="component", busy=40)], BUSINESS)
    capacity["db"] = 32  # half the connections lost
    monitors.on_window(10.0, [row(10.0, "db", 100, 0, scope="component", busy=40)], BUSINESS)
    assert timeline(events) == [(20.0, "alert.firing")]


def escalate(env: simpy.Environment, world: World, at: float) -> None:
    """Customer support escalates to engineering at ``at`` (what the complaints desk emits)."""

    def go() -> Any:
        yield env.timeout(at - env.now)
        world.emit(env.now, "complaints.escalated", tickets=5, window=600.0, sample=[], topics={})

    env.process(go())


def test_a_support_escalation_pages_when_no_rule_has(seed_scenario: Scenario) -> None:
    """No alert fired: support's escalation opens an incident and pages the on-call, after
    the same group wait; a later critical alert joins that incident instead of paging again."""
    env, world, pager, events = pager_world(seed_scenario, ack_mean=60)
    escalate(env, world, 500)
    fire(env, world, 900, "a")
    env.run(until=3000)
    pages = [(e.t, e.kind) for e in events if e.kind.startswith("page")]
    assert pages == [(530.0, "page"), (590.0, "page.acknowledged")]
    assert len(pager.incidents) == 1
    assert pager.incidents[0]["alerts"] == ["customer-escalation", "a"]
    assert pager.incidents[0]["support"] == {"tickets": 5, "window": 600.0, "topics": {}}


def test_an_escalation_after_a_page_opens_nothing(seed_scenario: Scenario) -> None:
    """Once the on-call has been paged in a run, support's escalations reach people already
    on it: no second incident, no second page — even after the first incident closed."""
    env, world, pager, events = pager_world(seed_scenario, ack_mean=60)
    fire(env, world, 100, "a")
    fire(env, world, 400, "a", kind="alert.resolved")
    escalate(env, world, 600)
    escalate(env, world, 5000)
    env.run(until=6000)
    assert [e.kind for e in events].count("page") == 1
    assert len(pager.incidents) == 1
    assert pager.incidents[0]["alerts"] == ["a"]
    assert "support" not in pager.incidents[0]


def test_a_page_says_what_paged_in_words() -> None:
    from sim.telemetry.paging import ESCALATION, what_paged

    assert what_paged(["a", "b", "c"]) == "3 critical alerts"
    assert what_paged(["a"]) == "1 critical alert"
    assert what_paged([ESCALATION]) == "customer support's escalation"
    assert what_paged([ESCALATION, "a"]) == "customer support's escalation and 1 critical alert"
