"""The request engine's shoppers: arrivals on a daily curve with surges, each session walking
the funnel request by request."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import datetime
from typing import Any

import simpy

from sim.engine.common.calltree import Frame
from sim.engine.common.shoppers import (
    FAILED_SAMPLE,
    Persona,
    Session,
    arrival_rate,
    cumulative,
    next_peak_edge,
    pick,
    start_hour,
)
from sim.engine.common.streams import sampler
from sim.engine.request.calls import wake
from sim.scenario.schema import Traffic
from sim.telemetry.metrics import OK, Business

Send = Callable[[Session, int], None]
# (now, session, persona, funnel step name, error class, message) of a shopper who gave up
GaveUp = Callable[[float, Session, Persona, str, str | None, str | None], None]


class Shoppers:
    """Generates sessions and moves them through the funnel according to request outcomes."""

    def __init__(
        self,
        env: simpy.Environment,
        traffic: Traffic,
        clock_start: datetime,
        rngs: Callable[[str], random.Random],
        business: Business,
        send: Send,
        personas: list[Persona],
    ) -> None:
        self.env = env
        self.traffic = traffic
        self.business = business
        self.send = send
        self.personas = personas
        self.rng = rngs("shoppers")
        self.arrivals = rngs("arrivals")
        self.think = sampler(traffic.think_time, rngs("think"))
        self.order_value = sampler(traffic.order_value, rngs("orders"))
        self.hour0 = start_hour(clock_start)
        self.last = len(traffic.funnel) - 1
        self.proceed = [s.proceed for s in traffic.funnel]
        self.wants_checkout = traffic.checkout_from  # a depth that means to check out
        self.regions, self.region_cum = cumulative(traffic.regions)
        self.devices, self.device_cum = cumulative(traffic.devices)
        self.sessions = 0
        self.failed: list[dict[str, Any]] = []
        self.on_gave_up: GaveUp | None = None
        self.seg_end, self.peak = self._segment(0.0)
        self._next_candidate(0.0)

    def rate(self, t: float) -> float:
        """Arrival rate (simulated sessions/s) at simulated time ``t``."""
        return arrival_rate(self.traffic, self.hour0, t)

    def _segment(self, t: float) -> tuple[float, float]:
        """(end, peak rate) of the stretch from ``t`` to the next clock hour or surge edge.

        Within it the daily curve is linear and surges are constant, so the rate peaks at an end.
        """
        hour = self.hour0 + t / 3600.0
        end = t + (math.floor(hour) + 1 - hour) * 3600.0
        for s in self.traffic.surges:
            for edge in (s.start, s.start + s.duration):
                if t < edge < end:
                    end = edge
        if self.traffic.peaks:
            end = min(end, next_peak_edge(self.traffic, self.hour0, t))
        return end, max(self.rate(t), self.rate(end - 1e-6))

    def _next_candidate(self, t: float) -> None:
        """Schedule the next candidate arrival (thinning under a piecewise-constant peak)."""
        end, peak = self.seg_end, self.peak
        gap = self.arrivals.expovariate(peak) if peak > 0 else math.inf
        if t + gap < end:
            wake(self.env, t + gap - self.env._now, self._arrive, None)
        else:  # no candidate before the segment ends: start afresh there (memoryless)
            wake(self.env, end - self.env._now, self._boundary, end)

    def _boundary(self, t: float) -> None:
        self.seg_end, self.peak = self._segment(t)
        self._next_candidate(t)

    def _arrive(self, _: Any) -> None:
        """A candidate arrival at the segment's peak rate, kept with probability rate(t)/peak."""
        now = self.env._now
        if self.arrivals.random() * self.peak <= self.rate(now):
            self.start()
        self._next_candidate(now)

    def start(self) -> None:
        rng = self.rng
        depth = 0
        while depth < self.last and rng.random() < self.proceed[depth]:
            depth += 1
        region = self.regions[pick(self.region_cum, rng.random())]
        device = self.devices[pick(self.device_cum, rng.random())]
        session = Session(
            self.sessions,
            rng.randrange(len(self.personas)),
            region,
            device,
            depth,
            self.order_value(),
            self.env._now,
        )
        self.sessions += 1
        self.business.sessions += 1
        self.send(session, 0)

    def _next(self, session: Session) -> None:
        self.send(session, session.step)

    def on_result(
        self, session: Session, root: Frame, outcome: int, cls: str | None, msg: str | None
    ) -> None:
        """Move the session on after its request ended with ``outcome``."""
        b = self.business
        step = session.step
        if outcome == OK:
            if step == self.last:
                b.orders += 1
                b.revenue += session.value
            elif step < session.depth:
                session.step = step + 1
                wake(self.env, self.think(), self._next, session)
                return
            if session.depth >= self.wants_checkout:  # ended as meant, checkout included
                b.checkout_attempts += 1
            return
        session.errors += 1
        if (
            session.errors < self.traffic.give_up_after
            and self.rng.random() < self.traffic.retry_probability
        ):
            wake(
                self.env, 2.0 + 8.0 * self.rng.random(), self._next, session
            )  # reload after 2–10 s
            return
        b.failed_sessions += 1
        if session.depth >= self.wants_checkout:  # wanted to check out and could not
            b.checkout_attempts += 1
            b.checkout_failures += 1
        if session.depth == self.last:
            b.lost_revenue += session.value
        persona = self.personas[session.persona]
        if self.on_gave_up is not None:
            self.on_gave_up(
                self.env._now, session, persona, self.traffic.funnel[step].step, cls, msg
            )
        if len(self.failed) < FAILED_SAMPLE:
            self.failed.append(
                {
                    "t": round(self.env._now, 3),
                    "session": session.id,
                    "name": persona.name,
                    "email": persona.email,
                    "region": session.region,
                    "device": session.device,
                    "step": self.traffic.funnel[step].step,
                    "error_class": cls,
                    "message": msg,
                }
            )
