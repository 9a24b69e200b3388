"""Instances behind a load balancer, connection pools and circuit breakers.

Plain data with counters; the request flow in :mod:`sim.engine.request.calls` drives them with
callbacks (one SimPy event per served call) rather than a process per request.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from sim.model.state import ComponentState
from sim.scenario.schema import Breaker as BreakerSpec
from sim.scenario.schema import Component
from sim.telemetry.metrics import Series


class Instance:
    """One replica: a number of busy slots and a FIFO queue of frames."""

    __slots__ = (
        "busy",
        "ejected",
        "ejections",
        "err_cls",
        "err_msg",
        "failed",
        "fails",
        "i",
        "outlying",
        "p_err",
        "passes",
        "queue",
        "returns_at",
        "slow",
    )

    def __init__(self, i: int) -> None:
        self.i = i
        self.busy = 0
        self.queue: deque[Any] = deque()  # the request engine's frames waiting for a slot
        self.ejected = False  # by the active checks
        self.fails = 0
        self.passes = 0
        # passive checks (outlier detection): answers that failed since the last look, out
        # for its answers until ``returns_at``, how often it was
        self.failed = 0
        self.outlying = False
        self.returns_at = 0.0
        self.ejections = 0
        # The component's state as it applies to this instance (Runtime.refresh keeps them):
        # latency factor, error probability, error class and message.
        self.slow = 1.0
        self.p_err = 0.0
        self.err_cls = self.err_msg = ""

    def apply(self, state: ComponentState) -> None:
        """Take this instance's share of ``state``: the component's, or its own where effects
        on some instances only are active."""
        own = state.per_instance
        if own is not None and self.i < len(own):
            self.slow, self.p_err, self.err_cls, self.err_msg = own[self.i]
        else:
            self.slow, self.p_err = state.latency_factor, state.error_probability
            self.err_cls, self.err_msg = state.error_class, state.error_message


class Runtime:
    """A component at run time: its instances, the balancer in front of them, its samplers."""

    def __init__(
        self,
        name: str,
        spec: Component,
        state: ComponentState,
        service: Callable[[], float],
        series: Series,
    ) -> None:
        self.name = name
        self.spec = spec
        self.state = state
        self.service = service
        # Set by the engine for lognormal service times: the component's random.Random, from
        # which the hot path draws exp(rng.gauss(mu, sigma)) inline — typed Any because that
        # reads Random's gauss_next, which the type stubs do not declare.
        self.rng: Any = None
        self.mu = self.sigma = 0.0
        self.series = series
        # how a database words its errors (`databases:` … `dialect:`; set by the engine)
        self.dialect = "postgresql"
        self.concurrency = spec.concurrency
        self.queue_limit = spec.queue_limit
        self.instances = [Instance(i) for i in range(spec.replicas)]
        self.draining: list[Instance] = []  # taken out of service, finishing their calls
        self.cpu = 0.0  # seconds of service (compute) begun so far: what a CPU metric reads
        self.available = list(self.instances)
        self.panic = False  # the balancer sends to every instance, ejected or not
        self.rotation = 0  # how often ``available`` changed
        self.least = spec.balancing == "least_connections"
        self.shard = spec.balancing == "shard"
        self.special = self.least or self.shard  # not round robin: route() calls pick()
        self.rr = -1
        state.rederived.append(self.refresh)
        self.refresh(state)

    def refresh(self, state: ComponentState) -> None:
        """Copy the state's latency factor and error probability onto each instance (the hot
        path reads them there: one lookup, per instance where a staged change is active), and
        its queue limit: shedding load, an instance queues no more than one round of work
        (its concurrency) and refuses the rest at once."""
        limit = self.spec.queue_limit
        self.queue_limit = min(limit, self.concurrency) if state.shedding else limit
        for inst in self.instances:
            inst.apply(state)
        for inst in self.draining:
            inst.apply(state)

    def pick(self, key: int = 0) -> Instance | None:
        """The next instance by the balancing policy, among those not ejected; sharded, the
        instance ``key`` maps to, or None when it is out of rotation (no other holds its data)."""
        if self.shard:
            inst = self.instances[self.shard_of(key)]
            return None if (inst.ejected or inst.outlying) and not self.panic else inst
        avail = self.available
        if not avail:
            return None
        n = len(avail)
        self.rr = (self.rr + 1) % n
        if self.least:  # min(avail, key=busy + queued), inlined: a call per request
            # Ties go round robin, as nginx's least_conn and HAProxy's leastconn break them:
            # the scan starts one further each time. (Always from the first, an idle tier
            # sent nearly every call to its first instance — and with it a staged change's
            # first stage took nearly all the traffic.)
            start = self.rr
            best = avail[start]
            low = best.busy + len(best.queue)
            for k in range(1, n):
                inst = avail[(start + k) % n]
                load = inst.busy + len(inst.queue)
                if load < low:
                    best, low = inst, load
            return best
        return avail[self.rr]

    def shard_of(self, key: int) -> int:
        """The instance that holds ``key``'s data, on a sharded component."""
        return key % len(self.instances)

    def capacity(self) -> int:
        factor = self.state.capacity_factor
        return self.concurrency if factor == 1.0 else max(1, int(self.concurrency * factor))

    def gauge(self) -> tuple[int, int]:
        if self.draining:
            self.draining = [i for i in self.draining if i.busy or i.queue]
        live = self.instances + self.draining if self.draining else self.instances
        return (sum(i.busy for i in live), sum(len(i.queue) for i in live))

    def meter(self) -> tuple[float, int, int]:
        """(seconds of compute begun so far, worker slots held now by the instances in service,
        calls counted so far): what a scaling policy reads."""
        s = self.series
        c = s.counts
        return self.cpu, sum(i.busy for i in self.instances), s.total + c[0] + c[1] + c[2] + c[3]

    def resize(self, state: ComponentState) -> None:
        """Follow the state's number of instances: new ones join the rotation; those taken
        out leave it at once and finish what they hold (``draining``)."""
        n, have = state.replicas, len(self.instances)
        if n > have:
            self.instances.extend(Instance(i) for i in range(have, n))
            self.refresh(state)
        else:
            self.draining.extend(self.instances[n:])
            del self.instances[n:]
        self.rotate()

    def rotate(self) -> None:
        """Recompute the rotation: the instances ejected by neither the active nor the passive
        checks, or all of them in panic."""
        self.available = (
            list(self.instances)
            if self.panic
            else [i for i in self.instances if not i.ejected and not i.outlying]
        )
        self.rotation += 1


class Gate:
    """A connection pool: ``capacity`` connections shared by a caller's replicas, FIFO waiters."""

    __slots__ = ("capacity", "label", "used", "waiters")

    def __init__(self, capacity: int, label: str) -> None:
        self.capacity = capacity
        self.label = label
        self.used = 0
        self.waiters: deque[Any] = deque()  # the request engine's frames waiting for a connection


CLOSED, OPEN, HALF_OPEN = 0, 1, 2


class CircuitBreaker:
    """Counts failures in a fixed window; opens on a failure ratio, probes once after ``open_for``."""

    __slots__ = (
        "calls",
        "fails",
        "label",
        "min_calls",
        "on_change",
        "open_for",
        "opened_at",
        "ratio",
        "state",
        "trial",
        "w_start",
        "window",
    )

    def __init__(
        self, spec: BreakerSpec, label: str, on_change: Callable[[str, str], None]
    ) -> None:
        self.ratio = spec.failure_ratio
        self.min_calls = spec.min_calls
        self.window = spec.window
        self.open_for = spec.open_for
        self.label = label
        self.on_change = on_change
        self.state = CLOSED
        self.opened_at = 0.0
        self.w_start = 0.0
        self.calls = self.fails = 0
        self.trial = False

    def allow(self, now: float) -> bool:
        if self.state == CLOSED:
            return True
        if self.state == OPEN and now - self.opened_at >= self.open_for:
            self.state = HALF_OPEN
            self.trial = False
        if self.state == HALF_OPEN and not self.trial:
            self.trial = True
            return True
        return False

    def record(self, now: float, ok: bool) -> None:
        if self.state == HALF_OPEN:
            self._set(CLOSED if ok else OPEN, now)
            return
        if self.state == OPEN:
            return
        if now - self.w_start >= self.window:
            self.w_start, self.calls, self.fails = now, 0, 0
        self.calls += 1
        if not ok:
            self.fails += 1
            if self.calls >= self.min_calls and self.fails >= self.ratio * self.calls:
                self._set(OPEN, now)

    def _set(self, state: int, now: float) -> None:
        self.state = state
        self.trial = False
        if state == OPEN:
            self.opened_at = now
            self.on_change(self.label, "open")
        else:
            self.w_start, self.calls, self.fails = now, 0, 0
            self.on_change(self.label, "closed")
