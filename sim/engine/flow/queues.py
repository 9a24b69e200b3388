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

from sim.engine.common.servers import Runtime

_SQRT2 = math.sqrt(2.0)
_NORMAL = NormalDist()

# Below this utilisation the Erlang C wait is negligible (< 1e-4 of a hold time for c ≥ 4).
QUIET = 0.5
RHO_MAX = 0.98
DAMPING = 0.5  # share of the way to its settled length a backlog moves in a step
# The wait behind a backlog of L calls is the time L completions take: a Gamma(L) sum, with a
# coefficient of variation of 1/√L (a long queue waits nearly exactly its length). Floor:
SPREAD_MIN = 0.02


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
    spread: float = 0.0  # coefficient of variation of the backlog's wait
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
        if b > 0:  # the wait behind a backlog: about its length, give or take its spread
            z = (left - b) / (self.spread * b)
            return 0.5 * (1.0 - math.erf(z / _SQRT2))
        if self.p_wait:
            return self.p_wait * math.exp(-left / self.theta)
        return 0.0

    def key(self) -> tuple[object, ...]:
        return (
            round(self.full, 2),
            _log_round(self.backlog),
            round(self.spread, 2),
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
    take its spread, and callers willing to wait ``patience``, that is where
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
        classes: Classes | None = None,
        dt: float = math.inf,
    ) -> Wait:
        """This step: ``offered`` arrivals/s, ``served`` of them got a slot for ``hold`` s.

        May be called again within the step (from the same start) until :meth:`commit`.

        ``per`` servers share one queue (``slots // per`` queues, the balancer spreading
        arrivals evenly): instances with their own queues, or one pool (``per = slots``).
        ``patience``: the callers' mean deadline left on arrival. ``bound``: the most that can
        be waiting at all (when every caller comes through a connection pool, the
        connections in use less the slots). ``classes``: the callers apart — (arrivals/s,
        deadline left on arrival, slot time) each — to settle the queue where the survivors'
        slot time fills the slots (the callers with the least time left give up first).
        ``dt``: the step; a queue grows no faster than arrivals outpace the slots.
        """
        wait.full = wait.backlog = wait.spread = wait.p_wait = wait.theta = 0.0
        self.util = 0.0
        if slots <= 0 or offered <= 0 or hold <= 0:
            self.length = 0.0  # nothing arrives (or nothing can take it): the queue is gone
            return wait
        mu = slots / hold  # completions per second at full occupancy
        self.util = offered / mu
        target = 0.0
        if offered > mu:
            if classes is not None:
                settle = _settle(classes, slots, mu)
            else:
                z = _NORMAL.inv_cdf(mu / offered)
                # An arrival served after waiting W still needs its hold time within its
                # deadline: the queue settles where wait plus hold meets the patience.
                room = max(patience - hold, 0.1 * patience)
                spread = max(SPREAD_MIN, 1.0 / math.sqrt(room * mu + 1.0))
                for _ in range(2):  # the spread depends on the length it settles at
                    ahead = 1.0 + spread * z
                    settle = room / ahead if ahead > 0.25 else 4.0 * room
                    spread = max(SPREAD_MIN, 1.0 / math.sqrt(settle * mu + 1.0))
            target = settle * mu
            if target > limit and limit <= bound:  # the queue limit: the excess is turned away
                wait.full = 1.0 - mu / offered
                target = limit
            target = min(target, bound)
        if target > self.settled:  # it fills only as fast as arrivals outpace the slots
            target = min(target, self.settled + max(0.0, offered - mu) * dt)
        self.length = target
        if self.length < 1e-3 * slots:
            self.length = 0.0
        wait.backlog = self.length / mu
        wait.spread = max(SPREAD_MIN, 1.0 / math.sqrt(self.length + 1.0))
        if wait.backlog == 0.0:
            queues = max(1, slots // per)
            a = min(served * hold / queues, RHO_MAX * per)
            if a > QUIET * per:
                wait.p_wait = erlang_c(per, a)
                wait.theta = hold / (per - a)
        return wait


# The callers of one queue apart: (arrivals/s, deadline left on arrival, slot time) each.
Classes = list[tuple[float, float, float]]


def _settle(classes: Classes, slots: float, mu: float) -> float:
    """The wait W at which the callers still waiting when served fill the slots exactly.

    A caller of class i survives the queue when W < its deadline left ``b_i``; survivors
    hold a slot ``h_i`` each: solve Σ λ_i·h_i·P(W < b_i) = slots for W (bisection). The
    wait behind a backlog of W·μ calls varies by 1/√(W·μ), which smooths the step at each b_i.
    """
    top = max((b for _, b, _ in classes), default=0.0)
    if top <= 0:
        return 0.0

    def surplus(w: float) -> float:
        sd = max(SPREAD_MIN, 1.0 / math.sqrt(w * mu + 1.0)) * w + 1e-9
        held = sum(r * h * 0.5 * (1.0 + math.erf((b - w) / (sd * _SQRT2))) for r, b, h in classes)
        return held - slots

    lo, hi = 0.0, 4.0 * top
    if surplus(hi) > 0:
        return hi  # even far past every deadline the survivors would fill the slots
    for _ in range(32):
        mid = (lo + hi) / 2.0
        if surplus(mid) > 0:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2.0


def component_cond(
    rt: Runtime,
    backlog: Backlog,
    offered: float,
    served: float,
    hold: float,
    patience: float,
    cond: Cond,
    bound: float = math.inf,
    classes: Classes | None = None,
    dt: float = math.inf,
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
    backlog.step(
        offered, served, hold, slots, limit, patience, cond.wait, cap, bound - slots, classes, dt
    )
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
