"""The small internal action entry point: apply a remedy at time ``t``.

Every action takes simulated time and has side effects on component state (a restart takes
instances down one at a time). At the end it remedies the active faults that list it, aimed
at the right target. The full responder API (observe → evidence, act → state change) grows
out of this module.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.faults.schedule import FaultSchedule
from sim.model.state import Effect
from sim.model.world import World
from sim.scenario.schema import CHANGE_ACTIONS

# How long an action takes when no fault says otherwise (seconds).
DEFAULT_DURATIONS: dict[str, float] = {
    "restart": 0.0,  # plus the rolling restart itself
    "rollback_deploy": 300.0,
    "rollback_migration": 480.0,
    "deploy_fix": 1200.0,
    "failover": 120.0,
    "scale_out": 180.0,
    "isolate": 60.0,
}


class Actions:
    """Runs actions against the world as SimPy processes."""

    def __init__(self, env: simpy.Environment, world: World, faults: FaultSchedule) -> None:
        self.env = env
        self.world = world
        self.faults = faults

    def schedule(self, at: float, action: str, target: str) -> simpy.Process:
        """Start ``action`` on ``target`` at simulated time ``at`` (not before now)."""
        return self.env.process(self._run(max(at, self.env.now), action, target))

    def targets(self, action: str, target: str) -> tuple[set[str], list[str]]:
        """What an action aims at (ids and components) and which components it restarts."""
        if action in CHANGE_ACTIONS:
            change = self.world.changes[target]
            aimed = {target, *change.components}
            restarts = list(change.components) if action == "rollback_deploy" else []
            return aimed, restarts
        return {target}, [target] if action == "restart" else []

    def _run(self, at: float, action: str, target: str) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(at - self.env.now)
        world = self.world
        world.emit(self.env.now, "action.start", action=action, target=target)
        aimed, restarts = self.targets(action, target)
        planned = self.faults.remedied_by(action, aimed)
        duration = (
            max(f.remedies[action] for f in planned) if planned else DEFAULT_DURATIONS[action]
        )
        started = self.env.now
        for component in restarts:
            yield from self._rolling_restart(component, f"{action}:{target}")
            previous = world.previous_versions.get(target, {})
            if action == "rollback_deploy" and component in previous:
                world.states[component].version = previous[component]
        rest = duration - (self.env.now - started)
        if rest > 0:
            yield self.env.timeout(rest)
        remedied = [
            f.id
            for f in self.faults.remedied_by(action, aimed)
            if self.faults.end(f.id, f"remedied by {action} {target}")
        ]
        world.emit(self.env.now, "action.end", action=action, target=target, remedied=remedied)

    def _rolling_restart(self, component: str, source: str) -> Generator[simpy.Event, Any, None]:
        state = self.world.states[component]
        pause = self.world.scenario.components[component].restart_time
        for i in range(state.replicas):
            tag = f"{source}:{component}-{i}"
            state.add(Effect(source=tag, down_instances=(i,)))
            self.world.emit(self.env.now, "instance.restart", component=component, instance=i)
            yield self.env.timeout(pause)
            state.remove(tag)
