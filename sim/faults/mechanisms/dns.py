"""Names that stop resolving: failures that spread as caches expire and outlast the fix.

While a ``dns_failure`` fault is active on a component, its callers can still reach it
through the entries they cached before the failure: each entry lives ``ttl`` seconds, and
the callers' entries were refreshed at evenly spread times, so the share of calls that find
theirs expired — and fail with a name-resolution error — grows linearly from 0 to 1 over the
TTL after the failure began. When the fault ends (the config rolled back, the callers moved to
a second resolver), the callers that had cached the failure keep failing until their negative
entries expire, evenly over ``negative_ttl``. So how fast the outage spreads, and how long it
lasts after its fix, are the caches' to say.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.faults.schedule import FaultSchedule
from sim.model.state import Effect
from sim.model.world import Event, World
from sim.scenario.schema import DnsFailureFault

TICK = 5.0  # seconds between updates of the share failing


class Dns:
    """The share of calls failing to resolve each component with a ``dns_failure``."""

    def __init__(self, env: simpy.Environment, world: World, faults: FaultSchedule) -> None:
        self.env = env
        self.world = world
        self.faults = faults
        self.failing: dict[str, float] = {}  # component → share of calls failing to resolve
        if any(f.type == "dns_failure" for f in faults.specs.values()):
            world.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        if event.kind not in ("fault.start", "fault.end"):
            return
        spec = self.faults.specs.get(str(event.data.get("id")))
        if not isinstance(spec, DnsFailureFault):
            return
        if event.kind == "fault.start":
            self.env.process(self._spread(spec))
        else:
            self.env.process(self._recover(spec))

    def _set(self, spec: DnsFailureFault, share: float) -> None:
        state = self.world.states[spec.target]
        source = f"dns:{spec.target}"
        state.remove(source)
        self.failing[spec.target] = share
        if share > 0:
            state.add(
                Effect(
                    source=source,
                    error_probability=share,
                    error_class="NameResolutionError",
                    message=f"getaddrinfo EAI_AGAIN {spec.target}.svc.cluster.local: "
                    "Temporary failure in name resolution",
                )
            )

    def _spread(self, spec: DnsFailureFault) -> Generator[simpy.Event, Any, None]:
        """Cached entries expire evenly over the TTL: the failing share climbs to 1."""
        start = self.env.now
        while spec.id in self.faults.active:
            share = min(1.0, (self.env.now - start) / spec.ttl)
            self._set(spec, share)
            if share >= 1.0:
                return
            yield self.env.timeout(TICK)

    def _recover(self, spec: DnsFailureFault) -> Generator[simpy.Event, Any, None]:
        """Fixed: the failures cached before the fix expire evenly over the negative TTL."""
        start, first = self.env.now, self.failing.get(spec.target, 0.0)
        while True:
            left = 1.0 - (self.env.now - start) / spec.negative_ttl if spec.negative_ttl else 0.0
            share = max(0.0, first * left)
            self._set(spec, share)
            if share <= 0.0:
                self.world.emit(self.env.now, "dns.resolving", component=spec.target)
                return
            yield self.env.timeout(TICK)
