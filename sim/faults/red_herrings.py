"""Red herrings: real, visible signals that do not cause the outage.

A latency blip or a slow component is an effect on component state like a fault's (engines
cannot tell the difference); a log burst goes to the logs; a ``change`` entry marks a
change-log entry as misleading. The journal lists them so a post-mortem can say which leads
were false — responders never see that list.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import simpy

from sim.model.state import Effect
from sim.model.world import World
from sim.scenario.schema import RedHerring

# (component, level, message, start, duration, lines per minute)
LogBurst = Callable[[str, str, str, float, float, float], None]


class RedHerrings:
    """Schedules the scenario's red herrings (nothing at all when they are switched off)."""

    def __init__(
        self, env: simpy.Environment, world: World, log_burst: LogBurst | None = None
    ) -> None:
        self.env = env
        self.world = world
        self.log_burst = log_burst
        spec = world.scenario.red_herrings
        self.items: list[RedHerring] = list(spec.items) if spec.enabled else []
        self.records: list[dict[str, Any]] = []
        for item in self.items:
            self._schedule(item, self._start(item))

    def inject(self, item: RedHerring) -> dict[str, Any]:
        """Start red herring ``item`` now, mid-run (a drill facilitator's extra signal).

        The entry is already validated against the scenario (its id must be new); its own
        ``start`` is ignored: it starts at the current simulated time. Returns its record.
        """
        if any(r["id"] == item.id for r in self.records):
            raise ValueError(f"a red herring named {item.id!r} already exists")
        self.items.append(item)
        return self._schedule(item, float(self.env.now))

    def _schedule(self, item: RedHerring, start: float) -> dict[str, Any]:
        target = item.target
        if item.kind == "change" and item.change is not None:
            target = ",".join(self.world.changes[item.change].components)
        record = {
            "id": item.id,
            "kind": item.kind,
            "target": target,
            "change": item.change,
            "start": start,
            "end": None if item.kind == "change" else start + item.duration,
            "note": item.note,
        }
        self.records.append(record)
        if item.kind in ("latency_blip", "slow_component"):
            self.env.process(self._slowdown(item, start))
        elif item.kind == "log_noise" and self.log_burst is not None and item.target:
            message = item.message or "unexpected condition (benign)"
            self.log_burst(item.target, item.level, message, start, item.duration, item.rate)
        return record

    def _start(self, item: RedHerring) -> float:
        if item.start is not None:
            return item.start
        if item.change is not None:
            return self.world.changes[item.change].at
        return 0.0

    def _slowdown(self, item: RedHerring, start: float) -> Generator[simpy.Event, Any, None]:
        assert item.target is not None
        yield self.env.timeout(start - self.env.now)
        state = self.world.states[item.target]
        source = f"red-herring:{item.id}"
        state.add(Effect(source=source, latency_factor=item.factor))
        yield self.env.timeout(item.duration)
        state.remove(source)

    def to_journal(self) -> list[dict[str, Any]]:
        return self.records
