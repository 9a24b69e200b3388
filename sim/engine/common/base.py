"""What both engines share: runtimes, compiled call trees, health checks, probes and windows.

An engine reads component state and never knows which fault (if any) changed it. The request
engine (:mod:`sim.engine.request.engine`) walks every request through the call trees; the
flow engine (:mod:`sim.engine.flow.engine`) moves per-time-step flows through the same trees.
Both build the same runtimes, pools, breakers and metrics here, so telemetry, responders and
scoring cannot tell them apart except by their figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from heapq import heappop
from typing import Any

import simpy
from simpy.events import URGENT

from sim.engine.common.calltree import Cached, Node
from sim.engine.common.datacall import DataCall
from sim.engine.common.servers import CircuitBreaker, Gate, Instance, Runtime
from sim.engine.common.streams import Streams, lognormal_parts, sampler
from sim.model.data import DatabaseState
from sim.model.topology import as_call
from sim.model.world import World
from sim.scenario.schema import Call, Dependency
from sim.telemetry.metrics import ERROR, Metrics, Series

PROBE_TIMEOUT = 10.0


# A request that meets a dark edge (a region_outage) fails with this class, at once.
DARK_CLASS = "ConnectError"
GOLDEN = 0.6180339887498949  # spreads shoppers' ids evenly over [0, 1): who moves first


class EngineBase:
    """Runtimes, call trees, metrics and the periodic processes every engine runs."""

    name = "base"

    def __init__(
        self, env: simpy.Environment, world: World, seed: int, streams: Streams | None = None
    ) -> None:
        self.env = env
        self.world = world
        self.seed = seed
        self.streams = Streams(seed) if streams is None else streams
        scenario = world.scenario
        self.metrics = Metrics(scenario.window, scenario.traffic.represents)
        self.requests = 0
        self.first_errors: dict[tuple[str, str], tuple[float, str]] = {}
        rngs = self.streams
        self.runtimes = {
            name: Runtime(
                name,
                spec,
                world.states[name],
                sampler(spec.service_time, rngs(f"service/{name}")),
                self.metrics.get("component", name),
            )
            for name, spec in scenario.components.items()
        }
        for name, db in scenario.databases.items():
            self.runtimes[name].dialect = db.dialect
        for name, rt in self.runtimes.items():
            parts = lognormal_parts(rt.spec.service_time, rngs(f"service/{name}"))
            if parts is not None:
                rt.rng, rt.mu, rt.sigma = parts
            rt.state.meter = rt.meter
            rt.state.resized.append(rt.resize)
        self.pools: dict[tuple[str, str], Gate] = {}
        self.breakers: dict[tuple[str, str], CircuitBreaker] = {}
        self.roots = {name: self._compile(ep.call, None) for name, ep in scenario.endpoints.items()}
        # Probes walk the same components, but their calls are counted apart: one probe is one
        # real request, while a component's series scales every call by `represents`.
        probe_calls = self.metrics.get("synthetic", "probe-calls")
        self.probe_roots = {
            name: self._compile(ep.call, None, probe_calls)
            for name, ep in scenario.endpoints.items()
        }
        self.endpoint_series: dict[str, Series] = {
            name: self.metrics.get("endpoint", name) for name in scenario.endpoints
        }
        funnel = scenario.traffic.funnel
        self.step_roots = [self.roots[s.endpoint] for s in funnel]
        self.step_series = [self.endpoint_series[s.endpoint] for s in funnel]
        self.step_endpoints = [s.endpoint for s in funnel]
        self.client_timeout = scenario.traffic.client_timeout
        self.window_start = 0.0
        # regions whose edge is dark (the world's, read on every request while any is)
        self.dark = world.dark_regions
        self.dns_ttl = scenario.traffic.dns_ttl
        self.edge = next(iter(scenario.endpoints.values())).call.component

    def in_the_dark(self, region: str, key: int, shopper: bool = True) -> bool:
        """Whether a request from ``region`` (of the shopper or check ``key``) meets a dark
        edge: the region is dark and this shopper's resolver has not yet moved it to another
        region (shoppers move evenly over the DNS TTL from the failover on; which ones first
        is fixed by ``key``). A shopper's is counted on the region's ``edge`` series."""
        if region not in self.dark:
            return False
        since = self.dark[region]
        if since is not None and (key * GOLDEN) % 1.0 < (self.env._now - since) / self.dns_ttl:
            return False
        if shopper:
            self.metrics.get("edge", region).record(ERROR, 0.0, DARK_CLASS)
        return True

    def dark_message(self, region: str) -> str:
        return f"connect to {self.edge} in {region}: no route to host"

    def start_processes(self) -> None:
        """Health checks, probes and (unless the engine closes its own) metrics windows."""
        scenario = self.world.scenario
        env = self.env
        for rt in self.runtimes.values():
            if rt.spec.kind != "third_party":
                env.process(self._health_checks(rt))
                if rt.spec.health_check.outlier is not None:
                    env.process(self._outliers(rt))
        probes = scenario.probes
        funnel = scenario.traffic.funnel
        endpoints = list(probes.endpoints) or list(
            dict.fromkeys(s.endpoint for s in funnel if not s.checkout)
        )
        regions = list(probes.regions) or sorted(scenario.traffic.regions)
        if probes.enabled:
            env.process(self._probes(endpoints, regions, probes.interval))

    # -- compile call trees --------------------------------------------------------------
    def _compile(self, call: Call, parent: str | None, series: Series | None = None) -> Node:
        """A call tree; ``series`` (probes) replaces the components' own metrics series."""
        comp = self.runtimes[call.component]
        children = tuple(self._compile(as_call(c), call.component, series) for c in call.calls)
        if parent is None:
            label = f"client → {call.component}"
            return Node(comp, children, call.tables, label, query=call.query, series=series)
        topo = self.world.topology
        dep = topo.dependency(parent, call.component)
        key = (parent, call.component)
        label = f"{parent} → {call.component}"
        if dep.pool is not None and key not in self.pools:
            size = dep.pool * topo.component(parent).replicas
            self.pools[key] = Gate(size, f"{label} pool ({size})")
        if dep.breaker is not None and key not in self.breakers:
            self.breakers[key] = CircuitBreaker(dep.breaker, label, self._breaker_changed)
        r = dep.retries
        return Node(
            comp,
            children,
            call.tables,
            label,
            dep.timeout,
            r.attempts,
            r.backoff,
            r.multiplier,
            r.jitter,
            dep.required,
            self.pools.get(key),
            self.breakers.get(key),
            call.query,
            series,
            self._data_call(call, dep),
            self._cached(call),
        )

    def _cached(self, call: Call) -> Cached | None:
        """The cache in front of a call (``cached_by``), if it declares one."""
        if call.cached_by is None:
            return None
        cache = self.world.caches[call.cached_by]
        return Cached(cache, call.hit_ratio, self.world.scenario.traffic.represents)

    def _data_call(self, call: Call, dep: Dependency) -> DataCall | None:
        """The data-tier side of a call into a database that declares one."""
        db = self.world.data.get(call.component)
        if db is None:
            return None
        access = call.access or ("write" if call.inserts else "read")
        return DataCall(
            db, access, call.tables, call.inserts, dep.lock_timeout, dep.statement_timeout
        )

    def _breaker_changed(self, label: str, state: str) -> None:
        self.world.emit(self.env.now, f"breaker.{state}", dependency=label)

    # -- probes --------------------------------------------------------------------------
    def probe(self, endpoint: str, region: str) -> None:
        """Send one synthetic check of ``endpoint`` from ``region`` (counted apart from shoppers)."""
        raise NotImplementedError

    def _probes(
        self, endpoints: list[str], regions: list[str], interval: float
    ) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(self.streams("probes").random() * interval)
        while True:
            for region in regions:
                for endpoint in endpoints:
                    self.probe(endpoint, region)
            yield self.env.timeout(interval)

    # -- health checks -------------------------------------------------------------------
    def _health_checks(self, rt: Runtime) -> Generator[simpy.Event, Any, None]:
        """The balancer's active checks of ``rt``'s instances: a check fails on an instance
        that is down — and, with a ``timeout``, on one that is hung or whose queue would keep
        the check waiting longer than that. Ejects after ``unhealthy_after`` failures in a
        row, re-admits after ``healthy_after`` passes; below ``panic_below`` of the instances
        healthy, sends to all of them."""
        hc = rt.spec.health_check
        offset = self.streams(f"health/{rt.name}").random() * hc.interval
        yield self.env.timeout(offset)
        while True:
            state = rt.state
            if state.unchecked:  # checks off: the balancer sends to every instance
                self._uncheck(rt)
                yield self.env.timeout(hc.interval)
                continue
            down = state.down
            timeout = hc.timeout
            changed = False
            for inst in rt.instances:
                failing = down[inst.i] or (
                    timeout is not None and (state.hang or self.check_wait(rt, inst) > timeout)
                )
                if failing:
                    inst.fails, inst.passes = inst.fails + 1, 0
                    if not inst.ejected and inst.fails >= hc.unhealthy_after:
                        inst.ejected = changed = True
                        why = "down" if down[inst.i] else "health check timed out"
                        self.world.emit(
                            self.env.now,
                            "instance.ejected",
                            component=rt.name,
                            instance=inst.i,
                            why=why,
                        )
                else:
                    inst.fails, inst.passes = 0, inst.passes + 1
                    if inst.ejected and inst.passes >= hc.healthy_after:
                        inst.ejected = False
                        changed = True
                        self.world.emit(
                            self.env.now, "instance.readmitted", component=rt.name, instance=inst.i
                        )
            if hc.panic_below is not None:
                healthy = sum(not i.ejected and not i.outlying for i in rt.instances)
                panic = healthy < hc.panic_below * len(rt.instances)
                if panic != rt.panic:
                    rt.panic = panic
                    changed = True
                    kind = "lb.panic" if panic else "lb.panic_over"
                    self.world.emit(
                        self.env.now,
                        kind,
                        component=rt.name,
                        healthy=healthy,
                        instances=len(rt.instances),
                    )
            if changed:
                rt.rotate()
            yield self.env.timeout(hc.interval)

    def _outliers(self, rt: Runtime) -> Generator[simpy.Event, Any, None]:
        """The balancer's passive checks of ``rt``'s instances (outlier detection by failure
        percentage). Every ``interval``: instances whose ejection is over return; then each
        instance in rotation that answered at least ``request_volume`` calls (its share of the
        component's, which the balancer spreads evenly) and failed ``failure_percentage`` of
        them or more is ejected for ``base_ejection_time`` × its ejections so far (at most
        ``max_ejection_time``) — the worst first, while no more than ``max_ejection_percent``
        of the instances (at least one) are out for their answers."""
        od = rt.spec.health_check.outlier
        assert od is not None
        represents = self.world.scenario.traffic.represents
        seen = rt.meter()[2]
        yield self.env.timeout(od.interval)
        while True:
            now = self.env.now
            changed = False
            unchecked = rt.state.unchecked
            for inst in rt.instances:
                if inst.outlying and (unchecked or now >= inst.returns_at):
                    inst.outlying, changed = False, True
                    self.world.emit(
                        now, "instance.outlier_returned", component=rt.name, instance=inst.i
                    )
            total = rt.meter()[2]
            served, seen = total - seen, total
            judged = [i for i in rt.instances if not i.ejected and not i.outlying]
            per = served / len(judged) if judged else 0.0  # calls each answered, simulated
            out = sum(i.outlying for i in rt.instances)
            room = max(1, int(od.max_ejection_percent * len(rt.instances))) - out
            if not unchecked and per * represents >= od.request_volume:
                for inst in sorted(judged, key=lambda i: -i.failed):
                    share = min(1.0, inst.failed / per)
                    if room <= 0 or share < od.failure_percentage:
                        break
                    inst.ejections += 1
                    length = min(od.base_ejection_time * inst.ejections, od.max_ejection_time)
                    inst.outlying, inst.returns_at = True, now + length
                    room -= 1
                    changed = True
                    self.world.emit(
                        now,
                        "instance.outlier_ejected",
                        component=rt.name,
                        instance=inst.i,
                        failed=round(share, 3),
                        seconds=length,
                    )
            for inst in rt.instances:
                inst.failed = 0
            if changed:
                rt.rotate()
            yield self.env.timeout(od.interval)

    def _uncheck(self, rt: Runtime) -> None:
        """Checks turned off: every ejected instance is back in rotation, panic is over."""
        changed = rt.panic
        rt.panic = False
        for inst in rt.instances:
            inst.fails = inst.passes = 0
            if inst.ejected:
                inst.ejected, changed = False, True
                self.world.emit(
                    self.env.now,
                    "instance.readmitted",
                    component=rt.name,
                    instance=inst.i,
                    why="health checks off",
                )
        if changed:
            rt.rotate()

    def check_wait(self, rt: Runtime, inst: Instance) -> float:
        """How long a health check sent to ``inst`` now would wait for a worker."""
        raise NotImplementedError

    def lock_waits(self, db: DatabaseState) -> list[DataCall]:
        """The shop's calls into database ``db`` waiting for their locks now, each holding its
        connection — what ``pg_locks`` shows as not granted. None here: an engine that models
        lock waits says which."""
        return []

    # -- windows -------------------------------------------------------------------------
    def _windows(self) -> Generator[simpy.Event, Any, None]:
        while True:
            yield self.env.timeout(self.metrics.window)
            self.close_window()

    def close_window(self) -> None:
        """Close the open window (it started at ``self.window_start``)."""
        self.metrics.close_window(self.window_start, self._gauge)
        self.window_start = self.env.now

    def _gauge(self, component: str) -> tuple[int, int]:
        return self.runtimes[component].gauge()

    def run(
        self, until: float, progress: Callable[[float], None] | None = None, steps: int = 100
    ) -> None:
        """Advance from now to ``until``, reporting progress up to ``steps`` times.

        Windows stay open across calls, so a responder may advance a minute at a time; call
        :meth:`finish` once at the end for the last, possibly partial, window.
        """
        env = self.env
        start = env.now
        if until <= start:
            return
        steps = max(1, min(steps, math.ceil((until - start) / 60.0)))
        for i in range(1, steps + 1):
            run_until(env, start + (until - start) * i / steps)
            if progress is not None:
                progress(env.now)

    def finish(self) -> None:
        """Close the last, possibly partial, window."""
        if self.env.now > self.window_start:
            self.close_window()


def run_until(env: simpy.Environment, at: float) -> None:
    """``env.run(until=at)`` with SimPy's step loop inlined: the same events, in the same
    order, without a method call and an exception handler per event. SimPy also re-queues
    its spent stop event; this does not, which changes no event's place relative to another.

    Besides SimPy's events the queue holds the request engine's timers: an entry
    ``(time, priority, id, fn, value)`` is a call of ``fn(value)``, with no event object
    (:func:`sim.engine.request.calls.wake`; a run sets one per served call). Such a queue can
    only be advanced by this function, not by ``env.run`` or ``env.step``.

    SimPy stops at an urgent event scheduled at ``at``; an entry runs first if it sorts before
    that one — earlier, or at ``at`` itself with urgent priority and an older id.
    """
    if at <= env._now:
        raise ValueError(f"until ({at}) must be greater than the current simulation time")
    stop = (at, URGENT, next(env._eid))  # where SimPy's own stop event would sit
    queue: list[Any] = env._queue
    while queue and queue[0] < stop:
        entry = heappop(queue)
        env._now = entry[0]
        if len(entry) == 5:  # a timer: fn(value)
            entry[3](entry[4])
            continue
        event = entry[3]
        callbacks, event.callbacks = event.callbacks, None
        for callback in callbacks:
            callback(event)
        if not event._ok and not hasattr(event, "_defused"):
            exc = type(event._value)(*event._value.args)  # as SimPy: crash the run
            exc.__cause__ = event._value
            raise exc
    env._now = at


__all__ = ["PROBE_TIMEOUT", "EngineBase", "run_until"]
