"""Staged rollouts and feature flags: a change reaches the instances stage by stage.

A deploy or config change with a ``rollout`` reaches, at its ``at``, the first
⌈share × replicas⌉ instances of each of its components; every ``every`` after that the next
stage reaches more, until the last stage (a last stage under 1 leaves the rest on the old
version: a partial deploy). A fault whose ``cause`` is the change is on the instances the
change has reached, and widens with it — so how many shoppers a bad change hurts, and for how
long, is the rollout's pace against how soon someone stops it.

A rollout stops when its change is rolled back, when its ``flag`` is turned off (the kill
switch: ``toggle_flag`` ends the faults the change caused everywhere, in the flag system's
propagation time), or — ``halt_on_alerts``, the default — when an alert is firing as the
next stage is due (a pipeline that checks the alerts before each stage; it stays halted,
resuming is a human's call). The timeline has ``rollout.stage`` (change, stage, instances
reached of how many) and ``rollout.halted`` (why).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace
from typing import Any

import simpy

from sim.faults.registry import reached
from sim.faults.schedule import FaultSchedule
from sim.model.world import Event, World
from sim.scenario.schema import CHANGE_ACTIONS, Change


class Rollouts:
    """Runs every staged change of the scenario and keeps its faults where it has reached."""

    def __init__(self, env: simpy.Environment, world: World, faults: FaultSchedule) -> None:
        self.env = env
        self.world = world
        self.faults = faults
        self.stage: dict[str, int] = {}  # change → the stage it is at (-1: not started)
        self.stage_at: dict[str, list[float]] = {}  # change → when each stage went out
        self.halted: dict[str, str] = {}  # change → why it stopped
        self.flags_off: set[str] = set()
        self.firing: set[str] = set()  # alerts firing now: what a pipeline checks before a stage
        staged = [c for c in world.scenario.changes if c.rollout is not None]
        for change in staged:
            self.stage[change.id] = -1
            env.process(self._roll(change))
        if staged or any(c.flag for c in world.scenario.changes):
            world.subscribe(self._on_event)

    def reach(self, change_id: str) -> dict[str, tuple[int, int]]:
        """Per component of a staged change: (instances reached, instances)."""
        change = self.world.changes[change_id]
        stage = self.stage.get(change_id, -1)
        out = {}
        for name in change.components:
            replicas = self.world.states[name].replicas
            n = 0 if stage < 0 else len(reached(change, replicas, stage))
            out[name] = (n, replicas)
        return out

    def _roll(self, change: Change) -> Generator[simpy.Event, Any, None]:
        assert change.rollout is not None
        yield self.env.timeout(change.at)
        for i in range(len(change.rollout.stages)):
            if change.id in self.halted:
                return
            if i:
                yield self.env.timeout(change.rollout.every)
                if change.id in self.halted:
                    return
                if change.rollout.halt_on_alerts and self.firing:
                    self._halt(change.id, f"alert {min(self.firing)} firing")
                    return
            self.stage[change.id] = i
            self.stage_at.setdefault(change.id, []).append(self.env.now)
            self._widen(change, i)
            reach = self.reach(change.id)
            self.world.emit(
                self.env.now,
                "rollout.stage",
                change=change.id,
                stage=i + 1,
                stages=len(change.rollout.stages),
                reached={k: list(v) for k, v in reach.items()},
            )

    def _widen(self, change: Change, stage: int) -> None:
        """Put the change's active faults on the instances stage ``stage`` has reached."""
        for fault_id in sorted(self.faults.active):
            spec = self.faults.specs.get(fault_id)
            if spec is None or spec.cause != change.id:
                continue
            fault = self.faults.faults[fault_id]
            for component, effect in fault.effects:
                state = self.world.states[component]
                state.remove(fault_id)
                state.add(replace(effect, instances=reached(change, state.replicas, stage)))

    def _on_event(self, event: Event) -> None:
        if event.kind == "alert.firing":
            self.firing.add(str(event.data["alert"]))
            return
        if event.kind == "alert.resolved":
            self.firing.discard(str(event.data["alert"]))
            return
        if event.kind == "fault.start":  # a fault of a change that is some stages in already
            spec = self.faults.specs.get(str(event.data.get("id")))
            if spec is not None and self.stage.get(spec.cause or "", -1) > 0:
                assert spec.cause is not None
                self._widen(self.world.changes[spec.cause], self.stage[spec.cause])
            return
        if event.kind != "action.end" or event.data.get("failed"):
            return
        action, target = event.data.get("action"), str(event.data.get("target"))
        if action in CHANGE_ACTIONS and target in self.stage:
            self._halt(target, f"rolled back ({action})")
        elif action == "toggle_flag":
            self.flags_off.add(target)
            for change in self.world.scenario.changes:
                if change.flag == target and change.id in self.stage:
                    self._halt(change.id, f"flag {target} turned off")

    def _halt(self, change_id: str, why: str) -> None:
        if change_id in self.halted:
            return
        self.halted[change_id] = why
        rollout = self.world.changes[change_id].rollout
        assert rollout is not None
        if self.stage[change_id] < len(rollout.stages) - 1:
            self.world.emit(self.env.now, "rollout.halted", change=change_id, why=why)
