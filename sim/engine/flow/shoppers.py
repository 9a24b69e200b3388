"""The flow engine's shoppers as the rest of a run sees them: the arrival curve, who gave up.

The request engine's :class:`~sim.engine.request.shoppers.Shoppers` moves every session; the flow
engine moves expected flows (:mod:`sim.engine.flow.funnel`) and draws who gives up. What the
run reads of either — the arrival rate, the failed-sessions sample, the complaints hook — is
here, with the same names.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from sim.engine.common.shoppers import (
    FAILED_SAMPLE,
    Persona,
    Session,
    arrival_rate,
    cumulative,
    pick,
)
from sim.scenario.schema import Traffic
from sim.telemetry.logs import EngineLogger

GaveUp = Callable[[float, Session, Persona, str, str | None, str | None], None]


class FlowCounters:
    """What the request flow counts that the rest of a run reads: fallbacks, the logger."""

    def __init__(self) -> None:
        self.fallbacks = 0
        self.observer: EngineLogger | None = None


class FlowShoppers:
    """The shoppers' side a run reads: the arrival curve and those who gave up."""

    def __init__(
        self, traffic: Traffic, personas: list[Persona], rng: random.Random, clock_hour: float
    ) -> None:
        self.traffic = traffic
        self.hour0 = clock_hour
        self.personas = personas
        self.rng = rng
        self.failed: list[dict[str, Any]] = []
        self.on_gave_up: GaveUp | None = None
        self.regions, self.region_cum = cumulative(traffic.regions)
        self.devices, self.device_cum = cumulative(traffic.devices)
        self.sessions = 0

    def rate(self, t: float) -> float:
        """Arrival rate (simulated sessions/s) at simulated time ``t``."""
        return arrival_rate(self.traffic, self.hour0, t)

    def gave_up(
        self, now: float, step: int, cls: str | None, msg: str | None, value: float
    ) -> None:
        """One simulated shopper left at funnel ``step`` after ``cls``."""
        rng = self.rng
        session = Session(
            self.sessions,
            rng.randrange(len(self.personas)),
            self.regions[pick(self.region_cum, rng.random())],
            self.devices[pick(self.device_cum, rng.random())],
            step,
            value,
            now,
        )
        session.step = step
        self.sessions += 1
        persona = self.personas[session.persona]
        name = self.traffic.funnel[step].step
        if self.on_gave_up is not None:
            self.on_gave_up(now, session, persona, name, cls, msg)
        if len(self.failed) < FAILED_SAMPLE:
            self.failed.append(
                {
                    "t": round(now, 3),
                    "session": session.id,
                    "name": persona.name,
                    "email": persona.email,
                    "region": session.region,
                    "device": session.device,
                    "step": name,
                    "error_class": cls,
                    "message": msg,
                }
            )


__all__ = ["FlowCounters", "FlowShoppers", "GaveUp"]
