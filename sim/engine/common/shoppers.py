"""The shoppers' side both engines share: personas, sessions, the arrival rate, picks by share."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from itertools import accumulate
from typing import Any

from sim.engine.common.streams import stream
from sim.scenario.schema import Traffic

PERSONA_POOL = 256
FAILED_SAMPLE = 25


@dataclass(frozen=True)
class Persona:
    """Who a simulated shopper is (faker-made; drawn from a seeded pool)."""

    name: str
    email: str


PEOPLE = 1024  # the catalogue every run's personas and complainants are drawn from


@lru_cache(maxsize=1)
def people() -> tuple[Persona, ...]:
    """A catalogue of faker-made customers: the same in every process, made once per process.

    Faker takes ~0.2 ms a name; drawing a run's pool from one catalogue keeps that cost off
    every run (a sweep runs thousands).
    """
    from faker import Faker

    fake = Faker()
    fake.seed_instance(20260314)
    return tuple(Persona(fake.name(), fake.free_email()) for _ in range(PEOPLE))


def make_personas(seed: int, count: int = PERSONA_POOL) -> list[Persona]:
    """A run's persona pool: ``count`` people of the catalogue, drawn by the run's seed."""
    return stream(seed, "personas").sample(people(), count)


class Session:
    """One simulated shopper's visit."""

    log_weight: int | None = None  # its log lines count as `represents` real ones

    __slots__ = (
        "depth",
        "device",
        "errors",
        "id",
        "persona",
        "region",
        "rid",
        "step",
        "t0",
        "value",
    )

    def __init__(
        self, sid: int, persona: int, region: str, device: str, depth: int, value: float, t0: float
    ) -> None:
        self.id, self.persona, self.region, self.device = sid, persona, region, device
        self.depth, self.value, self.t0 = depth, value, t0
        self.step = 0
        self.errors = 0
        self.rid = 0  # id of the current request


def start_hour(clock_start: datetime) -> float:
    """The hour of the day a run starts at, with fractions (08:30 → 8.5)."""
    return clock_start.hour + clock_start.minute / 60 + clock_start.second / 3600


def arrival_rate(traffic: Traffic, hour0: float, t: float) -> float:
    """Arrival rate (simulated sessions/s) at simulated time ``t`` of a run starting at ``hour0``.

    The daily curve is interpolated linearly between clock hours; surges multiply it, and so
    do the peaks that recur on the clock.
    """
    curve = traffic.daily_curve
    hour = (hour0 + t / 3600.0) % 24.0
    h = int(hour)
    frac = hour - h
    level = curve[h] * (1 - frac) + curve[(h + 1) % 24] * frac
    for s in traffic.surges:
        if s.start <= t < s.start + s.duration:
            level *= s.factor
    for p in traffic.peaks:
        if (hour0 * 3600.0 + t - p.at) % p.every < p.duration:
            level *= p.factor
    return traffic.arrival_rate * level


def next_peak_edge(traffic: Traffic, hour0: float, t: float) -> float:
    """The first time after ``t`` a recurring peak starts or ends (inf: no peaks)."""
    edge = math.inf
    for p in traffic.peaks:
        phase = (hour0 * 3600.0 + t - p.at) % p.every
        ahead = p.duration - phase if phase < p.duration else p.every - phase
        edge = min(edge, t + (ahead if ahead > 0 else p.every))
    return edge


def cumulative(weights: Any) -> tuple[list[str], list[float]]:
    """Names in order and their cumulative shares (for :func:`pick`)."""
    names = sorted(weights)
    total = sum(weights[n] for n in names)
    return names, list(accumulate(weights[n] / total for n in names))


def pick(cum: list[float], u: float) -> int:
    """The index whose cumulative share first exceeds ``u``."""
    for i, c in enumerate(cum):
        if u < c:
            return i
    return len(cum) - 1
