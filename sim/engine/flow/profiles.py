"""A call-model profile compiled into what the flow engine adds up per request of an endpoint.

:class:`~sim.engine.flow.calls.CallModel` walks an endpoint's call tree once per set of
conditions; :class:`Compiled` turns the walk into arrays — traffic per component, pool and
tree node, what circuit breakers record, the metrics share of every series, the failures to
log — so that a step costs a few array products, not a walk.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import numpy as np

from sim.engine.common.calltree import Node
from sim.engine.common.servers import CircuitBreaker, Gate
from sim.engine.flow.calls import FailKey, Profile
from sim.engine.flow.metrics import DenseWindow, Share
from sim.telemetry.metrics import OK, TIMEOUT, Series


class Indexed(Protocol):
    """Where the flow engine keeps each component, pool, breaker, tree node and series."""

    @property
    def comp_index(self) -> Mapping[str, int]: ...
    @property
    def pool_index(self) -> Mapping[Gate, int]: ...
    @property
    def breaker_index(self) -> Mapping[CircuitBreaker, int]: ...
    @property
    def node_index(self) -> Mapping[Node, int]: ...
    @property
    def dense(self) -> DenseWindow: ...
    @property
    def endpoint_series(self) -> Mapping[str, Series]: ...


class Compiled:
    """A :class:`Profile` turned into what the engine adds up per request of its endpoint."""

    def __init__(self, profile: Profile, engine: Indexed, endpoint: str, serial: int) -> None:
        self.serial = serial  # the order profiles were made in (ids would not be repeatable)
        self.ok = profile.ok
        # Root outcomes: OK first, then failures merged by (outcome, class, message).
        merged: dict[tuple[int, str, str], list[float]] = {}
        for q, outcome, cls, msg, dur, _ in profile.fails:
            slot = merged.setdefault((outcome, cls, msg), [0.0, 0.0])
            slot[0] += q
            slot[1] += q * dur
        self.atoms: list[tuple[float, int, str | None, str | None, float]] = [
            (profile.ok, OK, None, None, profile.ok_latency)
        ]
        for (outcome, cls, msg), (q, qd) in sorted(merged.items(), key=lambda kv: -kv[1][0]):
            self.atoms.append((q, outcome, cls, msg, qd / q if q > 0 else 0.0))
        self.probs = np.array([a[0] for a in self.atoms])
        self.probs = self.probs / self.probs.sum()
        self.cum = list(np.cumsum(self.probs))
        comps, pools, breakers = engine.comp_index, engine.pool_index, engine.breaker_index
        # Per request of the endpoint, for each component (rows: calls reaching its queues,
        # calls served, slot-seconds, deadline-seconds left on arrival) and each pool (rows:
        # asking for a connection, getting one, connection-seconds, deadline-seconds).
        self.comp = np.zeros((4, len(comps)))
        self.pool = np.zeros((4, len(pools)))
        # The same per node of the tree, for queues that tell their callers apart.
        nodes = engine.node_index
        self.node = np.zeros((4, len(nodes)))
        self.pnode = np.zeros((4, len(nodes)))
        self.br_calls = np.zeros(len(breakers))
        self.br_fails = np.zeros(len(breakers))
        self.fallbacks = 0.0
        dense = engine.dense
        self.share = share = Share(len(dense.series))
        self.logs: list[tuple[Node, FailKey, float]] = []
        for node, t in profile.tallies.items():
            i = comps[node.comp.name]
            self.comp[:, i] += (t.offered, t.served, t.hold, t.budget)
            n_i = nodes[node]
            self.node[:, n_i] = (t.offered, t.served, t.hold, t.budget)
            if node.pool is not None:
                j = pools[node.pool]
                self.pool[:, j] += (t.pool_offered, t.pool_calls, t.pool_hold, t.pool_budget)
                self.pnode[:, n_i] = (t.pool_offered, t.pool_calls, t.pool_hold, t.pool_budget)
            if node.breaker is not None:
                b = breakers[node.breaker]
                self.br_calls[b] += t.br_calls
                self.br_fails[b] += t.br_fails
            self.fallbacks += t.fallbacks
            row = dense.index[node.series]
            share.counts[row] += t.counts
            share.expect[row] += sum(t.counts)
            share.wait[row] += (t.wait, t.served)
            share.add_latencies(row, t.lat)
            for cls, m in t.errors.items():
                share.errors[row, cls] = share.errors.get((row, cls), 0.0) + m
            for key, m in t.fails.items():
                self.logs.append((node, key, m))
        # The endpoint's own row: latencies expected, counts drawn (in FlowEngine._draw).
        row = dense.index[engine.endpoint_series[endpoint]]
        share.expect[row] += 1.0
        lat: dict[tuple[float, bool], float] = {}
        for q, outcome, _, _, dur in self.atoms:
            lat[dur, outcome != TIMEOUT] = lat.get((dur, outcome != TIMEOUT), 0.0) + q
        share.add_latencies(row, lat)
        share.freeze()


__all__ = ["Compiled", "Indexed"]
