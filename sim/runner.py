"""``sim.run``: scenario + seed + responder → journal.

The responder drives the simulation through the action API until it is done (or the horizon
comes); the rest of the horizon then runs on its own. With ``counterfactuals=True`` the same
scenario and seed run twice more, with nobody responding and with the oracle, in worker
processes, and the journal records what they cost (for "minutes and revenue saved").
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed, wait
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any

from sim.faults.incidents import IncidentGroup, incident_groups
from sim.journal.record import FORMAT, Journal
from sim.journal.summary import summarise
from sim.response.api import Incident
from sim.response.catalogue import make_responder
from sim.scenario.schema import Runbook, Scenario
from sim.simulation import Simulation

if TYPE_CHECKING:
    from sim.response.responders import Responder
    from sim.telemetry.metrics import Metrics


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 of the scenario's canonical JSON: equal content, equal hash, whatever the layout.

    The ``expect:`` and ``source:`` blocks are left out: expectations are checked against a
    run and a source documents the incident it is modelled on; neither changes it. So is
    ``extends:``: a scenario written as changes to a shop is the merged document. Fields at
    their defaults are left out too, so that a scenario keeps its hash when the schema gains
    a field it does not use (and a field written at its default value hashes as if it were
    left out: the run is the same).
    """
    # (``extends`` is never dumped: the field is excluded in the schema)
    document = scenario.model_dump_json(exclude={"expect", "source"}, exclude_defaults=True)
    return hashlib.sha256(document.encode()).hexdigest()


def _incidents(
    groups: Sequence[IncidentGroup],
    episodes: Sequence[tuple[float | None, float | None]],
    simulation: Simulation,
) -> list[dict[str, Any]]:
    """Each incident of a shift with more than one: its faults, its own error episode, and
    the first detection signal and page in its stretch of the run (docs/scoring.md)."""
    pages = {i["id"]: i for i in simulation.pager.incidents}
    out = []
    for k, (group, (started, stopped)) in enumerate(zip(groups, episodes, strict=True)):
        end = groups[k + 1].start if k + 1 < len(groups) else float("inf")
        signal = next((s for s in simulation.detector.signals if group.start <= s["t"] < end), None)
        page = pages.get(signal["via"]) if signal is not None else None
        out.append(
            {
                "name": group.name,
                "start": round(group.start, 6),
                "faults": list(group.faults),
                "errors_started": started,
                "errors_stopped": stopped,
                "detected_at": None if signal is None else round(signal["t"], 6),
                "detection_channel": None if signal is None else signal["channel"],
                "page": None if page is None else page["id"],
                "acknowledged_at": None if page is None else page["acknowledged_at"],
            }
        )
    return out


def run(
    scenario: Scenario,
    seed: int | None = None,
    *,
    horizon: float | None = None,
    faults: bool = True,
    responder: str | None = None,
    runbook: Runbook | None = None,
    counterfactuals: bool = False,
    source: str | None = None,
    source_sha256: str | None = None,
    progress: Callable[[float], None] | None = None,
    engine: str = "request",
    compact: bool = False,
) -> Journal:
    """Simulate ``scenario`` with ``seed`` (default: the scenario's) and return its journal.

    ``responder`` names who takes the pager (default: the scenario's ``response.responder``):
    ``seed``, ``changes-first``, ``experienced``, ``novice``, ``oracle``, ``scripted``, ``none``
    or a runbook of the scenario; ``runbook`` runs that runbook instead. ``faults=False`` runs
    the baseline (every fault removed). ``counterfactuals=True`` adds the do-nothing and oracle
    runs of the same seed. ``progress`` is called with the simulated time as the run advances
    (with counterfactuals, the time all three runs have reached, until the last one ends).
    ``engine`` is ``"request"`` (every request simulated) or ``"flow"`` (per-time-step flows,
    much faster; docs/engines.md). ``compact=True`` leaves the metrics rows and the kept log
    lines out of the journal (a sweep keeps only its scores and figures).
    """
    seed = scenario.seed if seed is None else seed
    until = scenario.horizon if horizon is None else horizon
    name = runbook.name if runbook is not None else responder or scenario.response.responder
    pending: dict[str, Future[dict[str, Any]]] = {}
    pool: Executor | None = None
    clocks: list[Any] = []  # how far each counterfactual run has got (shared memory)
    if counterfactuals:
        clocks = [multiprocessing.RawValue("d", 0.0) for _ in COUNTERFACTUALS]
        pool = ProcessPoolExecutor(
            max_workers=2, initializer=_counterfactual_worker, initargs=(os.getpid(), clocks)
        )
        document = scenario.model_dump(mode="json", by_alias=True)
        pending = {
            other: pool.submit(counterfactual, document, seed, until, faults, other, engine, i)
            for i, other in enumerate(COUNTERFACTUALS)
        }
    slowest = None if progress is None else partial(_slowest, progress, clocks)
    try:
        simulation, incident, agent = _simulate(
            scenario, seed, until, faults, name, runbook, slowest, engine
        )
        while slowest is not None and not all(f.done() for f in pending.values()):
            wait(pending.values(), timeout=0.25)
            slowest(until)
        results = {other: f.result() for other, f in pending.items()}
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    if progress is not None:
        progress(until)  # every run has reached the horizon
    return journal_of(
        simulation,
        incident,
        agent.name,
        agent.description,
        source=source,
        source_sha256=source_sha256,
        counterfactuals=results,
        compact=compact,
    )


COUNTERFACTUALS = ("none", "oracle")
# In a counterfactual worker: the clocks its initializer was given, one per counterfactual.
_CLOCKS: list[Any] = []


def _slowest(progress: Callable[[float], None], clocks: Sequence[Any], now: float) -> None:
    """``progress`` with the simulated time every run has reached: ``now`` here, and the
    counterfactual workers' ``clocks``."""
    progress(min([now, *(c.value for c in clocks)]))


def _tick(clock: int, now: float) -> None:
    """The progress of a counterfactual run: its simulated time, for the parent to read."""
    _CLOCKS[clock].value = now


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(parent: int) -> None:
    """Initializer of worker processes: end when the process that started them ends.

    Whatever ends the parent — Ctrl-C, SIGTERM, ``kill -9`` — its workers get SIGTERM from the
    kernel (Linux: ``prctl(PR_SET_PDEATHSIG)``), or notice within half a second that their
    parent changed (elsewhere: a daemon thread polling ``os.getppid()``). SIGTERM is reset to
    its default in the worker, so that a handler inherited from the parent cannot keep it
    alive.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform == "linux":
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) == 0:
            if os.getppid() != parent:  # the parent died before the request was made
                os._exit(1)
            return
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _quiet_worker(parent: int) -> None:
    """Initializer of :func:`worker_pool`'s processes: Ctrl-C is the parent's to handle (no
    worker tracebacks), and they die with the parent however it ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent)


@contextmanager
def worker_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of ``workers`` processes that die with this one; leaving the block by an
    exception (Ctrl-C included) terminates the ones still running instead of waiting for
    them."""
    pool = ProcessPoolExecutor(
        max_workers=workers, initializer=_quiet_worker, initargs=(os.getpid(),)
    )
    finished = False
    try:
        yield pool
        finished = True
    finally:
        if not finished:
            for process in list(pool._processes.values()):
                process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)


def run_jobs(
    fn: Callable[..., Any],
    jobs: Sequence[tuple[Any, ...]],
    workers: int,
    done: Callable[[int, Any], None],
) -> None:
    """``fn(*job)`` for every job, and ``done(i, result)`` as job ``i`` finishes: here, in
    order, with ``workers`` ≤ 1 or a single job; else in a :func:`worker_pool` of at most
    ``workers`` processes, in the order they finish (``fn`` must be picklable: module-level)."""
    if workers <= 1 or len(jobs) <= 1:
        for i, job in enumerate(jobs):
            done(i, fn(*job))
        return
    with worker_pool(min(workers, len(jobs))) as pool:
        futures = {pool.submit(fn, *job): i for i, job in enumerate(jobs)}
        for future in as_completed(futures):
            done(futures[future], future.result())


def _counterfactual_worker(parent: int, clocks: Sequence[Any]) -> None:
    """Initializer of the counterfactual workers: Ctrl-C (or the SIGINT that ``chaosdrill``
    passes on when it gets SIGTERM) ends them at once, without a traceback, so that the run
    they belong to stops without waiting for them; and they die with their parent. Each run
    reports its progress on its clock of ``clocks``."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    die_with_parent(parent)
    _CLOCKS[:] = clocks


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def journal_of(
    simulation: Simulation,
    incident: Incident,
    responder: str,
    description: str,
    *,
    source: str | None = None,
    source_sha256: str | None = None,
    counterfactuals: Mapping[str, Any] | None = None,
    response_extra: Mapping[str, Any] | None = None,
    compact: bool = False,
) -> Journal:
    """The journal of a finished run: ``simulation`` driven by ``incident`` to its horizon.

    ``sim.run`` and the interactive drill both assemble their journal here. The caller has
    already advanced the simulation to the incident's horizon and called ``finish()``.
    ``response_extra`` adds keys to the response section (a drill's ``hints_used``).
    ``compact`` leaves out the metrics rows and the kept log lines (``"compact": true``).
    """
    scenario = simulation.scenario
    seed = simulation.seed
    until = incident.horizon
    faults = simulation.faults_enabled
    response = incident.to_journal(responder, description)
    if response_extra:
        response.update(response_extra)
    results = dict(counterfactuals or {})
    engine = simulation.engine
    schedule = simulation.faults
    timeline = simulation.timeline

    m = engine.metrics
    if not compact:
        m.seal()
    groups = incident_groups(
        {f.id: f.incident for f in scenario.faults} if faults else {},
        [(f.id, f.start) for f in schedule.faults.values()],
    )
    cuts = [g.start for g in groups[1:]]
    summary = summarise(
        m.rows, m.business_rows, scenario.error_threshold, scenario.window, cuts=cuts
    )
    episodes = summary.pop("episodes", [])
    summary["first_errors"] = [
        {"endpoint": ep, "error_class": cls, "first_seen": round(t, 6), "message": msg}
        for (ep, cls), (t, msg) in sorted(engine.first_errors.items(), key=lambda kv: kv[1][0])
    ]
    summary["fallbacks"] = engine.flow.fallbacks * scenario.traffic.represents
    summary["faults"] = [
        {
            "id": f.id,
            "type": f.type,
            "description": f.describe(),
            "start": f.start,
            "ended": schedule.ended.get(f.id),
            "targets": sorted(f.targets),
            "remedies": dict(sorted(f.remedies.items())),
        }
        for f in schedule.faults.values()
    ]
    summary["error_threshold"] = scenario.error_threshold
    summary["slo"] = scenario.scoring.slo.model_dump()
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
    if groups:
        summary["incidents"] = _incidents(groups, episodes, simulation)
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
        "timeline": timeline,
        "compact": compact,
        "metrics": _metric_tables(m, compact),
        "failed_sessions_sample": engine.shoppers.failed,
        "alerts": simulation.monitors.records,
        "paging": simulation.pager.to_journal(),
        "detection": detection,
        "logs": simulation.logs.to_journal(lines=not compact),
        "complaints": complaints,
        "red_herrings": simulation.red_herrings.to_journal(),
        **(
            {"monitoring": monitoring}
            if (monitoring := simulation.pipeline.to_journal()) is not None
            else {}
        ),
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
        "response": response,
        "counterfactuals": results,
        "scoring": {
            "weights": dict(scenario.scoring.weights),
            **(
                {"windows": {k: list(v) for k, v in scenario.scoring.windows.items()}}
                if scenario.scoring.windows
                else {}
            ),
        },
        "summary": summary,
    }
    annotate_herrings(data)
    if compact:
        m.release()
    return Journal(data)


def _metric_tables(metrics: Metrics, compact: bool) -> dict[str, Any]:
    """The journal's three metrics tables: inline lists, or — for a run that spilled windows
    to disk — the sealed tables themselves (stored beside the journal when it is written).
    A compact journal keeps only the business rows, inline.
    """
    tables: dict[str, Any] = {}
    for name, rows in metrics.tables.items():
        block: dict[str, Any] = {"columns": list(rows.columns)}
        if compact and name != "business":
            block["rows"] = []
        elif metrics.spool is None or compact:
            block["rows"] = [list(r) for r in rows]
        else:
            block["rows"] = rows
        tables[name] = block
    return tables


def _simulate(
    scenario: Scenario,
    seed: int,
    until: float,
    faults: bool,
    name: str,
    runbook: Runbook | None,
    progress: Callable[[float], None] | None,
    engine: str = "request",
) -> tuple[Simulation, Incident, Responder]:
    """One run: the responder drives the incident, then the horizon runs out."""
    simulation = Simulation(scenario, seed, faults=faults, engine=engine)
    agent = make_responder(name, scenario, seed, runbook)
    incident = Incident(simulation, until, progress=progress)
    agent.respond(incident)
    simulation.advance(until, progress)
    simulation.finish()
    return simulation, incident, agent


def counterfactual(
    document: Mapping[str, Any],
    seed: int,
    until: float,
    faults: bool,
    name: str,
    engine: str = "request",
    clock: int | None = None,
) -> dict[str, Any]:
    """The same run with responder ``name``: what the scorecard compares against.

    ``clock``: in a counterfactual worker, which of its clocks shows this run's progress.
    """
    scenario = Scenario.model_validate(document)
    progress = None if clock is None else partial(_tick, clock)
    simulation, incident, agent = _simulate(
        scenario, seed, until, faults, name, None, progress, engine
    )
    response = incident.to_journal(agent.name, agent.description)
    m = simulation.engine.metrics
    s = summarise(m.rows, m.business_rows, scenario.error_threshold, scenario.window)
    m.release()
    return {
        "responder": name,
        "seed": seed,
        "mitigated_at": response["mitigated_at"],
        "resolved_at": response["resolved_at"],
        "errors_stopped": s["errors_stopped"],
        "lost_revenue": s["lost_revenue"],
        "failed_checkouts": s["failed_checkouts"],
        "failed_requests": s["failed_requests"],
    }


def lead_herring(
    lead: str, herrings: Sequence[Mapping[str, Any]], changes: Mapping[str, Mapping[str, Any]]
) -> str | None:
    """The red herring a lead points at, if any: by the change or component it names."""
    kind, _, name = lead.partition(":")
    for h in herrings:
        change_kind = changes.get(h.get("change") or "", {}).get("kind")
        if (
            (kind == "network" and change_kind == "notice")
            or (kind == "lb" and change_kind == "config")
            or (kind == "change" and h.get("change") == name)
            or (kind in ("component", "thirdparty") and h.get("target") == name)
        ):
            return str(h["id"])
    if kind == "network":  # a latency blip with no notice behind it
        blips = [h for h in herrings if h["kind"] == "latency_blip"]
        return str(blips[0]["id"]) if blips else None
    return None


def annotate_herrings(data: dict[str, Any]) -> None:
    """Mark the steps that chased a red herring (post-hoc: responders never see the list).

    A step chased a herring when its lead names what the herring is about and that is not
    what any fault's remedies aim at.
    """
    causes = {t for f in data["summary"]["faults"] for t in f["targets"]}
    changes = {c["id"]: c for c in data["changes"]}
    for step in data["response"]["steps"]:
        lead = step["lead"]
        if lead is None or (lead.partition(":")[2] or lead) in causes:
            continue
        step["herring"] = lead_herring(lead, data["red_herrings"], changes)
