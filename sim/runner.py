"""``sim.run``: scenario + seed → journal. Wires world, faults, actions and an engine."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import simpy

from sim.engine.request_engine import RequestEngine
from sim.faults.schedule import FaultSchedule
from sim.journal.record import FORMAT, Journal
from sim.journal.summary import summarise
from sim.model.world import Event, World
from sim.response.actions import Actions
from sim.scenario.schema import Scenario
from sim.telemetry.metrics import BUSINESS_COLUMNS, ERROR_COLUMNS, SERIES_COLUMNS


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 of the scenario's canonical JSON: equal content, equal hash, whatever the layout."""
    return hashlib.sha256(scenario.model_dump_json().encode()).hexdigest()


def run(
    scenario: Scenario,
    seed: int | None = None,
    *,
    horizon: float | None = None,
    faults: bool = True,
    actions: bool = True,
    source: str | None = None,
    source_sha256: str | None = None,
    progress: Callable[[float], None] | None = None,
) -> Journal:
    """Simulate ``scenario`` with ``seed`` (default: the scenario's) and return its journal.

    ``faults=False`` runs the baseline (every fault removed); ``actions=False`` drops the
    scripted actions. ``progress`` is called with the simulated time as the run advances.
    """
    seed = scenario.seed if seed is None else seed
    until = scenario.horizon if horizon is None else horizon
    env = simpy.Environment()
    world = World(scenario)
    timeline: list[dict[str, Any]] = []

    def record(event: Event) -> None:
        timeline.append({"t": round(event.t, 6), "kind": event.kind, **event.data})

    world.subscribe(record)
    schedule = FaultSchedule(env, world, enabled=faults)
    if actions:
        responder = Actions(env, world, schedule)
        for a in scenario.actions:
            responder.schedule(a.at, a.action, a.target)
    engine = RequestEngine(env, world, seed)
    engine.run(until, progress)

    m = engine.metrics
    summary = summarise(m.rows, m.business_rows, scenario.error_threshold, scenario.window)
    summary["first_errors"] = [
        {"endpoint": ep, "error_class": cls, "first_seen": round(t, 6), "message": msg}
        for (ep, cls), (t, msg) in sorted(engine.first_errors.items(), key=lambda kv: kv[1][0])
    ]
    summary["fallbacks"] = engine.flow.fallbacks * scenario.traffic.represents
    summary["faults"] = [
        {"id": f.id, "type": f.type, "description": f.describe(), "ended": schedule.ended.get(f.id)}
        for f in schedule.faults.values()
    ]
    data = {
        "format": FORMAT,
        "scenario": {
            "name": scenario.name,
            "description": scenario.description,
            "path": source,
            "file_sha256": source_sha256,
            "sha256": scenario_hash(scenario),
        },
        "seed": seed,
        "engine": engine.name,
        "horizon": until,
        "window": scenario.window,
        "clock_start": scenario.clock_start.isoformat(),
        "represents": scenario.traffic.represents,
        "currency": scenario.traffic.order_value.currency,
        "faults_enabled": faults,
        "actions_enabled": actions,
        "timeline": timeline,
        "metrics": {
            "series": {"columns": list(SERIES_COLUMNS), "rows": [list(r) for r in m.rows]},
            "business": {
                "columns": list(BUSINESS_COLUMNS),
                "rows": [list(r) for r in m.business_rows],
            },
            "errors": {"columns": list(ERROR_COLUMNS), "rows": [list(r) for r in m.error_rows]},
        },
        "failed_sessions_sample": engine.shoppers.failed,
        "summary": summary,
    }
    return Journal(data)
