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


class Streams:
    """The named random streams of one run: each name gets one generator, made on first use.

    Everything in a run (engine, logs, complaints, paging …) draws from one ``Streams``, so a
    name can never be seeded twice into two correlated generators.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._made: dict[str, random.Random] = {}

    def __call__(self, name: str) -> random.Random:
        rng = self._made.get(name)
        if rng is None:
            rng = self._made[name] = stream(self.seed, name)
        return rng


def _lognormal_params(mean: float, cv: float) -> tuple[float, float]:
    sigma = math.sqrt(math.log1p(cv * cv))
    return math.log(mean) - sigma * sigma / 2.0, sigma


def lognormal_parts(
    dist: TimeDistribution | MoneyDistribution, rng: random.Random
) -> tuple[random.Random, float, float] | None:
    """``(rng, mu, sigma)`` of a lognormal, so a hot path can draw ``exp(rng.gauss(mu, sigma))``
    inline; ``None`` for other distributions. Draws the same numbers as :func:`sampler`."""
    if dist.dist != "lognormal":
        return None
    mu, sigma = _lognormal_params(dist.mean, dist.cv)
    return rng, mu, sigma


def sampler(dist: TimeDistribution | MoneyDistribution, rng: random.Random) -> Callable[[], float]:
    """A zero-argument function drawing from ``dist`` with ``rng`` (fast: a bound method)."""
    if dist.dist == "constant":
        return partial(float, dist.mean)
    if dist.dist == "exponential":
        return partial(rng.expovariate, 1.0 / dist.mean)
    mu, sigma = _lognormal_params(dist.mean, dist.cv)
    gauss, exp = rng.gauss, math.exp

    def lognormal() -> float:  # exp(gauss) is ~25 % faster than lognormvariate
        return exp(gauss(mu, sigma))

    return lognormal
