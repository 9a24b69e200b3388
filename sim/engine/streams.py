"""Seeded random streams: every stream of a run derives from the run's one seed and a name."""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable
from functools import partial

from sim.scenario.schema import MoneyDistribution, TimeDistribution


def stream(seed: int, name: str) -> random.Random:
    """An independent generator for ``name``; the same (seed, name) always gives the same one."""
    digest = hashlib.sha256(f"chaosdrill/{seed}/{name}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _lognormal_params(mean: float, cv: float) -> tuple[float, float]:
    sigma = math.sqrt(math.log1p(cv * cv))
    return math.log(mean) - sigma * sigma / 2.0, sigma


def sampler(dist: TimeDistribution | MoneyDistribution, rng: random.Random) -> Callable[[], float]:
    """A zero-argument function drawing from ``dist`` with ``rng`` (fast: a bound method)."""
    if dist.dist == "constant":
        return partial(float, dist.mean)
    if dist.dist == "exponential":
        return partial(rng.expovariate, 1.0 / dist.mean)
    mu, sigma = _lognormal_params(dist.mean, dist.cv)
    return partial(rng.lognormvariate, mu, sigma)
