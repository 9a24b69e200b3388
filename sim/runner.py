"""``sim.run``: scenario + seed → journal. Wires world, faults, actions and an engine."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from sim.journal.record import FORMAT, Journal
from sim.journal.summary import summarise
from sim.scenario.schema import Scenario
from sim.simulation import Simulation
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
    actions: bool | None = None,
    source: str | None = None,
    source_sha256: str | None = None,
    progress: Callable[[float], None] | None = None,
) -> Journal:
    """Simulate ``scenario`` with ``seed`` (default: the scenario's) and return its journal.

    ``faults=False`` runs the baseline: every fault removed and, unless ``actions=True``, the
    scripted response too (it answers the faults). ``actions=False`` drops the scripted actions. ``progress`` is called with the simulated time as the run advances.
    """
    seed = scenario.seed if seed is None else seed
    until = scenario.horizon if horizon is None else horizon
    if actions is None:
        actions = faults
    simulation = Simulation(scenario, seed, faults=faults, actions=actions)
    simulation.advance(until, progress)
    engine = simulation.engine
    schedule = simulation.faults
    timeline = simulation.timeline

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
    detection = simulation.detector.to_journal()
    summary["detected_at"] = detection["detected_at"]
    summary["detection_channel"] = detection["channel"]
    started = summary["errors_started"]
    summary["time_to_detect"] = (
        None
        if started is None or detection["detected_at"] is None
        else round(detection["detected_at"] - started, 6)
    )
    acks = [i["acknowledged_at"] for i in simulation.pager.incidents if i["acknowledged_at"]]
    summary["acknowledged_at"] = acks[0] if acks else None
    summary["pages"] = sum(i["paged_at"] is not None for i in simulation.pager.incidents)
    complaints = simulation.complaints.to_journal()
    summary["tickets"] = complaints["total"]
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
        "alerts": simulation.monitors.records,
        "paging": simulation.pager.to_journal(),
        "detection": detection,
        "logs": simulation.logs.to_journal(),
        "complaints": complaints,
        "red_herrings": simulation.red_herrings.to_journal(),
        "changes": [
            {
                "id": c.id,
                "kind": c.kind,
                "at": c.at,
                "author": c.author,
                "description": c.description,
                "components": list(c.components),
                "statements": list(c.statements),
                "version": c.version,
            }
            for c in sorted(scenario.changes, key=lambda c: c.at)
        ],
        "summary": summary,
    }
    return Journal(data)
