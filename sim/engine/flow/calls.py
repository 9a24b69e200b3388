"""The flow engine's call model: what one request does, in expectation, under given conditions.

The request engine walks each request through its endpoint's call tree; here the same
compiled tree (:class:`~sim.engine.common.calltree.Node`) is walked once per *condition* (who is down,
what fails, how long the queues are), and the walk yields probabilities instead of draws:
how likely each outcome is at every call, how long it takes, how long it holds a slot. The
rules are the request flow's, one for one: a breaker that is open fails fast; a pool wait
longer than the deadline is a ``PoolTimeout``; no instance in rotation is
``NoHealthyUpstream``; a down instance refuses; a full queue rejects; a queue wait or a
service past the deadline times out (the instance works on); a broken table or an error
draw fails after service; children are called in order, required ones failing their
parent, optional ones falling back; a failed call is retried after its backoff when the
parent's deadline allows.

The result, a :class:`Profile`, is cached by the engine for as long as conditions do not
change, so a steady hour costs a handful of walks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from sim.engine.common.calltree import Node
from sim.engine.common.servers import CircuitBreaker, Gate
from sim.engine.flow.queues import Cond, Wait
from sim.telemetry.metrics import ERROR, OK, REJECTED, TIMEOUT


def _tail(x: float, mean: float, sd: float) -> float:
    """P(wait > x) for a wait of ``mean`` ± ``sd`` (normal)."""
    return 0.5 * (1.0 - math.erf((x - mean) / (sd * math.sqrt(2.0))))


# A failure atom: (probability, outcome, error class, message, duration, failed here?)
Fail = tuple[float, int, str, str, float, bool]
# A tally key: (outcome, error class, message, deadline, attempt, served, child index, handled)
FailKey = tuple[int, str, str, float, int, bool, int, bool]


class Tally:
    """What one node of the tree does, per request of the endpoint (expected counts)."""

    __slots__ = (
        "br_calls",
        "br_fails",
        "budget",
        "calls",
        "counts",
        "errors",
        "fails",
        "fallbacks",
        "hold",
        "lat",
        "offered",
        "pool_budget",
        "pool_calls",
        "pool_hold",
        "pool_offered",
        "served",
        "wait",
    )

    def __init__(self) -> None:
        self.calls = 0.0  # frames created (attempts)
        self.counts = [0.0, 0.0, 0.0, 0.0]  # by outcome
        self.errors: dict[str, float] = {}
        self.lat: dict[tuple[float, bool], float] = {}  # (duration, spread?) → mass
        self.offered = 0.0  # frames that reached an instance's queue
        self.budget = 0.0  # their deadline left on arrival (mass × s)
        self.served = 0.0  # frames that got a slot
        self.wait = 0.0  # queue wait of served frames (mass × s)
        self.hold = 0.0  # slot time (mass × s)
        self.pool_offered = 0.0  # frames asking for a connection
        self.pool_budget = 0.0
        self.pool_calls = 0.0  # … and getting one
        self.pool_hold = 0.0
        self.br_calls = 0.0  # what the breaker records
        self.br_fails = 0.0
        self.fallbacks = 0.0
        self.fails: dict[FailKey, float] = {}


@dataclass
class Profile:
    """One endpoint's request under one set of conditions: root outcomes and every node's tally."""

    ok: float
    ok_latency: float
    fails: list[Fail]
    tallies: dict[Node, Tally]


class CallModel:
    """Walks compiled call trees under ``conds`` (by component), pool waits and open breakers."""

    def __init__(
        self,
        conds: Mapping[str, Cond],
        pool_wait: Mapping[Gate, Wait],
        open_breakers: frozenset[CircuitBreaker],
    ) -> None:
        self.conds = conds
        self.pool_wait = pool_wait
        self.open = open_breakers
        self.tallies: dict[Node, Tally] = {}

    def profile(self, root: Node, client_timeout: float) -> Profile:
        """The request of ``root``'s endpoint: the browser waits ``client_timeout`` at most."""
        self.tallies = {}
        ok, dur, fails = self.attempt(root, client_timeout, 1.0, 0)
        return Profile(ok, dur, fails, self.tallies)

    def _tally(self, node: Node) -> Tally:
        t = self.tallies.get(node)
        if t is None:
            t = self.tallies[node] = Tally()
        return t

    def call(self, node: Node, budget: float, w: float) -> tuple[float, float, list[Fail]]:
        """A call with its retries, as its caller sees it, with ``budget`` seconds left."""
        reach, elapsed, ok, ok_time = 1.0, 0.0, 0.0, 0.0
        final: list[Fail] = []
        for a in range(node.attempts + 1):
            d = min(node.timeout, budget - elapsed)
            if d <= 0:
                break
            p_ok, dur, fails = self.attempt(node, d, w * reach, a)
            ok += reach * p_ok
            ok_time += reach * p_ok * (elapsed + dur)
            pf = 1.0 - p_ok
            if pf <= 1e-12:
                break
            fail_dur = sum(f[0] * f[4] for f in fails) / pf
            if a < node.attempts:
                delay = node.backoff * node.mult**a * (1.0 - node.jitter / 2.0)
                if elapsed + fail_dur + delay < budget:
                    reach *= pf
                    elapsed += fail_dur + delay
                    continue
            final = [(reach * q, o, c, m, elapsed + t, here) for q, o, c, m, t, here in fails]
            break
        return ok, (ok_time / ok if ok > 0 else 0.0), final

    def attempt(self, node: Node, d: float, w: float, a: int) -> tuple[float, float, list[Fail]]:
        """One attempt with deadline ``d`` (s from now); ``w`` is its expected count per request."""
        t = self._tally(node)
        t.calls += w
        fails: list[Fail] = []
        name = node.comp.name

        def fail(
            q: float,
            outcome: int,
            cls: str,
            msg: str,
            dur: float,
            served: bool = False,
            child: int = -1,
            handled: bool = False,
            record: bool = True,
        ) -> None:
            if q <= 0:
                return
            fails.append((q, outcome, cls, msg, dur, child < 0))
            m = w * q
            t.counts[outcome] += m
            t.errors[cls] = t.errors.get(cls, 0.0) + m
            key_lat = (dur, outcome != TIMEOUT)  # a timeout ends at its deadline, no spread
            t.lat[key_lat] = t.lat.get(key_lat, 0.0) + m
            if record:
                t.br_calls += m
                t.br_fails += m
            key = (outcome, cls, msg, d, a, served, child, handled)
            t.fails[key] = t.fails.get(key, 0.0) + m

        if node.breaker is not None and node.breaker in self.open:
            fail(1.0, ERROR, "CircuitOpen", f"circuit open on {node.label}", 0.0, record=False)
            return 0.0, 0.0, fails
        p, waited, pool = 1.0, 0.0, 0.0
        ahead = var = 0.0  # backlog waits ahead of this call (mean, variance)
        gate = node.pool
        if gate is not None:
            t.pool_offered += w
            t.pool_budget += w * d
            pw = self.pool_wait.get(gate)
            if pw is not None and (pw.backlog or pw.p_wait):
                timed_out = pw.late_within(d)
                text = f"timed out waiting for a {gate.label} connection"
                fail(timed_out, TIMEOUT, "PoolTimeout", text, d)
                p -= timed_out
                waited = pool = min(pw.mean, d)
                ahead, var = pw.backlog, (pw.spread * pw.backlog) ** 2
            t.pool_calls += w * p
        c = self.conds[name]
        if c.reject:
            fail(p, REJECTED, "NoHealthyUpstream", f"no healthy {name} instance", waited)
            return 0.0, 0.0, fails
        if c.refused:
            text = f"connect to {name}-{c.refused_at} refused"
            fail(p * c.refused, ERROR, "ConnectionRefused", text, waited)
            p *= 1.0 - c.refused
        t.offered += w * p
        t.budget += w * p * (d - waited)
        queue = c.wait
        if queue.full:
            fail(p * queue.full, REJECTED, "QueueFull", f"{name}-0 queue full", waited)
            p *= 1.0 - queue.full
        timeout_text = f"{node.label} timed out after {d:.3g}s"
        if queue.backlog or queue.p_wait:
            left = d - waited
            late = queue.late_within(left)
            fail(p * late, TIMEOUT, "Timeout", timeout_text, d)
            p *= 1.0 - late
            waited += min(queue.mean, left)
            ahead += queue.backlog
            var += (queue.spread * queue.backlog) ** 2
        if p <= 0:
            if gate is not None:
                self._pool(t, w, fails, 0.0, 0.0, pool)
            return 0.0, 0.0, fails
        t.served += w * p
        t.wait += w * p * (waited - pool)
        left = d - waited
        if c.hang:
            fail(p, TIMEOUT, "Timeout", timeout_text, d, served=True)
            t.hold += w * p * left
            if gate is not None:
                self._pool(t, w, fails, 0.0, 0.0, pool)
            return 0.0, 0.0, fails
        t.hold += w * p * c.svc  # the instance finishes its work even after its caller left
        inside, part = c.within(left)
        if inside < 1.0:
            fail(p * (1.0 - inside), TIMEOUT, "Timeout", timeout_text, d, served=True)
        elapsed = waited + (part / inside if inside > 0 else 0.0)
        p *= inside
        if node.tables and c.broken:
            for table in node.tables:
                if table in c.broken:
                    share = c.broken_share
                    fail(p * share, ERROR, c.table_cls, c.broken[table], elapsed)
                    p *= 1.0 - share
                    break
            if p <= 0:
                if gate is not None:
                    self._pool(t, w, fails, 0.0, 0.0, pool)
                return 0.0, 0.0, fails
        if c.err_p:
            fail(p * c.err_p, ERROR, c.err_cls, c.err_msg, elapsed)
            p *= 1.0 - c.err_p
        for i, child in enumerate(node.children):
            if p <= 1e-12:
                break
            r_ok, r_time, r_fails = self.call(child, d - elapsed, w * p)
            before = elapsed
            if child.required:
                for q, o, cls, msg, dur, here in r_fails:
                    fail(p * q, o, cls, msg, elapsed + dur, child=i, handled=here)
                elapsed += r_time
                t.hold += w * p * r_ok * r_time + sum(w * p * f[0] * f[4] for f in r_fails)
                p *= r_ok
            else:
                pf = sum(f[0] for f in r_fails)
                t.fallbacks += w * p * pf
                mean = r_ok * r_time + sum(f[0] * f[4] for f in r_fails)
                elapsed += mean / (r_ok + pf) if r_ok + pf > 0 else 0.0
                t.hold += w * p * (elapsed - before)
            if elapsed >= d:
                fail(p, TIMEOUT, "Timeout", timeout_text, d)
                p = 0.0
        if p > 0 and ahead > 0:
            # Waits behind a backlog vary: the calls that waited longest run out of time
            # after the queue (their children had less time left than the mean wait leaves).
            need = elapsed - waited
            sd = math.sqrt(var) or 1e-9
            gone = _tail(d, ahead, sd)
            late = (_tail(d - need, ahead, sd) - gone) / (1.0 - gone) if gone < 1.0 else 1.0
            if late > 1e-6:
                fail(p * late, TIMEOUT, "Timeout", timeout_text, d, served=True)
                p *= 1.0 - late
        if p > 0:
            t.counts[OK] += w * p
            t.lat[elapsed, True] = t.lat.get((elapsed, True), 0.0) + w * p
            t.br_calls += w * p
        if gate is not None:
            self._pool(t, w, fails, p, elapsed, pool)
        return p, elapsed, fails

    @staticmethod
    def _pool(
        t: Tally, w: float, fails: list[Fail], ok: float, ok_time: float, pool: float
    ) -> None:
        """Connection time: from getting the connection to the end of the call."""
        held = ok * (ok_time - pool) + sum(
            f[0] * max(0.0, f[4] - pool) for f in fails if f[2] != "PoolTimeout"
        )
        t.pool_hold += w * held


__all__ = ["CallModel", "Cond", "Fail", "FailKey", "Profile", "Tally"]
