"""The world: topology, live component state, the applied change log and the event bus."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sim.model.cache import CacheState
from sim.model.data import DatabaseState
from sim.model.state import ComponentState
from sim.model.topology import Topology
from sim.scenario.schema import Change, Scenario


@dataclass(frozen=True)
class Event:
    """Something that happened at simulated time ``t`` (seconds): the unit of every timeline."""

    t: float
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


Listener = Callable[[Event], None]


def postgres_major(version: str) -> str:
    """PostgreSQL's major version: the first number from 10 on ("15.6" → "15"), the first
    two before ("9.6.24" → "9.6")."""
    parts = version.strip().split(".")
    if parts[0].isdigit() and int(parts[0]) < 10 and len(parts) > 1:
        return ".".join(parts[:2])
    return parts[0]


class World:
    """Everything a fault or an action may change, and everything an engine reads.

    Observers subscribe to :meth:`emit`; with none subscribed, emitting costs a loop over
    an empty list.
    """

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.topology = Topology(scenario)
        self.states: dict[str, ComponentState] = {
            name: ComponentState(name, spec) for name, spec in scenario.components.items()
        }
        # The data tier of each database that declares one (scenario ``databases:``).
        self.data: dict[str, DatabaseState] = {
            name: DatabaseState(name, spec, scenario.components[name].replicas)
            for name, spec in scenario.databases.items()
        }
        # The warmth of each cache that declares its hot keys (components.NAME.keys).
        self.caches: dict[str, CacheState] = {
            name: CacheState(name, spec.keys, spec.replicas)
            for name, spec in scenario.components.items()
            if spec.keys is not None
        }
        self.changes: dict[str, Change] = {c.id: c for c in scenario.changes}
        self.applied: list[tuple[float, Change]] = []
        # change id → component → version before that deploy (for rollbacks)
        self.previous_versions: dict[str, dict[str, str]] = {}
        self._listeners: list[Listener] = []
        # regions whose edge is dark (a region_outage), each with the time its shoppers began
        # to be failed over to another region (None: not yet); the engines read it
        self.dark_regions: dict[str, float | None] = {}

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def emit(self, t: float, kind: str, **data: Any) -> None:
        event = Event(t, kind, data)
        for listener in self._listeners:
            listener(event)

    def major_upgrade(self, change_id: str) -> tuple[str, str, str] | None:
        """``(database, old, new)`` when the applied deploy ``change_id`` moved a PostgreSQL
        database with a data tier to another major version (pg_upgrade, which does not carry
        the planner's statistics over); None for anything else."""
        change = self.changes.get(change_id)
        before = self.previous_versions.get(change_id, {})
        if change is None or change.kind != "deploy" or not change.version:
            return None
        for name in change.components:
            db = self.data.get(name)
            if db is None or db.spec.dialect != "postgresql" or name not in before:
                continue
            if postgres_major(before[name]) != postgres_major(change.version):
                return name, before[name], change.version
        return None

    def apply_change(self, t: float, change: Change) -> None:
        """Record a change-log entry as applied; a deploy sets the new version."""
        self.applied.append((t, change))
        if change.kind == "deploy" and change.version:
            self.previous_versions[change.id] = {
                name: self.states[name].version for name in change.components
            }
            for name in change.components:
                self.states[name].version = change.version
        self.emit(
            t,
            "change",
            id=change.id,
            change_kind=change.kind,
            author=change.author,
            description=change.description,
            components=list(change.components),
        )
