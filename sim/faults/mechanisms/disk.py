"""Disks that fill: instances that fail every call once what they write has used up the space.

While a ``disk_full`` fault is active on a component, every ``TICK`` each of its instances in
service writes ``per_call`` bytes for each (real) call it served — the component's calls
split evenly over the instances up. An instance whose writes pass the fault's ``free`` space
fails every call with ``OSError: [Errno 28] No space left on device`` (an effect on that
instance only) — so the time to the first full disk is ``free ÷ (per_call × calls per second
per instance)``, the traffic's to say. While any disk of the component is full, an episode
(``disk_full.<component>``) is open; ``free_disk`` deletes what was written on every instance
and closes it. A restart frees nothing (the files stay on the disk); only ending the fault —
rolling back the change that writes so much — stops the disks filling again.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.faults.mechanisms.served import Served
from sim.faults.schedule import FaultSchedule
from sim.model.state import Effect
from sim.model.world import Event, World
from sim.scenario.schema import DiskFullFault

TICK = 5.0  # seconds between looks at the calls served
ENOSPC = "[Errno 28] No space left on device"


class Disks:
    """The disks of every component with an active ``disk_full`` fault."""

    def __init__(self, env: simpy.Environment, world: World, faults: FaultSchedule) -> None:
        self.env = env
        self.world = world
        self.faults = faults
        self.written: dict[str, list[float]] = {}  # component → bytes written per instance
        self.full: dict[str, set[int]] = {}  # component → instances whose disk is full
        self.fills: list[tuple[float, str, int]] = []  # (t, component, instance)
        self.episodes = 0
        if any(isinstance(f, DiskFullFault) for f in faults.specs.values()):
            world.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        d = event.data
        if event.kind == "fault.start":
            spec = self.faults.specs.get(str(d.get("id")))
            if isinstance(spec, DiskFullFault):
                self.written.setdefault(
                    spec.target, [0.0] * self.world.states[spec.target].replicas
                )
                self.full.setdefault(spec.target, set())
                self.env.process(self._fill(spec))
        elif event.kind == "action.end" and d.get("action") == "free_disk" and not d.get("failed"):
            self.free(str(d.get("target")))

    def _fill(self, spec: DiskFullFault) -> Generator[simpy.Event, Any, None]:
        component = spec.target
        state = self.world.states[component]
        written, full = self.written[component], self.full[component]
        served = Served(state, self.world.scenario.traffic.represents)
        while spec.id not in self.faults.ended:
            yield self.env.timeout(TICK)
            up, calls = served.since_last()
            if len(written) < state.replicas:
                written.extend([0.0] * (state.replicas - len(written)))
            if not up:
                continue
            each = calls * spec.per_call
            for i in up:
                written[i] += each
                if written[i] >= spec.free and i not in full:
                    self._fill_up(component, i, written[i])

    def _fill_up(self, component: str, i: int, written: float) -> None:
        """Instance ``i``'s disk is full: it fails every call until the disk is freed."""
        state = self.world.states[component]
        full = self.full[component]
        if not full:  # the first full disk of the component opens the episode
            self.episodes += 1
            self.faults.open_episode(
                self.episode_id(component),
                "disk_full",
                frozenset({component}),
                {"free_disk": 0.0},
                (component,),
            )
        full.add(i)
        self.fills.append((self.env.now, component, i))
        state.add(
            Effect(
                source=f"disk:{component}-{i}",
                error_probability=1.0,
                error_class="OSError",
                message=ENOSPC,
                instances=frozenset({i}),
            )
        )
        self.world.emit(self.env.now, "disk.full", component=component, instance=i, written=written)

    def episode_id(self, component: str) -> str:
        return f"disk-full-{component}-{self.episodes}"

    def free(self, component: str) -> None:
        """``free_disk``: what was written is deleted on every instance; the full ones serve
        again, and the episode closes."""
        if component not in self.written:
            return
        state = self.world.states[component]
        written, full = self.written[component], self.full[component]
        written[:] = [0.0] * len(written)  # in place: the filling process holds these
        for i in sorted(full):
            state.remove(f"disk:{component}-{i}")
        if full:
            full.clear()
            self.faults.end(self.episode_id(component), "disk freed")
        self.world.emit(self.env.now, "disk.freed", component=component)
