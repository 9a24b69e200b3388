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

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def emit(self, t: float, kind: str, **data: Any) -> None:
        event = Event(t, kind, data)
        for listener in self._listeners:
            listener(event)

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
