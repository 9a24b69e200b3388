"""Hints: what an experienced colleague would point at, read off the telemetry only.

Every hint is computed from what the run has published (the same :class:`View` the action
API answers from): a new error that began as the trainee's last action finished, the
deepest failing dependency, a change that landed just before the errors (not one already
rolled back), database errors naming a table a migration altered, a vendor's status page, a
saturated component (a database whose planner statistics are missing said as such), healthy
network and load balancer, communication not done yet, errors gone. None reads the fault
list. Hints go from "where" to "what"; each is given once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from sim.model.sql import tables_in

if TYPE_CHECKING:
    from sim.response.api import Incident

CHANGE_WINDOW = 1800.0  # a change this long before the errors began is a suspect


def candidates(incident: Incident) -> Iterator[tuple[str, str]]:
    """``(key, text)`` of every hint that applies now, the most useful first."""
    view = incident.view
    failing = view.failing_endpoints()
    onset = view.onset()
    if not failing and onset is None:
        if incident.steps:
            yield (
                "calm",
                (
                    "every endpoint is under the error threshold now: if you acted, check the "
                    "dashboard once more, then declare `mitigated` and `resolve`"
                ),
            )
        return
    if not failing:
        yield (
            "recovered",
            (
                "the errors are back under the threshold: declare `mitigated`, tell users "
                "(`notify`), and `resolve` once you are sure the cause is gone"
            ),
        )
    acted = [st for st in incident.steps if st["kind"] == "act" and st["ok"]]
    if acted:  # what the last action that went through set off, if the logs show it
        last = acted[-1]
        since = float(last["end"]) - 60.0
        fresh = view.sim.logs.top_signatures(n=1, level="ERROR", since=since)  # first seen since
        if fresh:
            sig = fresh[0]
            yield (
                f"after:{last['call']}:{last['target']}",
                (
                    f"a new error began on {sig.component} as your {last['call']} of "
                    f"{last['target']} finished ({view.clock(sig.first_seen)}): {sig.example}"
                ),
            )
    _, deps = view.deps()
    deepest: list[str] = deps["deepest"]
    if deepest:
        ratio = deps["components"][deepest[0]]["error_ratio"]
        yield (
            "deepest",
            (
                f"the deepest failing dependency is {deepest[0]} ({ratio:.0%} of its calls fail); "
                "the other failing components call it"
            ),
        )
    for name in deps["saturated"]:
        busy = deps["components"][name]["saturation"]
        stale = _stale_statistics(incident, name)
        # busy because each query costs more, not because there are more of them
        why = (
            f" and its planner has no statistics for {', '.join(stale)}: every query on them "
            "is planned blind — more capacity would only run more bad plans"
            if stale
            else ": it is short of capacity rather than broken"
        )
        yield f"saturated:{name}", f"{name} is saturated ({busy:.0%} busy){why}"
    _, vendors = view.thirdparty()
    for name, state in vendors["providers"].items():
        if state != "operational":
            yield f"vendor:{name}", f"{name}'s status page reports {state}"
    if onset is not None:
        reverted = incident.actions.reverted  # a change already rolled back is no lead now
        near = [
            (onset - t, c)
            for t, c in view.sim.world.applied
            if c.kind != "notice"
            and c.id not in reverted
            and onset - CHANGE_WINDOW <= t <= onset + 60
        ]
        if near:  # one on the deepest failing component first, then the nearest the onset
            on = set(deepest[:1])
            delta, change = min(
                near, key=lambda item: (not on & set(item[1].components), abs(item[0]))
            )
            minutes = max(0, round(delta / 60))
            when = "just as" if minutes == 0 else f"{minutes} minute{'s' * (minutes != 1)} before"
            outside = (
                ""
                if change.logged
                else f" — not in the change log: `changes {change.components[0]}` shows it"
            )
            yield (
                "change",
                (
                    f"a {change.kind} ({change.id}) landed {when} the errors began, at "
                    f"{view.clock(t_of(incident, change.id))}{outside}"
                ),
            )
    _, logs = view.logs()
    tables = set(logs["tables"])
    for t, change in reversed(view.sim.world.applied):
        touched = tables & tables_in(change.statements)
        if touched:
            table = sorted(touched)[0]
            yield (
                "tables",
                (
                    f"the database errors name table {table}, and {change.kind} {change.id} "
                    f"altered {table} at {view.clock(t)}"
                ),
            )
            break
    _, net = view.net()
    _, lb = view.lb()
    if (
        net["edge_latency_ratio"] < 1.5
        and net["edge_error_ratio"] <= view.threshold
        and not lb["out_of_rotation"]
    ):
        yield (
            "edge",
            (
                "the network and the load balancer look healthy now: edge latency is normal and "
                "every backend is in rotation"
            ),
        )
    if incident.notified_at is None:
        yield "notify", "users have not been told yet: `notify` posts to the status page"
    if incident.stakeholders_at is None:
        yield "update", "support and the business have not heard from you: `update` them"


def t_of(incident: Incident, change_id: str) -> float:
    """When change ``change_id`` was applied (it is in the applied log)."""
    return next(t for t, c in incident.sim.world.applied if c.id == change_id)


def next_hint(incident: Incident, given: set[str]) -> tuple[str, str] | None:
    """The most useful hint not given yet, or ``None`` when the telemetry has nothing new."""
    for key, text in candidates(incident):
        if key not in given:
            return key, text
    return None


def _stale_statistics(incident: Incident, name: str) -> list[str]:
    """The tables of database ``name`` whose planner statistics are missing, as its view
    shows them (``pg_stat_user_tables`` never analyzed); none for anything else."""
    if name not in incident.sim.world.data:
        return []
    from sim.response.dbview import database_view

    _, facts = database_view(incident.sim, name)
    return list(facts["stale_statistics"])


__all__ = ["candidates", "next_hint"]
