"""The flow engine's shoppers: expected flows of sessions through the funnel, step by step.

Sessions arrive on the traffic curve; at each funnel step a session's request succeeds with
the endpoint's probability; on success it goes on with the step's ``proceed`` probability
after a think time, on failure it reloads (with ``retry_probability``, after 2–10 s) until
``give_up_after`` errors, then leaves. Sessions are independent, so the flows are tracked
as expected numbers per (step, errors so far) and delayed by the think and reload time
distributions, spread over future steps. The counts a window reports are drawn from these
expectations (a Poisson process thinned and shifted independently stays Poisson).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from sim.scenario.schema import TimeDistribution, Traffic

RELOAD = (2.0, 10.0)  # a shopper reloads after 2–10 s (uniform), as in the request engine


def delay_kernel(cdf: Callable[[float], float], dt: float, top: float) -> np.ndarray:
    """P(a delay drawn from ``cdf`` lands ``j`` steps on), j = 1 … for a start uniform in a step.

    A delay that would land in the step it started in is counted in the next one.
    """
    bins = max(2, math.ceil(top / dt) + 2)
    us = (np.arange(16) + 0.5) / 16  # where in its step the request was sent
    edges = np.arange(bins + 1, dtype=float)
    probs = np.zeros(bins)
    for u in us:
        c = np.array([cdf(max(0.0, (e - u) * dt)) for e in edges])
        probs += np.diff(c) / len(us)
    probs[1] += probs[0]
    probs[0] = 0.0
    probs[-1] += max(0.0, 1.0 - probs.sum())
    return probs[1:]


def time_cdf(dist: TimeDistribution) -> Callable[[float], float]:
    """The cumulative distribution of a :class:`TimeDistribution`."""
    m = dist.mean
    if dist.dist == "constant":
        return lambda x: 1.0 if x >= m else 0.0
    if dist.dist == "exponential":
        return lambda x: 1.0 - math.exp(-x / m)
    s = math.sqrt(math.log1p(dist.cv**2))
    mu = math.log(m) - s * s / 2.0

    def cdf(x: float) -> float:
        return 0.0 if x <= 0 else 0.5 * (1.0 + math.erf((math.log(x) - mu) / (s * math.sqrt(2))))

    return cdf


def time_top(dist: TimeDistribution) -> float:
    """A delay beyond which less than 0.1 % of the mass lies."""
    if dist.dist == "constant":
        return dist.mean
    if dist.dist == "exponential":
        return dist.mean * 7.0
    s = math.sqrt(math.log1p(dist.cv**2))
    return float(dist.mean * math.exp(3.1 * s))


class Funnel:
    """Expected sessions per (funnel step, errors so far), due step by step."""

    def __init__(self, traffic: Traffic, dt: float) -> None:
        self.traffic = traffic
        self.dt = dt
        funnel = traffic.funnel
        self.k = len(funnel)
        self.e = traffic.give_up_after
        self.proceed = np.array([s.proceed for s in funnel[:-1]])
        self.think = delay_kernel(time_cdf(traffic.think_time), dt, time_top(traffic.think_time))
        lo, hi = RELOAD
        self.reload = delay_kernel(lambda x: min(1.0, max(0.0, (x - lo) / (hi - lo))), dt, hi)
        # P(a session at step k meant to pay): it would have proceeded through every step.
        reach = [math.prod(s.proceed for s in funnel[k:-1]) for k in range(self.k)]
        self.meant_to_pay = np.array(reach)
        # P(a session at step k meant to check out): it would have gone on to the first checkout
        # step (0 everywhere when the funnel has none); P(a success at step k ends the visit).
        first = self.checkout_from = traffic.checkout_from
        self.meant_to_check_out = np.array(
            [
                0.0 if first == self.k else math.prod(s.proceed for s in funnel[k:first])
                for k in range(self.k)
            ]
        )
        self.ends_here = np.array([1.0 - s.proceed for s in funnel[:-1]] + [1.0])
        self.size = max(len(self.think), len(self.reload)) + 2
        self.due = np.zeros((self.size, self.k, self.e))
        self.retry = traffic.retry_probability
        # Reloads need an error level to go to: on the last level every failure leaves.
        self.leave = np.full(self.e, 1.0 - self.retry)
        self.leave[-1] = 1.0

    def take(self, step: int, arrivals: float) -> np.ndarray:
        """The expected sessions due at ``step`` (steps × error levels), arrivals included."""
        slot = step % self.size
        n: np.ndarray = self.due[slot].copy()
        self.due[slot] = 0.0
        n[0, 0] += arrivals
        return n

    def move(self, step: int, n: np.ndarray, p_ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Send ``n`` on given each step's success probability: (ok, leaving) per step.

        Successes go on to the next step after a think time; failures reload or leave.
        """
        ok = n * p_ok[:, None]
        failed = n - ok
        on = ok[:-1] * self.proceed[:, None]
        idx = (step + 1 + np.arange(len(self.think))) % self.size
        self.due[idx, 1:, :] += self.think[:, None, None] * on[None, :, :]
        if self.e > 1:
            again = failed[:, :-1] * self.retry
            idx = (step + 1 + np.arange(len(self.reload))) % self.size
            self.due[idx, :, 1:] += self.reload[:, None, None] * again[None, :, :]
        leaving = (failed * self.leave[None, :]).sum(axis=1)
        return ok.sum(axis=1), leaving


__all__ = ["Funnel", "delay_kernel", "time_cdf", "time_top"]
