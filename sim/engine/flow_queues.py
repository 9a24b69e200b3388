"""The flow engine's queues: slots, waits and backlogs of components and connection pools.

Each step the engine knows, per component, the calls per second that reach its instances
(``rate``) and the slot-seconds they hold (``load``, Erlangs: service plus the time spent
waiting on children). Below saturation the wait is Erlang C's, per instance (the balancer
gives each instance its share); above it a fluid backlog builds at ``rate − slots/hold``
until the queue limit, and what does not fit is rejected. The same model serves
connection pools (one shared queue, no limit). State — the backlogs — carries from step to
step; everything else is recomputed from the component's live state.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from statistics import NormalDist

from sim.engine.servers import Runtime

_SQRT2 = math.sqrt(2.0)
_NORMAL = NormalDist()

# Below this utilisation the Erlang C wait is negligible (< 1e-4 of a hold time for c ≥ 4).
QUIET = 0.5
RHO_MAX = 0.98
DAMPING = 0.5  # share of the way to its settled length a backlog moves in a step
SPREAD = 0.075  # coefficient of variation of the wait behind a backlog


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in an M/M/c queue with offered load ``a`` < c."""
    if a <= 0:
        return 0.0
    b = 1.0
    for k in range(1, c + 1):  # Erlang B by recursion, then C from B
        b = a * b / (k + a * b)
    rho = a / c
    return b / (1.0 - rho + rho * b)


@dataclass(slots=True)
class Wait:
    """What a queue does to an arrival this step.

    ``full``: share rejected by the queue limit; ``backlog``: seconds of work ahead of an
    arrival, served first-come first-served;
    ``p_wait`` and ``theta``: Erlang C's chance of waiting on top and the mean of that wait.
    """

    full: float = 0.0
    backlog: float = 0.0
    p_wait: float = 0.0
    theta: float = 0.0

    @property
    def mean(self) -> float:
        return self.backlog + self.p_wait * self.theta

    def late_within(self, left: float) -> float:
        """Share of arrivals (not rejected) that time out waiting, with ``left`` seconds."""
        if left <= 0:
            return 1.0
        b = self.backlog
        if b > 0:  # the wait behind a backlog: about its length, give or take SPREAD
            z = (left - b) / (SPREAD * b)
            return 0.5 * (1.0 - math.erf(z / _SQRT2))
        if self.p_wait:
            return self.p_wait * math.exp(-left / self.theta)
        return 0.0

    def key(self) -> tuple[object, ...]:
        return (
            round(self.full, 2),
            _log_round(self.backlog),
            round(self.p_wait, 2),
            _log_round(self.theta) if self.p_wait > 0.005 else None,
        )


@dataclass(slots=True)
class Cond:
    """One component's conditions for a step (read from its state and its queues)."""

    reject: bool = False  # no instance in rotation
    refused: float = 0.0  # share of calls that reach a down instance
    refused_at: int = 0  # which instance refuses (for the message)
    wait: Wait = field(default_factory=lambda: Wait())  # the instances' queues
    svc: float = 0.0  # mean service time (s), latency factor applied
    dist: str = "lognormal"
    sigma: float = 0.5  # of the lognormal service time
    hang: bool = False
    err_p: float = 0.0
    err_cls: str = "InternalError"
    err_msg: str = "internal server error"
    broken: Mapping[str, str] = field(default_factory=dict)
    table_cls: str = "DatabaseError"
    broken_share: float = 1.0
    queue_limit: int = 0

    def within(self, x: float) -> tuple[float, float]:
        """(P(service ≤ x), E[service; service ≤ x]) for this component's service time."""
        m = self.svc
        if x <= 0:
            return 0.0, 0.0
        if self.dist == "constant":
            return (1.0, m) if m <= x else (0.0, 0.0)
        if self.dist == "exponential":
            e = math.exp(-x / m)
            return 1.0 - e, m * (1.0 - e * (1.0 + x / m))
        s = self.sigma
        mu = math.log(m) - s * s / 2.0
        z = (math.log(x) - mu) / s
        p = 0.5 * (1.0 + math.erf(z / _SQRT2))
        part = m * 0.5 * (1.0 + math.erf((z - s) / _SQRT2))
        return p, part


class Backlog:
    """A queue in front of ``slots`` servers; its length carries from step to step.

    Below saturation the wait is Erlang C's. Above it, a backlog settles where the arrivals
    still waiting when their turn comes match what the slots complete (those whose deadline
    comes first give up, and the request flow skips them): with a wait of about ``W`` give or
    take :data:`SPREAD`, and callers willing to wait ``patience``, that is where
    ``P(wait < patience) = completions / arrivals``. The backlog moves towards that length
    step by step (half the way each step: conditions and traffic feed each other with a
    step's lag, and a queue jumping straight to its target would swing).
    """

    __slots__ = ("length", "settled", "util")

    def __init__(self) -> None:
        self.length = 0.0  # this step's (until committed)
        self.settled = 0.0  # at the start of this step
        self.util = 0.0  # busy share of the slots this step

    def commit(self) -> None:
        """End the step: its length is where the next one starts."""
        self.settled = self.length

    def step(
        self,
        offered: float,
        served: float,
        hold: float,
        slots: int,
        limit: float,
        patience: float,
        wait: Wait,
        per: int = 1,
        bound: float = math.inf,
    ) -> Wait:
        """This step: ``offered`` arrivals/s, ``served`` of them got a slot for ``hold`` s.

        May be called again within the step (from the same start) until :meth:`commit`.

        ``per`` servers share one queue (``slots // per`` queues, the balancer spreading
        arrivals evenly): instances with their own queues, or one pool (``per = slots``).
        ``patience``: the callers' mean deadline left on arrival. ``bound``: the most that can
        be waiting at all (when every caller comes through a connection pool, the
        connections in use less the slots).
        """
        wait.full = wait.backlog = wait.p_wait = wait.theta = 0.0
        self.util = 0.0
        if slots <= 0 or offered <= 0 or hold <= 0:
            self.length = 0.0  # nothing arrives (or nothing can take it): the queue is gone
            return wait
        mu = slots / hold  # completions per second at full occupancy
        self.util = offered / mu
        target = 0.0
        if offered > mu:
            z = _NORMAL.inv_cdf(mu / offered)
            settle = patience / (1.0 + SPREAD * z) if 1.0 + SPREAD * z > 0.25 else 4.0 * patience
            target = settle * mu
            if target > limit and limit <= bound:  # the queue limit: the excess is turned away
                wait.full = 1.0 - mu / offered
                target = limit
            target = min(target, bound)
        self.length = self.settled + DAMPING * (target - self.settled)
        if self.length < 1e-3 * slots:
            self.length = 0.0
        wait.backlog = self.length / mu
        if wait.backlog == 0.0:
            queues = max(1, slots // per)
            a = min(served * hold / queues, RHO_MAX * per)
            if a > QUIET * per:
                wait.p_wait = erlang_c(per, a)
                wait.theta = hold / (per - a)
        return wait


def component_cond(
    rt: Runtime,
    backlog: Backlog,
    offered: float,
    served: float,
    hold: float,
    patience: float,
    cond: Cond,
    bound: float = math.inf,
) -> Cond:
    """Fill ``cond`` for ``rt`` from its live state and last step's traffic.

    ``offered``: calls per second that reached its instances' queues; ``served``: those
    that got a slot; ``hold``: mean slot time of a served call; ``patience``: the callers'
    mean deadline left on arrival; ``bound``: the most that can be waiting (connection pools).
    """
    st = rt.state
    spec = rt.spec
    avail = rt.available
    down = st.down
    cond.reject = not avail
    up = [inst for inst in avail if not down[inst.i]]
    n_down = len(avail) - len(up)
    cond.refused = 0.0
    if avail and n_down:
        share = n_down / len(avail)
        if up and rt.least:
            # Least connections: a down instance holds no connections, so it is picked
            # whenever the others are busy at all.
            busy = served * hold / len(up)
            share += (1.0 - share) * (1.0 - math.exp(-busy))
        cond.refused = 1.0 if not up else share
        cond.refused_at = next(inst.i for inst in avail if down[inst.i])
    cap = rt.capacity()
    slots = cap * len(up)
    limit = rt.queue_limit * len(up)
    backlog.step(offered, served, hold, slots, limit, patience, cond.wait, cap, bound - slots)
    cond.svc = spec.service_time.mean * st.latency_factor
    cond.dist = spec.service_time.dist
    cond.sigma = math.sqrt(math.log1p(spec.service_time.cv**2))
    cond.hang = st.hang
    cond.err_p = st.error_probability
    cond.err_cls = st.error_class
    cond.err_msg = st.error_message
    cond.broken = st.broken_tables
    cond.table_cls = st.table_error_class
    cond.broken_share = st.broken_share
    cond.queue_limit = rt.queue_limit
    return cond


def cond_key(cond: Cond) -> tuple[object, ...]:
    """What a profile depends on, rounded so that a steady hour reuses one profile."""
    return (
        cond.reject,
        round(cond.refused, 2),
        cond.wait.key(),
        _log_round(cond.svc),
        cond.hang,
        round(cond.err_p, 4),
        cond.err_cls,
        cond.err_msg,
        tuple(sorted(cond.broken.items())),
        cond.table_cls,
        cond.broken_share,
    )


def _log_round(x: float) -> int | None:
    """``x`` to about 5 % (None below 100 µs, where it cannot matter)."""
    return None if x < 1e-4 else round(math.log(x) * 20)


__all__ = ["Backlog", "Cond", "Wait", "component_cond", "cond_key", "erlang_c"]
