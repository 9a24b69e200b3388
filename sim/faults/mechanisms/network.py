"""Links that saturate: loss and latency that rise as utilisation nears capacity.

A ``link`` component carries the calls routed through it; each call sends ``call_bytes``
across, sharing the link with everything else in flight. Every ``TICK`` the mechanism
measures the offered load (calls counted × real calls per simulated one × bytes, smoothed)
against the bandwidth (× the capacity factor: a ``capacity_loss`` fault is a failed member of
a bundle), and sets each call's time across the link from that utilisation ρ:

- the round trip (the link's own service time) plus the call's transfer, shared: one call's
  bytes ÷ the bandwidth, ÷ (1 − ρ) (processor sharing) — 10× at ρ = 0.9, 20× from 0.95 on;
- past capacity the link carries what it can: the share 1 − 1/ρ of the calls time out (they
  fail at once here, where a caller would wait its timeout out);
- loss from a router's buffer of ``BUFFER`` packets (an M/M/1/B queue): p = (1 − ρ) ρ^B /
  (1 − ρ^(B+1)) — negligible below 0.8, a few per mille at 0.95, a sixth of the packets at
  1.2 — whose retransmissions take their share of the bandwidth and cost a call p/(1 − p) ×
  ``RTO`` more, plus the packets queued ahead of it.

A vendor-managed link (``vendor:``) grows by ``step`` at most every ``every`` while its
utilisation over the last five minutes is above ``above``; an ``escalate`` action doubles it
after the vendor's ``escalation``.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import simpy

from sim.model.state import Effect
from sim.model.world import World

TICK = 5.0  # seconds between measurements
SMOOTH = 60.0  # seconds: the throughput is an exponential average over about this long
VENDOR_LOOK = 300.0  # seconds: the vendor acts on the utilisation averaged over this long
BUFFER = 64  # packets a link's router buffers
PACKET = 1500.0  # bytes
RTO = 0.2  # seconds: TCP's minimum retransmission timeout
RHO_CAP = 0.95  # past it the sharing is as slow as at it, and the excess is shed
CONGESTED, CLEAR = 0.01, 0.001  # loss at which a link is said to congest, and to clear
CLEAR_FOR = 300.0  # seconds the loss must stay under CLEAR for the link to be said clear


def loss(rho: float, buffer: int = BUFFER) -> float:
    """Share of packets dropped by a full buffer at utilisation ``rho`` (M/M/1/B)."""
    if rho <= 0:
        return 0.0
    if abs(rho - 1.0) < 1e-9:
        return 1.0 / (buffer + 1)
    if rho > 1.0:  # (1 − ρ)ρ^B/(1 − ρ^(B+1)) in a form that does not overflow
        inv = 1.0 / rho
        return (1.0 - inv) / (1.0 - inv ** (buffer + 1))
    return (1.0 - rho) * rho**buffer / (1.0 - rho ** (buffer + 1))


def queued(rho: float, buffer: int = BUFFER) -> float:
    """Mean packets in the buffer at utilisation ``rho`` (M/M/1/B)."""
    if rho <= 0:
        return 0.0
    if abs(rho - 1.0) < 1e-9:
        return buffer / 2.0
    if rho > 1.0:  # the queue mirrored: π_n(ρ) = π_(B−n)(1/ρ)
        return buffer - queued(1.0 / rho, buffer)
    b = buffer
    return rho / (1 - rho) - (b + 1) * rho ** (b + 1) / (1 - rho ** (b + 1))


def delay(rho: float, bandwidth: float) -> float:
    """Seconds a call's packets wait and are resent at utilisation ``rho``."""
    p = min(loss(rho), 0.99)
    return queued(rho) * PACKET / bandwidth + p / (1 - p) * RTO


@dataclass
class LinkState:
    """What one link carries now."""

    name: str
    bandwidth: float  # bytes/s, as built (the vendor's additions included)
    throughput: float = 0.0  # bytes/s, smoothed
    rho: float = 0.0
    loss: float = 0.0
    delay: float = 0.0
    congested: bool = False
    clear_since: float | None = None
    last_growth: float = -math.inf
    background: float = 0.0  # bytes/s of other traffic across it (the metrics pipeline's)
    history: list[tuple[float, float, float, float]] = field(default_factory=list)  # t ρ p d


class Network:
    """Measures every link, sets its latency, and runs its vendor."""

    def __init__(self, env: simpy.Environment, world: World) -> None:
        self.env = env
        self.world = world
        self.links = {
            name: LinkState(name, float(spec.bandwidth))
            for name, spec in world.scenario.components.items()
            if spec.kind == "link" and spec.bandwidth is not None
        }
        for name in self.links:
            env.process(self._measure(name))

    def _measure(self, name: str) -> Generator[simpy.Event, Any, None]:
        link = self.links[name]
        state = self.world.states[name]
        spec = self.world.scenario.components[name]
        represents = self.world.scenario.traffic.represents
        keep = math.exp(-TICK / SMOOTH)
        calls = state.meter()[2]
        self._set_service(link)
        while True:
            yield self.env.timeout(TICK)
            now_calls = state.meter()[2]
            rate = (now_calls - calls) * represents * spec.call_bytes / TICK + link.background
            calls = now_calls
            link.throughput = keep * link.throughput + (1 - keep) * rate
            capacity = link.bandwidth * state.capacity_factor
            link.rho = link.throughput / capacity
            link.loss = loss(link.rho)
            link.delay = delay(link.rho, capacity)
            link.history.append((self.env.now, link.rho, link.loss, link.delay))
            self._set_service(link)
            self._announce(link)
            if spec.vendor is not None:
                self._vendor(link, spec.vendor.above, spec.vendor.step, spec.vendor.every)

    def _set_service(self, link: LinkState) -> None:
        """A call's time across the link: the round trip, its transfer shared with everything
        else in flight (processor sharing: one call's transfer ÷ (1 − ρ), ρ capped at
        ``RHO_CAP``), and its retransmissions; past capacity, the share 1 − 1/ρ of the calls
        the link cannot carry time out."""
        spec = self.world.scenario.components[link.name]
        state = self.world.states[link.name]
        rtt = spec.service_time.mean
        goodput = link.bandwidth * state.capacity_factor * (1.0 - min(link.loss, 0.99))
        transfer = spec.call_bytes / goodput / (1.0 - min(link.rho, RHO_CAP))
        shed = max(0.0, 1.0 - 1.0 / link.rho) if link.rho > 1.0 else 0.0
        source = f"link:{link.name}"
        state.remove(source)
        state.add(
            Effect(
                source=source,
                latency_factor=(rtt + transfer + link.delay) / rtt,
                error_probability=shed,
                error_class="Timeout",
                message=f"read timed out: link {link.name} saturated "
                f"({link.rho:.0%} of its bandwidth offered)",
            )
        )

    def _announce(self, link: LinkState) -> None:
        now = self.env.now
        if link.loss >= CLEAR:
            link.clear_since = None
        elif link.clear_since is None:
            link.clear_since = now
        if not link.congested and link.loss >= CONGESTED:
            link.congested = True
            self.world.emit(
                now,
                "link.congested",
                component=link.name,
                utilisation=round(link.rho, 3),
                loss=round(link.loss, 4),
            )
        elif (
            link.congested and link.clear_since is not None and now - link.clear_since >= CLEAR_FOR
        ):
            link.congested = False
            self.world.emit(now, "link.clear", component=link.name, utilisation=round(link.rho, 3))

    def _vendor(self, link: LinkState, above: float, step: float, every: float) -> None:
        now = self.env.now
        recent = [rho for t, rho, _, _ in link.history[-int(VENDOR_LOOK / TICK) :]]
        busy = sum(recent) / len(recent) if now >= VENDOR_LOOK else 0.0
        if busy > above and now - link.last_growth >= every:
            link.last_growth = now
            self.grow(link.name, 1 + step, "the vendor's capacity management")

    def carry(self, name: str, rate: float) -> None:
        """Other traffic across link ``name`` from now: ``rate`` bytes per second."""
        self.links[name].background = rate

    def grow(self, name: str, factor: float, by: str) -> None:
        """The link's bandwidth × ``factor`` from now."""
        link = self.links[name]
        old = link.bandwidth
        link.bandwidth *= factor
        self.world.emit(
            self.env.now, "link.scaled", component=name, old=old, new=link.bandwidth, by=by
        )
