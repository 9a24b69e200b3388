"""The request flow: a request walks its endpoint's call tree, one SimPy event per served call.

A :class:`Frame` is one attempt of one call. Deadlines propagate down the tree (a child's
deadline is the earlier of its own timeout and its parent's), so at any moment a request
waits in exactly one place and one timer suffices. Every frame ends exactly once, in
:meth:`Flow.finish`, with one of ``OK``, ``ERROR``, ``TIMEOUT``, ``REJECTED``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from heapq import heappush
from math import cos as _cos
from math import exp as _exp
from math import floor as _floor
from math import log as _log
from math import sin as _sin
from math import sqrt as _sqrt
from math import tau as _TWOPI
from typing import Any, Protocol

import simpy
from simpy.events import NORMAL

from sim.engine.common.calltree import INF, Frame, Node
from sim.engine.common.datacall import DataCall
from sim.engine.common.servers import Instance, Runtime
from sim.model.data import DatabaseState
from sim.telemetry.metrics import ERROR, LOG_BUCKETS, OK, REJECTED, TIMEOUT, ZERO_BUCKET

POOL, QUEUED, SERVING, WAITING, DONE, LOCKED = 1, 2, 3, 4, 5, 6


def wake(env: simpy.Environment, delay: float, fn: Callable[[Any], None], value: Any) -> None:
    """In ``delay`` seconds, call ``fn(value)``: lighter than a process or an event.

    The timer is the queue entry itself, ``(time, NORMAL, id, fn, value)``: no object is made
    for it (a run sets one per served call). SimPy's own loop cannot pop such an entry; the
    engines advance with :func:`sim.engine.common.base.run_until`, which calls it.
    """
    heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), fn, value))  # type: ignore[misc]


Done = Callable[[Frame, int, str | None, str | None], None]


class FlowObserver(Protocol):
    """Who wants to hear about failed calls (telemetry's logger). Called only on failures."""

    def failed(
        self, f: Frame, outcome: int, cls: str | None, msg: str | None, origin: bool
    ) -> None:
        """``f`` ended with ``outcome``; ``origin`` is False when it only passed a child's on."""

    def fell_back(self, p: Frame, c: Frame, cls: str | None, msg: str | None) -> None:
        """Optional call ``c`` of ``p`` failed and ``p`` carried on without it."""


class LockWaiter:
    """A call waiting for its locks at a database slot; ``frame`` is ``None`` once its caller
    gave up (the backend waits on)."""

    __slots__ = ("data", "data_comp", "frame", "gone", "inst", "work")

    def __init__(self, frame: Frame, inst: Instance, data: DataCall, work: float) -> None:
        self.frame: Frame | None = frame
        self.inst = inst
        self.data = data
        self.data_comp = frame.node.comp
        self.work = work
        self.gone = False  # released: granted, gave up, or finished


class Flow:
    """Drives frames through instances, pools, breakers, retries and timeouts."""

    def __init__(self, env: simpy.Environment, rng: random.Random, on_request_done: Done) -> None:
        self.env = env
        self.rand = rng.random
        self.on_request_done = on_request_done
        self.fallbacks = 0
        self.observer: FlowObserver | None = None
        self.locked: dict[DatabaseState, list[LockWaiter]] = {}  # calls waiting for locks

    # -- entry ---------------------------------------------------------------------------
    def request(self, root: Node, req: Any, client_timeout: float) -> None:
        now = self.env._now
        self.start(Frame(root, None, req, now + client_timeout, 0, now))

    def call(self, parent: Frame, node: Node, attempt: int) -> None:
        cached = node.cached
        if cached is not None and self.rand() < cached.hit_ratio * cached.cache.warmth:
            self.next_child(parent)  # the cache answered: the store is not called
            return
        now = self.env._now
        deadline = now + node.timeout
        if deadline > parent.deadline:
            deadline = parent.deadline
        f = Frame(node, parent, parent.req, deadline, attempt, now)
        if node.plain:
            self.route(f)  # the common case, without start()'s checks
        else:
            self.start(f)

    def start(self, f: Frame) -> None:
        node = f.node
        br = node.breaker
        if br is not None and not br.allow(self.env._now):
            self.finish(f, ERROR, "CircuitOpen", f"circuit open on {node.label}", record=False)
            return
        gate = node.pool
        if gate is not None:
            if gate.used < gate.capacity:
                gate.used += 1
                f.pool = gate
            else:
                f.state = POOL
                gate.waiters.append(f)
                self._arm(f)
                return
        self.route(f)

    def route(self, f: Frame) -> None:
        node = f.node
        comp = node.comp
        f.tq = self.env._now  # queue wait at the instance starts now (after any pool wait)
        avail = comp.available
        if node.data is not None:  # a data tier: reads and writes go by role
            inst = node.data.pick(comp)
        elif comp.special or not avail:
            inst = comp.pick(f.req.id)
        else:  # round robin, inlined
            rr = comp.rr = (comp.rr + 1) % len(avail)
            inst = avail[rr]
        if inst is None:
            if comp.shard:  # the one instance that holds this key's data is out of rotation
                why = f"shard {comp.name}-{comp.shard_of(f.req.id)} (this key's) is out of rotation"
                self.finish(f, REJECTED, "ShardUnavailable", why)
            else:
                self.finish(f, REJECTED, "NoHealthyUpstream", f"no healthy {comp.name} instance")
            return
        if comp.state.down[inst.i]:
            self.finish(f, ERROR, "ConnectionRefused", f"connect to {comp.name}-{inst.i} refused")
            return
        f.inst = inst
        factor = comp.state.capacity_factor
        cap = comp.concurrency if factor == 1.0 else comp.capacity()
        if inst.busy < cap:
            self.begin(f, inst)
        elif len(inst.queue) < comp.queue_limit:
            f.state = QUEUED
            inst.queue.append(f)
            self._arm(f)
        else:
            self.finish(f, REJECTED, "QueueFull", f"{comp.name}-{inst.i} queue full")

    def _arm(self, f: Frame) -> None:
        if f.deadline < INF:
            wake(self.env, f.deadline - self.env._now, self._expire, f)

    # -- service -------------------------------------------------------------------------
    def begin(self, f: Frame, inst: Instance) -> None:
        env = self.env
        now = env._now
        node = f.node
        comp = node.comp
        inst.busy += 1
        f.holding = True
        f.state = SERVING
        series = node.series
        series.wait_sum += now - f.tq
        series.wait_n += 1
        st = comp.state
        rng = comp.rng
        if st.hang:
            svc = INF
        elif rng is not None:
            # lognormal (the commonest case): exp(rng.gauss(mu, sigma)) inlined, drawing the
            # same numbers as Random.gauss (Box-Muller, the second normal kept for next time)
            z = rng.gauss_next
            if z is None:
                rand = rng.random
                x2pi = rand() * _TWOPI
                g2rad = _sqrt(-2.0 * _log(1.0 - rand()))
                z = _cos(x2pi) * g2rad
                rng.gauss_next = _sin(x2pi) * g2rad
            else:
                rng.gauss_next = None
            svc = _exp(comp.mu + z * comp.sigma) * inst.slow
            comp.cpu += svc  # service is compute; a call waiting on its children computes nothing
        else:
            svc = comp.service() * inst.slow
            comp.cpu += svc
        data = node.data
        if data is not None:
            svc, f.err, wait = data.service(svc, inst, now)
            if wait > 0.0:
                self._lock_wait(f, data, inst, svc, wait)
                return
        end = now + svc
        if end > f.deadline:
            f.svc_end = end
            wake(env, f.deadline - now, self._serve_timeout, f)
        else:  # wake(env, svc, self._served, f), inlined: once per served call
            heappush(env._queue, (end, NORMAL, next(env._eid), self._served, f))  # type: ignore[misc]

    def _served(self, f: Frame) -> None:
        node = f.node
        data = node.data
        if data is not None:
            err = f.err
            if err is not None:
                self.finish(f, ERROR, err.cls, err.message)
                return
            assert f.inst is not None
            data.served(f.inst)
        if node.tables and node.comp.state.broken_tables:
            st = node.comp.state
            broken = st.broken_tables
            for table in node.tables:
                if table in broken:
                    share = st.broken_share
                    if share >= 1.0 or self.rand() < share:
                        self.finish(f, ERROR, st.table_error_class, broken[table])
                        return
                    break
        inst = f.inst  # the component's state as it applies to this instance
        p = inst.p_err  # type: ignore[union-attr]
        if p and self.rand() < p:
            self.finish(f, ERROR, inst.err_cls, inst.err_msg)  # type: ignore[union-attr]
            return
        if node.children:
            f.state = WAITING
            f.child = 0
            self.call(f, node.children[0], 0)
        else:
            self.finish(f, OK)

    def _serve_timeout(self, f: Frame) -> None:
        if f.state != SERVING:
            return
        # The caller gives up; the instance works on until the service ends.
        f.holding = False
        inst = f.inst
        assert inst is not None
        if f.svc_end < INF:
            wake(self.env, f.svc_end - self.env._now, self._late_release, (f.node.comp, inst))
        else:
            self.release(f.node.comp, inst)
        self.finish(f, TIMEOUT, "Timeout", self._timeout_text(f))

    # -- lock waits (calls into a data tier) ----------------------------------------------
    def _lock_wait(
        self, f: Frame, data: DataCall, inst: Instance, work: float, wait: float
    ) -> None:
        """``f`` holds its database slot and waits for its locks: until the database says they
        are free (:meth:`locks_changed`), its own lock or statement timeout, or its caller's
        deadline — after which the backend goes on waiting, slot and all, as PostgreSQL's does."""
        f.state = LOCKED
        waiter = LockWaiter(f, inst, data, work)
        self.locked.setdefault(data.db, []).append(waiter)
        limit = data.give_up()
        if limit is not None and limit[0] < wait:
            wake(self.env, limit[0], self._lock_gave_up, (waiter, limit[1]))
        if f.deadline - self.env._now < wait:
            wake(self.env, f.deadline - self.env._now, self._lock_deadline, waiter)

    def locks_changed(self, db: DatabaseState) -> None:
        """The database's locks changed: the calls whose locks are now free go on."""
        waiting = self.locked.get(db)
        if not waiting:
            return
        now = self.env._now
        still: list[LockWaiter] = []
        for waiter in waiting:
            if waiter.gone:
                continue
            if waiter.data.wait(now) > 0.0:
                still.append(waiter)
                continue
            waiter.gone = True
            f = waiter.frame
            if f is None:  # its caller gave up: the backend runs its statement, then lets go
                wake(self.env, waiter.work, self._late_release, (waiter.data_comp, waiter.inst))
                continue
            f.state = SERVING
            end = now + waiter.work
            if end > f.deadline:
                f.svc_end = end
                wake(self.env, f.deadline - now, self._serve_timeout, f)
            else:
                wake(self.env, waiter.work, self._served, f)
        self.locked[db] = still

    def _lock_gave_up(self, value: Any) -> None:
        waiter, err = value
        if waiter.gone:
            return
        waiter.gone = True
        f = waiter.frame
        if f is None:  # the backend's own timeout frees its slot
            self.release(waiter.data_comp, waiter.inst)
            return
        self.finish(f, ERROR, err.cls, err.message)

    def _lock_deadline(self, waiter: LockWaiter) -> None:
        f = waiter.frame
        if waiter.gone or f is None or f.state != LOCKED:
            return
        # The caller gives up; the backend keeps its slot and waits on.
        f.holding = False
        waiter.frame = None
        self.finish(f, TIMEOUT, "Timeout", self._timeout_text(f))

    def _late_release(self, value: Any) -> None:
        comp, inst = value
        self.release(comp, inst)

    def _expire(self, f: Frame) -> None:
        if f.state == QUEUED:
            self.finish(f, TIMEOUT, "Timeout", self._timeout_text(f))
        elif f.state == POOL:
            label = f.node.pool.label if f.node.pool else f.node.label
            self.finish(f, TIMEOUT, "PoolTimeout", f"timed out waiting for a {label} connection")

    def _timeout_text(self, f: Frame) -> str:
        return f"{f.node.label} timed out after {f.deadline - f.t0:.3g}s"

    def release(self, comp: Runtime, inst: Instance) -> None:
        inst.busy -= 1
        if inst.queue:
            self._dequeue(comp, inst)

    def _dequeue(self, comp: Runtime, inst: Instance) -> None:
        """A worker of ``inst`` came free: start the queued calls it now has room for."""
        q = inst.queue
        while q and inst.busy < comp.capacity():
            nxt = q.popleft()
            if nxt.state == QUEUED:
                self.begin(nxt, inst)

    # -- completion ----------------------------------------------------------------------
    def finish(
        self,
        f: Frame,
        outcome: int,
        cls: str | None = None,
        msg: str | None = None,
        record: bool = True,
        origin: bool = True,
    ) -> None:
        """End a frame exactly once: free what it holds, count it, tell its parent.

        ``origin`` is False when the frame fails only because a required child failed.
        """
        f.state = DONE
        node = f.node
        if f.holding:  # self.release(node.comp, f.inst), inlined: once per served call
            f.holding = False
            held = f.inst
            assert held is not None
            held.busy -= 1
            if held.queue:
                self._dequeue(node.comp, held)
        gate = f.pool
        if gate is not None:
            f.pool = None
            gate.used -= 1
            waiters = gate.waiters
            while waiters:
                w = waiters.popleft()
                if w.state == POOL:
                    gate.used += 1
                    w.pool = gate
                    w.state = 0
                    self.route(w)
                    break
        now = self.env._now
        # node.series.record(outcome, latency, cls), inlined: once per call of a run
        series = node.series
        series.counts[outcome] += 1
        latency = now - f.t0
        series.lat_sum += latency
        b = _floor(_log(latency) * LOG_BUCKETS) if latency > 0 else ZERO_BUCKET
        hist = series.hist
        hist[b] = hist.get(b, 0) + 1
        if cls is not None:
            errors = series.errors
            errors[cls] = errors.get(cls, 0) + 1
        br = node.breaker
        if br is not None and record:
            br.record(now, outcome == OK)
        if outcome:
            inst = f.inst
            if inst is not None:  # what the balancer's passive checks read
                inst.failed += 1
            if self.observer is not None:
                self.observer.failed(f, outcome, cls, msg, origin)
        parent = f.parent
        if parent is None:
            self.on_request_done(f, outcome, cls, msg)
        elif not outcome and node.cached is None:  # child_done's plain success, inlined
            if parent.state == WAITING:
                self.next_child(parent)
        else:
            self.child_done(parent, f, outcome, cls, msg)

    def child_done(
        self, p: Frame, c: Frame, outcome: int, cls: str | None, msg: str | None
    ) -> None:
        if p.state != WAITING:
            return
        node = c.node
        if outcome != OK:
            if c.attempt < node.attempts:
                delay = node.backoff * node.mult**c.attempt * (1.0 - node.jitter * self.rand())
                if self.env._now + delay < p.deadline:
                    wake(self.env, delay, self._retry, (p, node, c.attempt + 1))
                    return
            if node.required:
                self.finish(p, outcome, cls, msg, origin=False)
                return
            self.fallbacks += 1
            if self.observer is not None:
                self.observer.fell_back(p, c, cls, msg)
        elif node.cached is not None:  # a miss answered: the caller stores it in the cache
            node.cached.cache.fill(node.cached.represents, node.cached.hit_ratio)
        self.next_child(p)

    def next_child(self, p: Frame) -> None:
        """``p``'s current child is done: call the next one, or finish ``p``."""
        children = p.node.children
        p.child += 1
        if self.env._now >= p.deadline:
            self.finish(p, TIMEOUT, "Timeout", self._timeout_text(p))
        elif p.child < len(children):
            self.call(p, children[p.child], 0)
        else:
            self.finish(p, OK)

    def _retry(self, value: Any) -> None:
        p, node, attempt = value
        if p.state == WAITING:
            self.call(p, node, attempt)
