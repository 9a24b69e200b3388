"""Failures that spread as what callers hold expires, and outlast their fix the same way.

Two faults have this shape, both of a component its callers reach through something they
keep for a while:

- ``dns_failure`` — the component's name stops resolving. Each caller holds the name in its
  resolver cache for ``ttl``; the entries were refreshed at evenly spread times, so the share
  of calls that find theirs expired — and fail with ``NameResolutionError`` — grows linearly
  from 0 to 1 over the TTL. When it is fixed, the callers that had cached the failure keep
  failing until their negative entries expire, evenly over ``negative_ttl``;
- ``certificate_expiry`` — the component's TLS certificate expires. Connections open before
  go on working until they are recycled, evenly over ``connection_age``; every new handshake
  fails with ``SSLError: certificate has expired``. Once a renewed certificate is deployed,
  new handshakes succeed at once (nothing caches a failed handshake).

So how fast the outage spreads, and how long it lasts after the fix, are what the callers
keep and for how long. ``dns.resolving`` / ``tls.valid`` mark the moment nothing fails.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import simpy

from sim.faults.schedule import FaultSchedule
from sim.model.state import Effect
from sim.model.world import Event, World
from sim.scenario.schema import CertificateExpiryFault, DnsFailureFault, Fault

TICK = 5.0  # seconds between updates of the share failing


@dataclass(frozen=True)
class Spread:
    """How one fault spreads: over ``rise`` seconds, lingering ``linger`` after its fix."""

    rise: float
    linger: float
    error_class: str
    message: str
    source: str  # the effect's source
    cleared: str  # the event once nothing fails


def spread_of(spec: Fault) -> Spread | None:
    """The spread of a fault of one of the two types; None for any other."""
    if isinstance(spec, DnsFailureFault):
        return Spread(
            spec.ttl,
            spec.negative_ttl,
            "NameResolutionError",
            f"getaddrinfo EAI_AGAIN {spec.target}.svc.cluster.local: "
            "Temporary failure in name resolution",
            f"dns:{spec.target}",
            "dns.resolving",
        )
    if isinstance(spec, CertificateExpiryFault):
        return Spread(
            spec.connection_age,
            0.0,
            "SSLError",
            f"[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has "
            f"expired ({spec.target}.internal)",
            f"tls:{spec.target}",
            "tls.valid",
        )
    return None


class Spreading:
    """The share of calls failing for each active fault that spreads."""

    def __init__(self, env: simpy.Environment, world: World, faults: FaultSchedule) -> None:
        self.env = env
        self.world = world
        self.faults = faults
        self.failing: dict[str, float] = {}  # fault → share of calls to its target failing
        if any(spread_of(f) is not None for f in faults.specs.values()):
            world.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        if event.kind not in ("fault.start", "fault.end"):
            return
        spec = self.faults.specs.get(str(event.data.get("id")))
        how = spread_of(spec) if spec is not None else None
        if spec is None or how is None:
            return
        if event.kind == "fault.start":
            self.env.process(self._rise(spec, how))
        else:
            self.env.process(self._fall(spec, how))

    def _set(self, spec: Fault, how: Spread, share: float) -> None:
        state = self.world.states[spec.target]  # type: ignore[union-attr]
        state.remove(how.source)
        self.failing[spec.id] = share
        if share > 0:
            state.add(
                Effect(
                    source=how.source,
                    error_probability=share,
                    error_class=how.error_class,
                    message=how.message,
                )
            )

    def _rise(self, spec: Fault, how: Spread) -> Generator[simpy.Event, Any, None]:
        """What callers hold expires evenly over ``rise``: the failing share climbs to 1."""
        start = self.env.now
        while spec.id in self.faults.active:
            share = min(1.0, (self.env.now - start) / how.rise)
            self._set(spec, how, share)
            if share >= 1.0:
                return
            yield self.env.timeout(TICK)

    def _fall(self, spec: Fault, how: Spread) -> Generator[simpy.Event, Any, None]:
        """Fixed: the failures callers hold expire evenly over ``linger``."""
        start, first = self.env.now, self.failing.get(spec.id, 0.0)
        while True:
            left = 1.0 - (self.env.now - start) / how.linger if how.linger else 0.0
            share = max(0.0, first * left)
            self._set(spec, how, share)
            if share <= 0.0:
                self.world.emit(self.env.now, how.cleared, component=spec.target)  # type: ignore[union-attr]
                return
            yield self.env.timeout(TICK)
