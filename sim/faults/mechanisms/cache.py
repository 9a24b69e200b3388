"""Caches that empty and refill: the cold-cache stampede onto the store behind them.

A ``cache_flush`` fault empties a cache (``components.NAME.keys``): every lookup misses and
goes to the store (the calls with ``cached_by`` that cache). Each miss the store answers is
stored again, so the cache warms at the rate the store answers misses — and a store swamped
by the stampede answers few of them in time (its work on calls whose callers gave up fills
nothing; what is still queued when a caller gives up is dropped), so the cache warms slowly
while the load lasts. It does warm: a store that keeps working on abandoned queries (the
metastable case) is not modelled (docs/mechanisms.md). The fault is over when the cache is
warm again (``WARM`` of its keys). A restart of a cache's
instances empties their share of it.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.faults.schedule import FaultSchedule
from sim.model.cache import WARM
from sim.model.world import Event, World

TICK = 5.0  # seconds between looks at a flushed cache's warmth


class Caches:
    """Flushes caches when their faults start and ends those faults when they are warm."""

    def __init__(self, env: simpy.Environment, world: World, faults: FaultSchedule) -> None:
        self.env = env
        self.world = world
        self.faults = faults
        world.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        d = event.data
        if event.kind == "fault.start" and d.get("type") == "cache_flush":
            fault_id = str(d["id"])
            (name,) = d["components"]
            cache = self.world.caches[name]
            cache.flush()
            cache.flushed_at = self.env.now
            self.world.emit(self.env.now, "cache.flushed", component=name, fault=fault_id)
            self.env.process(self._until_warm(name, fault_id))
        elif event.kind == "instance.restart":
            restarted = self.world.caches.get(str(d.get("component")))
            if restarted is not None:  # a cache instance restarted holds nothing
                restarted.flush(int(d.get("instance", 0)))

    def _until_warm(self, name: str, fault_id: str) -> Generator[simpy.Event, Any, None]:
        cache = self.world.caches[name]
        while cache.warmth < WARM and fault_id not in self.faults.ended:
            yield self.env.timeout(TICK)
        if fault_id in self.faults.ended:
            return
        self.world.emit(self.env.now, "cache.warm", component=name, warmth=round(cache.warmth, 4))
        self.faults.end(fault_id, "the cache is warm again")
