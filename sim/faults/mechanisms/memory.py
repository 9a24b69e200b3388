"""Memory that leaks: instances killed by the OOM killer when their leak runs out of room.

While a ``memory_leak`` fault is active on a component, every ``TICK`` each of its instances
in service keeps ``per_call`` bytes for each (real) call it served (the component's calls
split evenly over its instances up: the balancer spreads them). An instance whose leak passes the
fault's ``headroom`` is killed and is down for the component's ``restart_time``; it comes
back with its memory free, and the leak starts over. So the time to the first kill is
``headroom ÷ (per_call × calls per second per instance)`` — the traffic decides it, and a
busy hour brings it sooner. Any restart (a responder's rolling restart, a rollback's) frees
the restarted instance's memory too; only ending the fault (rolling back its cause) stops
the leak.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.faults.mechanisms.served import Served
from sim.faults.schedule import FaultSchedule
from sim.model.state import Effect
from sim.model.world import Event, World
from sim.scenario.schema import MemoryLeakFault

TICK = 5.0  # seconds between looks at the calls served


class Memory:
    """The leaking instances of every component with an active ``memory_leak`` fault."""

    def __init__(self, env: simpy.Environment, world: World, faults: FaultSchedule) -> None:
        self.env = env
        self.world = world
        self.faults = faults
        self.leaked: dict[str, list[float]] = {}  # component → bytes leaked per instance
        self.leaks: dict[str, tuple[str, float, float]] = {}  # component → (fault, per call, room)
        self.kills: list[tuple[float, str, int]] = []  # (t, component, instance)
        world.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        d = event.data
        if event.kind == "fault.start" and d.get("type") == "memory_leak":
            spec = self.faults.specs[str(d["id"])]
            assert isinstance(spec, MemoryLeakFault)
            component = spec.target
            self.leaks[component] = (spec.id, spec.per_call, spec.headroom)
            replicas = self.world.states[component].replicas
            self.leaked.setdefault(component, [0.0] * replicas)
            self.env.process(self._leak(component, spec.id))
        elif event.kind == "instance.restart":
            memory = self.leaked.get(str(d.get("component")))
            i = int(d.get("instance", -1))
            if memory is not None and 0 <= i < len(memory):
                memory[i] = 0.0  # a restarted process starts with its memory free

    def _leak(self, component: str, fault_id: str) -> Generator[simpy.Event, Any, None]:
        state = self.world.states[component]
        memory = self.leaked[component]
        _, per_call, headroom = self.leaks[component]
        served = Served(state, self.world.scenario.traffic.represents)
        while fault_id not in self.faults.ended:
            yield self.env.timeout(TICK)
            up, calls = served.since_last()
            if len(memory) < state.replicas:
                memory.extend([0.0] * (state.replicas - len(memory)))
            if not up:
                continue
            each = calls * per_call
            for i in up:
                memory[i] += each
                if memory[i] >= headroom:
                    self._kill(component, i, memory[i])

    def _kill(self, component: str, i: int, leaked: float) -> None:
        """The kernel kills the instance's process; it restarts with its memory free."""
        state = self.world.states[component]
        self.leaked[component][i] = 0.0
        self.kills.append((self.env.now, component, i))
        source = f"oom:{component}-{i}"
        state.add(Effect(source=source, down_instances=(i,)))
        self.world.emit(
            self.env.now, "instance.oom_killed", component=component, instance=i, leaked=leaked
        )
        self.env.process(self._restart(component, i, source))

    def _restart(self, component: str, i: int, source: str) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(self.world.scenario.components[component].restart_time)
        self.world.states[component].remove(source)
        self.world.emit(self.env.now, "instance.restarted", component=component, instance=i)
