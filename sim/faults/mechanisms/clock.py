"""Clocks that drift: instances that fail once their skew passes what the checks tolerate.

While a ``clock_skew`` fault is active on a component, its instances no longer sync their
clocks: instance ``i`` of ``n`` gains skew at ``drift × (0.6 + 0.8 i ÷ (n − 1))`` seconds per
second (oscillators differ), counted from when the sync stopped (``since`` before t = 0 for a
latent fault) or from its last restart. An instance whose skew passes ``tolerance`` fails every
call with ``InvalidToken: token used before issued`` (an effect on that instance only) — so
the instances fail one after another, the fastest first, at times the drift decides. A
restart steps the instance's clock back (``chronyd -q`` at boot) and it drifts again from
zero; ending the fault (fixing the sync) stops the drift and puts every clock right.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.faults.schedule import FaultSchedule
from sim.model.state import Effect
from sim.model.world import Event, World
from sim.scenario.schema import ClockSkewFault

TICK = 5.0  # seconds between looks at the clocks


def rate(drift: float, i: int, n: int) -> float:
    """Instance ``i``'s drift (seconds per second): 0.6× to 1.4× the fault's, in order."""
    return drift * (0.6 + 0.8 * i / (n - 1)) if n > 1 else drift


class Clocks:
    """The drifting clocks of every component with an active ``clock_skew`` fault."""

    def __init__(self, env: simpy.Environment, world: World, faults: FaultSchedule) -> None:
        self.env = env
        self.world = world
        self.faults = faults
        self.synced: dict[str, list[float]] = {}  # component → when each clock was last right
        self.failing: dict[str, set[int]] = {}
        if any(isinstance(f, ClockSkewFault) for f in faults.specs.values()):
            world.subscribe(self._on_event)

    def skew(self, component: str, i: int) -> float:
        """Instance ``i``'s skew now (seconds); 0 when its clock is synced."""
        spec = self._spec(component)
        synced = self.synced.get(component)
        if spec is None or synced is None or i >= len(synced):
            return 0.0
        n = self.world.states[component].replicas
        return rate(spec.drift, i, n) * (self.env.now - synced[i])

    def _spec(self, component: str) -> ClockSkewFault | None:
        for fault_id in self.faults.active:
            spec = self.faults.specs.get(fault_id)
            if isinstance(spec, ClockSkewFault) and spec.target == component:
                return spec
        return None

    def _on_event(self, event: Event) -> None:
        d = event.data
        spec = self.faults.specs.get(str(d.get("id")))
        if event.kind == "fault.start" and isinstance(spec, ClockSkewFault):
            n = self.world.states[spec.target].replicas
            self.synced[spec.target] = [self.env.now - spec.since] * n
            self.failing[spec.target] = set()
            self.env.process(self._drift(spec))
        elif event.kind == "fault.end" and isinstance(spec, ClockSkewFault):
            for i in sorted(self.failing.pop(spec.target, set())):
                self.world.states[spec.target].remove(f"clock:{spec.target}-{i}")
            self.synced.pop(spec.target, None)
        elif event.kind == "instance.restart":
            synced = self.synced.get(str(d.get("component")))
            i = int(d.get("instance", -1))
            if synced is not None and 0 <= i < len(synced):
                synced[i] = self.env.now  # stepped right at boot; it drifts again from here

    def _drift(self, spec: ClockSkewFault) -> Generator[simpy.Event, Any, None]:
        component = spec.target
        state = self.world.states[component]
        while spec.id in self.faults.active:
            synced, failing = self.synced[component], self.failing[component]
            for i in range(min(len(synced), state.replicas)):
                off = self.skew(component, i) > spec.tolerance
                if off and i not in failing:
                    failing.add(i)
                    state.add(
                        Effect(
                            source=f"clock:{component}-{i}",
                            error_probability=1.0,
                            error_class="InvalidToken",
                            message="token used before issued (iat in the future): clock skew "
                            f"{self.skew(component, i):.0f}s",
                            instances=frozenset({i}),
                        )
                    )
                    self.world.emit(
                        self.env.now,
                        "clock.skewed",
                        component=component,
                        instance=i,
                        skew=round(self.skew(component, i), 3),
                    )
                elif not off and i in failing:
                    failing.discard(i)
                    state.remove(f"clock:{component}-{i}")
            yield self.env.timeout(TICK)
