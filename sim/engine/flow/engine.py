"""The flow engine: traffic as per-time-step flows over the same topology and component state.

Every ``dt`` seconds (a SimPy process, so faults, actions, red herrings, paging and the
responder's clock run exactly as with the request engine) it

1. reads each component's live state and last step's load into conditions — who is in
   rotation, who refuses, what fails, how long queues and pool waits are
   (:mod:`sim.engine.flow.queues`) — and walks each endpoint's call tree once per new set
   of conditions (:mod:`sim.engine.flow.calls`);
2. moves the expected sessions through the funnel (:mod:`sim.engine.flow.funnel`) and
   draws this step's counts from them: requests and their outcomes per endpoint, orders,
   failed checkouts, shoppers giving up (who then complain, as with the request engine);
3. adds up load per component and pool for the next step, and what circuit breakers see.

At each window's end the expected per-call figures become the same metric rows, error
counts and log lines the request engine writes, so monitors, responders, scoring and
reports run unchanged. What it does not model is written down in docs/engines.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import simpy

from sim.engine.common.base import EngineBase
from sim.engine.common.calltree import Frame, Node
from sim.engine.common.servers import OPEN, CircuitBreaker, Gate, Instance, Runtime
from sim.engine.common.shoppers import Persona, make_personas, start_hour
from sim.engine.common.streams import Streams, stream
from sim.engine.flow.calls import CallModel
from sim.engine.flow.funnel import Funnel
from sim.engine.flow.metrics import DenseWindow
from sim.engine.flow.profiles import Compiled
from sim.engine.flow.queues import Backlog, Classes, Cond, Wait, component_cond, cond_key
from sim.engine.flow.shoppers import FlowCounters, FlowShoppers
from sim.faults.registry import PER_INSTANCE, PER_REGION, SOME_INSTANCES
from sim.model.topology import Topology
from sim.model.world import World
from sim.scenario.schema import Scenario
from sim.telemetry.metrics import OK

STEPS_PER_WINDOW = 2  # the default step is half a metrics window
DAMPING = 0.5  # share of the previous estimate kept when traffic and conditions settle
SETTLE = 8  # at most this many rounds of settling per step
# Below this utilisation everywhere (and with nothing queued) conditions are recomputed only
# when state changes or some component's traffic grows by QUIET_BAND: at 0.4 × 1.2 nothing
# reaches the utilisation where queueing starts to count (flow_queues.QUIET).
QUIET_UTIL, QUIET_BAND = 0.4, 1.2
Traffic = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def flow_lacks(scenario: Scenario) -> list[str]:
    """The mechanisms ``scenario`` uses that the flow engine does not model (empty: it can
    run it). A scenario that needs one runs on the request engine."""
    lacks = [
        f"the data tier of {name} (lock queues, migrations as work, sequences, replicas, "
        "crash recovery)"
        for name in scenario.databases
    ]
    scaled = [name for name, c in scenario.components.items() if c.autoscaling is not None]
    if scaled:
        lacks.append(f"autoscaling of {', '.join(scaled)} (instances launched at run time)")
    if scenario.capacity is not None:
        lacks.append("the account's capacity (instances launched at run time)")
    topology = Topology(scenario)
    cached = sorted(
        {
            call.cached_by
            for endpoint in scenario.endpoints
            for _, call in topology.walk(endpoint)
            if call.cached_by is not None
        }
    )
    if cached:
        lacks.append(f"caches that warm as misses are answered ({', '.join(cached)})")
    links = [n for n, c in scenario.components.items() if c.kind == "link"]
    if links:
        lacks.append(f"links that saturate ({', '.join(links)}: loss and delay from utilisation)")
    # its series and effects are a component's, not each instance's
    faults = [*scenario.faults, *(c.fault for c in scenario.consequences)]
    for fault in faults:
        what = PER_INSTANCE.get(fault.type)
        if what is not None:
            lacks.append(f"{what} ({getattr(fault, 'target', '?')}: per instance)")
        what = PER_REGION.get(fault.type)
        if what is not None:
            region = getattr(fault, "region", "?")
            lacks.append(f"{what} ({region}: each shopper's region at the edge)")
    timed = [n for n, c in scenario.components.items() if c.health_check.timeout is not None]
    if timed:
        # its queues are the component's, not each instance's: the instances would all fail
        # their checks at once (measured: 20 % more failed checkouts than the request engine)
        lacks.append(f"health checks that time out behind an instance's queue ({', '.join(timed)})")
    some = sorted(
        f.id
        for f in faults
        if f.type in SOME_INSTANCES and getattr(f, "instances", None) is not None
    )
    if some:
        lacks.append(f"faults on some instances only ({', '.join(some)})")
    outlier = [n for n, c in scenario.components.items() if c.health_check.outlier is not None]
    if outlier:
        # it counts no answers per instance
        lacks.append(f"passive outlier ejection ({', '.join(outlier)}: per instance)")
    sharded = [n for n, c in scenario.components.items() if c.balancing == "shard"]
    if sharded:
        # its shares are the component's: it cannot keep a shopper's calls on one instance
        lacks.append(f"shards ({', '.join(sharded)}: each shopper's calls on one instance)")
    staged = sorted(c.id for c in scenario.changes if c.rollout is not None)
    if staged:
        # its service and error rates are the component's: it cannot slow some instances only
        lacks.append(f"changes on some instances only (the staged rollout of {', '.join(staged)})")
    return lacks


class FlowEngine(EngineBase):
    """Simulates traffic as expected flows per time step, drawing the counts it reports."""

    name = "flow"

    def __init__(
        self,
        env: simpy.Environment,
        world: World,
        seed: int,
        personas: list[Persona] | None = None,
        streams: Streams | None = None,
        steps_per_window: int = STEPS_PER_WINDOW,
    ) -> None:
        super().__init__(env, world, seed, streams)
        scenario = world.scenario
        self.dt = scenario.window / steps_per_window
        self.step_no = 0
        self.rng = np.random.default_rng(stream(seed, "flow-engine").getrandbits(64))
        self.draw = self.streams("flow")
        self.shoppers = FlowShoppers(
            scenario.traffic,
            personas if personas is not None else make_personas(seed),
            self.streams("shoppers"),
            start_hour(scenario.clock_start),
        )
        self.flow = FlowCounters()
        traffic = scenario.traffic
        self.funnel = Funnel(traffic, self.dt)
        self.represents = traffic.represents
        self.last = len(traffic.funnel) - 1
        self.order_value = traffic.order_value
        self.comp_index = {name: i for i, name in enumerate(self.runtimes)}
        self.pool_index: dict[Gate, int] = {g: i for i, g in enumerate(self.pools.values())}
        self.breaker_index: dict[CircuitBreaker, int] = {
            b: i for i, b in enumerate(self.breakers.values())
        }
        self.dense = DenseWindow(
            [rt.series for rt in self.runtimes.values()] + list(self.endpoint_series.values())
        )
        self.conds = {name: Cond() for name in self.runtimes}
        self.backlogs = {name: Backlog() for name in self.runtimes}
        self.pool_backlogs = {g: Backlog() for g in self.pool_index}
        self.pool_wait: dict[Gate, Wait] = {g: Wait() for g in self.pool_index}
        # Last step's traffic per second (rows as in Compiled.comp and Compiled.pool).
        self.comp = np.zeros((4, len(self.comp_index)))
        self.pool = np.zeros((4, len(self.pool_index)))
        self.cache: dict[tuple[Any, ...], dict[str, Compiled]] = {}
        self.stacks: dict[tuple[int, ...], list[tuple[np.ndarray, tuple[int, ...]]]] = {}
        self.made = 0
        self.quiet: tuple[tuple[Any, ...], np.ndarray] | None = None
        self.current: dict[str, Compiled] = {}
        self.parents: dict[Node, Node] = {}
        for root in self.roots.values():
            for child, parent in self._walk(root):
                self.parents[child] = parent
        self.node_index: dict[Node, int] = {}
        for root in self.roots.values():
            self.node_index[root] = len(self.node_index)
        for node in self.parents:
            self.node_index[node] = len(self.node_index)
        self.comp_nodes: dict[str, list[int]] = {name: [] for name in self.runtimes}
        self.pool_nodes: dict[Gate, list[int]] = {}
        for node, i in self.node_index.items():
            self.comp_nodes[node.comp.name].append(i)
            if node.pool is not None:
                self.pool_nodes.setdefault(node.pool, []).append(i)
        self.node = np.zeros((4, len(self.node_index)))
        self.pnode = np.zeros((4, len(self.node_index)))
        self.pool_callee: dict[Gate, str] = {}
        unpooled: set[str] = {root.comp.name for root in self.roots.values()}
        for node in self.parents:
            if node.pool is None:
                unpooled.add(node.comp.name)
            else:
                self.pool_callee[node.pool] = node.comp.name
        self.pooled = set(self.pool_callee.values()) - unpooled
        # What each endpoint's profile depends on: the conditions of the components and pools
        # in its call tree (their places in _conditions' keys) and its breakers. A profile is
        # reused while those are unchanged, whatever happens elsewhere: an overloaded
        # database recompiles the endpoints that reach it, not the home page.
        n_comps = len(self.comp_index)
        self.depends: dict[str, tuple[list[int], frozenset[CircuitBreaker]]] = {}
        for ep, root in self.roots.items():
            places: set[int] = set()
            breakers: set[CircuitBreaker] = set()
            for node in (root, *(child for child, _ in self._walk(root))):
                places.add(self.comp_index[node.comp.name])
                if node.pool is not None:
                    places.add(n_comps + self.pool_index[node.pool])
                if node.breaker is not None:
                    breakers.add(node.breaker)
            self.depends[ep] = (sorted(places), frozenset(breakers))
        self.profiles: dict[str, dict[tuple[Any, ...], Compiled]] = {ep: {} for ep in self.roots}
        # This window's expected requests per (funnel step, profile), for the per-call rows.
        self.window_calls: dict[tuple[int, int], tuple[Compiled, float]] = {}
        self.probe_calls = self.metrics.get("synthetic", "probe-calls")
        env.process(self._steps())
        self.start_processes()

    def _walk(self, node: Node) -> Iterator[tuple[Node, Node]]:
        """(node, its parent) for every node under ``node`` in its call tree, depth first."""
        for child in node.children:
            yield child, node
            yield from self._walk(child)

    # -- the step ------------------------------------------------------------------------
    def _steps(self) -> Any:
        window = self.metrics.window
        while True:
            now = self.env.now
            if now - self.window_start >= window - 1e-9:
                self.close_window()
            self.step(now)
            self.step_no += 1
            yield self.env.timeout(self.dt)

    def step(self, now: float) -> None:
        """Move this step's traffic: conditions, funnel, draws, loads, breakers."""
        dt = self.dt
        arrivals = self.shoppers.rate(now + dt / 2.0) * dt
        due = self.funnel.take(self.step_no, arrivals)
        n = due.sum(axis=1)
        # Conditions and traffic feed each other: settle them together (damped), from last
        # step's traffic, until the conditions stop changing (at once when nothing queues).
        traffic = (self.comp, self.pool, self.node, self.pnode)
        if self._quiet(self.comp):
            profiles = [self.current[ep] for ep in self.step_endpoints]
            traffic = self._traffic(profiles, n, traffic)
        else:
            seen: tuple[Any, ...] | None = None
            for _ in range(SETTLE):
                key = self._conditions(*traffic)
                profiles = [self.current[ep] for ep in self.step_endpoints]
                traffic = self._traffic(profiles, n, traffic)
                if key == seen:
                    break
                seen = key
            for backlog in (*self.backlogs.values(), *self.pool_backlogs.values()):
                backlog.commit()
            self._note_quiet(traffic[0])
        self.comp, self.pool, self.node, self.pnode = traffic
        p_ok = np.array([p.ok for p in profiles])
        _, leaving = self.funnel.move(self.step_no, due, p_ok)
        self._draw(now, arrivals, n, leaving, profiles)
        br_calls = np.zeros(len(self.breaker_index))
        br_fails = np.zeros(len(self.breaker_index))
        for k, prof in enumerate(profiles):
            nk = n[k]
            if nk <= 0:
                continue
            br_calls += prof.br_calls * nk
            br_fails += prof.br_fails * nk
            key_k = (k, prof.serial)
            held = self.window_calls.get(key_k)
            self.window_calls[key_k] = (prof, nk + (held[1] if held else 0.0))
        self._breakers(now, br_calls, br_fails)

    def _traffic(self, profiles: list[Compiled], n: np.ndarray, traffic: Traffic) -> Traffic:
        """This step's traffic per second, damped from the estimate ``traffic``.

        (per component, per pool, per tree node at its component, per tree node at its pool)
        × (arrivals, served, slot or connection time, deadline left on arrival).
        """
        stacks = self._stacks(profiles)
        new = [(n @ flat).reshape(shape) for flat, shape in stacks]
        dt = self.dt
        a = DAMPING
        c, p, nd, pn = (
            a * old + (1.0 - a) * fresh / dt for old, fresh in zip(traffic, new, strict=True)
        )
        return c, p, nd, pn

    def _stacks(self, profiles: list[Compiled]) -> list[tuple[np.ndarray, tuple[int, ...]]]:
        """Each funnel step's per-request traffic, stacked flat (cached per set of profiles)."""
        key = tuple(p.serial for p in profiles)
        stacks = self.stacks.get(key)
        if stacks is None:
            if len(self.stacks) > 256:
                self.stacks.clear()
            stacks = self.stacks[key] = [
                (np.stack([getattr(p, part).ravel() for p in profiles]), getattr(p0, part).shape)
                for part in ("comp", "pool", "node", "pnode")
                for p0 in profiles[:1]
            ]
        return stacks

    def _signature(self) -> tuple[Any, ...]:
        """Changes to what conditions are made of, apart from traffic."""
        return (
            tuple(rt.state.changes for rt in self.runtimes.values()),
            tuple(rt.rotation for rt in self.runtimes.values()),
            tuple(b.state for b in self.breaker_index),
        )

    def _note_quiet(self, comp: np.ndarray) -> None:
        """Remember when nothing queues anywhere with room to spare: the next steps may skip."""
        quiet = all(b.util <= QUIET_UTIL and not b.length for b in self.backlogs.values())
        quiet = quiet and all(
            b.util <= QUIET_UTIL and not b.length for b in self.pool_backlogs.values()
        )
        self.quiet = (self._signature(), comp[0].copy()) if quiet else None

    def _quiet(self, comp: np.ndarray) -> bool:
        """Whether the current profiles still hold: state unchanged, traffic within the band."""
        if self.quiet is None:
            return False
        signature, offered = self.quiet
        return bool(
            signature == self._signature() and np.all(comp[0] <= offered * QUIET_BAND + 1e-9)
        )

    def _classes(self, table: np.ndarray, nodes: list[int]) -> Classes:
        """The callers of one queue apart: (arrivals/s, deadline left, slot time) per node."""
        out = []
        for i in nodes:
            offered, served, held, budget = table[:, i]
            if offered > 0 and served > 0:
                out.append((float(offered), float(budget / offered), float(held / served)))
        return out

    def _conditions(
        self, comp: np.ndarray, pool: np.ndarray, node: np.ndarray, pnode: np.ndarray
    ) -> tuple[Any, ...]:
        """Conditions from live state and traffic; the profiles for them (cached by key)."""
        keys = []
        offered, served, held, budget = comp
        p_offered, p_served, p_held, p_budget = pool
        # A component called only through connection pools cannot have more calls waiting
        # than the connections in use (connection-seconds per second), less its slots.
        bounds = dict.fromkeys(self.pooled, 0.0)
        for gate, j in self.pool_index.items():
            callee = self.pool_callee[gate]
            if callee in bounds:
                bounds[callee] += min(float(gate.capacity), p_held[j])
        for name, rt in self.runtimes.items():
            i = self.comp_index[name]
            cond = component_cond(
                rt,
                self.backlogs[name],
                offered[i],
                served[i],
                held[i] / served[i] if served[i] > 0 else 0.0,
                budget[i] / offered[i] if offered[i] > 0 else 0.0,
                self.conds[name],
                bounds.get(name, math.inf),
                self._classes(node, self.comp_nodes[name]),
                self.dt,
            )
            keys.append(cond_key(cond))
        for gate, j in self.pool_index.items():
            wait = self.pool_backlogs[gate].step(
                p_offered[j],
                p_served[j],
                p_held[j] / p_served[j] if p_served[j] > 0 else 0.0,
                gate.capacity,
                math.inf,
                p_budget[j] / p_offered[j] if p_offered[j] > 0 else 0.0,
                self.pool_wait[gate],
                per=gate.capacity,
                classes=self._classes(pnode, self.pool_nodes[gate]),
                dt=self.dt,
            )
            keys.append(wait.key())
        open_ = frozenset(b for b in self.breaker_index if b.state == OPEN)
        key = (tuple(keys), tuple(sorted(self.breaker_index[b] for b in open_)))
        compiled = self.cache.get(key)
        if compiled is None:
            model = None
            compiled = {}
            for ep, root in self.roots.items():
                places, breakers = self.depends[ep]
                mine = (
                    tuple(keys[i] for i in places),
                    tuple(sorted(self.breaker_index[b] for b in open_ & breakers)),
                )
                profile = self.profiles[ep].get(mine)
                if profile is None:
                    if model is None:
                        model = CallModel(self.conds, self.pool_wait, open_)
                    profile = Compiled(
                        model.profile(root, self.client_timeout), self, ep, self.made
                    )
                    self.profiles[ep][mine] = profile
                    self.made += 1
                compiled[ep] = profile
            self.cache[key] = compiled
        self.current = compiled
        return key

    def _draw(
        self,
        now: float,
        arrivals: float,
        n: np.ndarray,
        leaving: np.ndarray,
        profiles: list[Compiled],
    ) -> None:
        """This step's counts, drawn from the expected flows: requests, orders, give-ups."""
        rng = self.rng
        b = self.metrics.business
        sessions = int(rng.poisson(arrivals))
        b.sessions += sessions
        for k, prof in enumerate(profiles):
            nk = n[k]
            if nk <= 0:
                continue
            counts = rng.poisson(nk * prof.probs)
            total = int(counts.sum())
            if not total:
                continue
            self.requests += total
            dense = self.dense
            row = dense.index[self.step_series[k]]
            failed = total - int(counts[0])
            dense.counts[row, OK] += counts[0]
            for (_, outcome, cls, msg, _), c in zip(prof.atoms[1:], counts[1:], strict=True):
                if not c:
                    continue
                dense.counts[row, outcome] += c
                assert cls is not None
                dense.errors[row, cls] = dense.errors.get((row, cls), 0.0) + int(c)
                key = (self.step_endpoints[k], cls)
                if key not in self.first_errors:
                    self.first_errors[key] = (now, msg or cls)
            if k >= self.funnel.checkout_from and counts[0]:
                # visits that ended here as the shopper meant, checkout included
                b.checkout_attempts += int(rng.binomial(counts[0], self.funnel.ends_here[k]))
            if k == self.last and counts[0]:
                b.orders += int(counts[0])
                b.revenue += self._values(int(counts[0]))
            if failed and leaving[k] > 0:
                share = min(1.0, leaving[k] / max(nk * (1.0 - prof.ok), 1e-12))
                gone = int(rng.binomial(failed, share))
                if gone:
                    self._gave_up(now, k, gone, prof, counts)

    def _values(self, count: int) -> float:
        dist = self.order_value
        if dist.dist == "constant":
            return dist.mean * count
        s = math.sqrt(math.log1p(dist.cv**2))
        mu = math.log(dist.mean) - s * s / 2.0
        return float(self.rng.lognormal(mu, s, count).sum())

    def _gave_up(self, now: float, k: int, gone: int, prof: Compiled, counts: np.ndarray) -> None:
        b = self.metrics.business
        b.failed_sessions += gone
        # shoppers who wanted to check out and could not, wherever they failed; those who
        # meant to pay are among them
        f = self.funnel
        if f.checkout_from < f.k:
            wanted = int(self.rng.binomial(gone, f.meant_to_check_out[k]))
            b.checkout_attempts += wanted
            b.checkout_failures += wanted
            share = min(1.0, f.meant_to_pay[k] / max(f.meant_to_check_out[k], 1e-12))
            pay = int(self.rng.binomial(wanted, share)) if wanted else 0
        else:
            pay = int(self.rng.binomial(gone, f.meant_to_pay[k]))
        values = [0.0] * gone
        if pay:
            lost = self._values(pay)
            b.lost_revenue += lost
            values[:pay] = [lost / pay] * pay
        fails = counts[1:].astype(float)
        cum = np.cumsum(fails / fails.sum())
        for i in range(gone):
            atom = prof.atoms[1 + min(int(np.searchsorted(cum, self.draw.random())), len(cum) - 1)]
            self.shoppers.gave_up(now, k, atom[2], atom[3], values[i])

    def _breakers(self, now: float, calls: np.ndarray, fails: np.ndarray) -> None:
        """Circuit breakers see this step's recorded calls and failures."""
        for br, i in self.breaker_index.items():
            if br.state == OPEN:
                if now - br.opened_at >= br.open_for:
                    # The half-open trial: one call, failing as often as the callee does now.
                    ok = self.draw.random() >= self._trial_failure(br)
                    br._set(OPEN if not ok else 0, now)
                continue
            if now - br.w_start >= br.window:
                br.w_start, br.calls, br.fails = now, 0, 0
            br.calls += calls[i]
            br.fails += fails[i]
            if br.calls >= br.min_calls and br.fails >= br.ratio * br.calls and br.fails > 0:
                br._set(OPEN, now)

    def _trial_failure(self, br: CircuitBreaker) -> float:
        node = next(n for n in self.parents if n.breaker is br)
        model = CallModel(self.conds, self.pool_wait, frozenset())
        ok, _, _ = model.attempt(node, node.timeout, 1.0, 0)
        return 1.0 - ok

    # -- probes --------------------------------------------------------------------------
    def probe(self, endpoint: str, region: str) -> None:
        """One synthetic check: an outcome drawn from the endpoint's current profile."""
        self.requests += 1
        prof = self.current.get(endpoint)
        if prof is None:
            self._conditions(self.comp, self.pool, self.node, self.pnode)
            prof = self.current[endpoint]
        i = min(int(np.searchsorted(prof.cum, self.draw.random())), len(prof.atoms) - 1)
        _, outcome, cls, _, dur = prof.atoms[i]
        self.metrics.get("probe", f"{endpoint}@{region}").record(outcome, dur, cls)
        self.probe_calls.record(outcome, dur, cls)

    # -- windows -------------------------------------------------------------------------
    def close_window(self) -> None:
        """Turn the window's expected per-call figures into rows and log lines, then close."""
        start, now = self.window_start, self.env.now
        dense = self.dense
        for prof, nk in self.window_calls.values():
            dense.add(prof.share, nk)
            self.flow.fallbacks += self._round(prof.fallbacks * nk)
            self._log(prof, nk, start, now)
        self.window_calls = {}
        ready = dense.close(start, self._gauge, self.rng)
        self.metrics.close_window(start, self._gauge, ready)
        self.window_start = now

    def _round(self, x: float) -> int:
        """``x`` rounded up or down at random, so expected counts add up over windows."""
        whole = math.floor(x)
        return whole + (1 if self.draw.random() < x - whole else 0)

    def check_wait(self, rt: Runtime, inst: Instance) -> float:
        """Checks with a timeout are refused (:func:`flow_lacks`): a check waits for nothing."""
        return 0.0

    def _gauge(self, component: str) -> tuple[int, int]:
        i = self.comp_index[component]
        rt = self.runtimes[component]
        slots = rt.capacity() * len(rt.available)
        return min(round(self.comp[2, i]), slots), round(self.backlogs[component].length)

    # -- logs ----------------------------------------------------------------------------
    def _log(self, prof: Compiled, nk: float, start: float, end: float) -> None:
        """The window's failed calls, as the services would log them (counts, not each line)."""
        logger = self.flow.observer
        if logger is None or not prof.logs:
            return
        span = max(end - start, 1e-9)
        for node, key, m in prof.logs:
            count = self._round(m * nk)
            if not count:
                continue
            outcome, cls, msg, d, attempt, served, child, handled = key
            t = start + self.draw.random() * span
            frame = self._frame(node, t, d, attempt, count)
            if served:
                frame.svc_end = math.inf
            if child >= 0:
                frame.child = child
            logger.failed(frame, outcome, cls, msg, child < 0, at=t, handled=handled)

    def _frame(self, node: Node, t: float, d: float, attempt: int, count: int) -> Frame:
        """A frame standing for ``count`` failed calls of ``node``, with its callers above it."""
        req = _Req(self.requests + int(self.draw.random() * 1e6), count * self.represents)
        chain = [node]
        while chain[-1] in self.parents:
            chain.append(self.parents[chain[-1]])
        parent: Frame | None = None
        frame: Frame | None = None
        for i, n in enumerate(reversed(chain)):
            frame = Frame(n, parent, req, t, attempt if i == len(chain) - 1 else 0, t - d)
            avail = n.comp.available
            frame.inst = avail[int(self.draw.random() * len(avail))] if avail else None
            if parent is not None:
                parent.child = parent.node.children.index(n)
            parent = frame
        assert frame is not None
        return frame


class _Req:
    """The request a logged frame belongs to (its log lines weigh ``log_weight``)."""

    __slots__ = ("log_weight", "rid")

    def __init__(self, rid: int, weight: int) -> None:
        self.rid = rid
        self.log_weight = weight


__all__ = ["FlowEngine", "flow_lacks"]
