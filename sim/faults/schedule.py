"""Scheduling: change-log entries and faults become state changes at their simulated times."""

from __future__ import annotations

from collections.abc import Generator, Iterable
from typing import Any

import simpy

from sim.faults.registry import ActiveFault, resolve
from sim.model.world import World
from sim.scenario.schema import Fault


class FaultSchedule:
    """Starts and ends the scenario's faults (and applies its change log) as SimPy processes."""

    def __init__(self, env: simpy.Environment, world: World, enabled: bool = True) -> None:
        self.env = env
        self.world = world
        scenario = world.scenario
        self.faults: dict[str, ActiveFault] = (
            {f.id: resolve(f, world) for f in scenario.faults} if enabled else {}
        )
        self.specs: dict[str, Fault] = {f.id: f for f in scenario.faults}  # as written
        self.active: set[str] = set()
        self.started: dict[str, float] = {}
        self.ended: dict[str, float] = {}
        for change in sorted(scenario.changes, key=lambda c: c.at):
            env.process(self._change(change.at, change.id))
        for fault in self.faults.values():
            env.process(self._fault(fault))

    def _change(self, at: float, change_id: str) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(at)
        self.world.apply_change(self.env.now, self.world.changes[change_id])

    def inject(self, fault: Fault) -> ActiveFault:
        """Start ``fault`` now, mid-run (a drill facilitator's extra fault).

        The entry is already validated against the scenario (its id must be new); its own
        ``start`` is ignored: an injected fault starts at the current simulated time, and a
        ``duration`` counts from then.
        """
        if fault.id in self.faults:
            raise ValueError(f"a fault named {fault.id!r} already exists")
        active = resolve(fault.model_copy(update={"start": float(self.env.now)}), self.world)
        self.faults[active.id] = active
        self.specs[active.id] = fault
        self.env.process(self._fault(active))
        return active

    def _fault(self, fault: ActiveFault) -> Generator[simpy.Event, Any, None]:
        if fault.trigger is not None:
            return  # start_triggered starts it when its migration commits
        # Priority: a fault that starts with its change starts after the change is logged.
        yield self.env.timeout(fault.start - self.env.now)
        yield self.env.timeout(0)
        yield from self._begin(fault)

    def start_triggered(self, change_id: str) -> None:
        """Start the faults that ``change_id``'s commit sets off (a breaking migration)."""
        for fault in self.faults.values():
            if fault.trigger == change_id and fault.id not in self.active | set(self.ended):
                self.env.process(self._begin(fault))

    def _begin(self, fault: ActiveFault) -> Generator[simpy.Event, Any, None]:
        for component, effect in fault.effects:
            self.world.states[component].add(effect)
        self.active.add(fault.id)
        self.started[fault.id] = self.env.now
        latent = {"since": fault.since} if fault.since > 0 else {}
        self.world.emit(
            self.env.now,
            "fault.start",
            id=fault.id,
            type=fault.type,
            components=sorted({c for c, _ in fault.effects}),
            **latent,
        )
        if fault.end is not None:
            yield self.env.timeout(fault.end - fault.start)
            self.end(fault.id, "expired")

    def open_episode(
        self,
        episode_id: str,
        kind: str,
        targets: frozenset[str],
        remedies: dict[str, float],
        components: tuple[str, ...],
    ) -> ActiveFault:
        """A mechanism's disruption starts now (or goes on, if it is already open)."""
        if episode_id in self.active:
            return self.faults[episode_id]
        episode = ActiveFault(
            episode_id,
            kind,
            self.env.now,
            None,
            (),
            targets,
            remedies,
            mechanism=True,
            components=components,
        )
        self.faults[episode_id] = episode
        self.active.add(episode_id)
        self.started[episode_id] = self.env.now
        self.world.emit(
            self.env.now, "fault.start", id=episode_id, type=kind, components=list(components)
        )
        return episode

    def end(self, fault_id: str, cause: str, at: float | None = None) -> bool:
        """End an active fault now; return whether it was active. ``at``: an episode known
        only in hindsight to have ended earlier (replicas that have stayed up since then)."""
        if fault_id not in self.active:
            return False
        fault = self.faults[fault_id]
        for component, _ in fault.effects:
            self.world.states[component].remove(fault.id)
        self.active.discard(fault_id)
        self.ended[fault_id] = self.env.now if at is None else at
        self.world.emit(self.env.now, "fault.end", id=fault_id, cause=cause)
        return True

    def remedied_by(
        self, action: str, targets: Iterable[str], change: str | None = None
    ) -> list[ActiveFault]:
        """Active faults that ``action`` aimed at ``targets`` would remedy. An action on a
        change (a rollback of ``change``) ends only the faults that change brought, or those
        no change brought: rolling back one config of the web tier does not end what another
        one broke there."""
        aimed = set(targets)
        out = []
        for fid in sorted(self.active):
            fault = self.faults[fid]
            if action not in fault.remedies or not fault.targets & aimed:
                continue
            if change is not None and fault.change is not None and fault.change != change:
                continue
            out.append(fault)
        return out
