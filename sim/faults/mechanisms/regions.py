"""Regions that go dark, and failing a region's shoppers over to another.

A ``region_outage`` darkens one traffic region at the edge (its network path or its
balancers): every request of a shopper in that region, and every synthetic check from it,
fails at once with ``ConnectError`` while the other regions serve as before. The world keeps
the dark regions (``World.dark_regions``), which the request engine reads per request.

``failover_region REGION`` changes the shop's DNS so that the region's shoppers resolve to
another region. Their resolvers keep the old answer until it expires, evenly over
``traffic.dns_ttl``: the share of them moved grows from 0 to 1 over the TTL, and the
action ends — and with it the outage for the shop — when the last has moved. So how long a
failover takes is the TTL's to say, not a constant. The other regions then carry the whole
load, on the same tiers behind the edge.
"""

from __future__ import annotations

import simpy

from sim.model.world import Event, World
from sim.scenario.schema import RegionOutageFault


class Regions:
    """Keeps ``World.dark_regions`` as the region outages start and end."""

    def __init__(self, env: simpy.Environment, world: World) -> None:
        self.env = env
        self.world = world
        scenario = world.scenario
        faults = [*scenario.faults, *(c.fault for c in scenario.consequences)]
        self.regions = {f.id: f.region for f in faults if isinstance(f, RegionOutageFault)}
        if self.regions:
            world.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        region = self.regions.get(event.data.get("id", ""))
        if region is None:
            return
        if event.kind == "fault.start":
            self.world.dark_regions[region] = None
        elif event.kind == "fault.end":
            self.world.dark_regions.pop(region, None)

    def fail_over(self, region: str) -> float:
        """Start moving ``region``'s shoppers elsewhere now; return how long it takes (the
        DNS TTL). A region not dark has nothing to move: 0."""
        if region not in self.world.dark_regions:
            return 0.0
        if self.world.dark_regions[region] is None:
            self.world.dark_regions[region] = self.env.now
            self.world.emit(self.env.now, "region.failing_over", region=region)
        return self.world.scenario.traffic.dns_ttl


__all__ = ["Regions"]
