"""Compiled call trees, and the frame: one attempt of one call, as observers see it.

A tree holds each endpoint's calls, with the settings of the dependency into each.

Both engines walk the same trees: the request engine one request at a time
(:mod:`sim.engine.request.calls`), the flow engine once per set of conditions
(:mod:`sim.engine.flow.calls`).
"""

from __future__ import annotations

from typing import Any

from sim.engine.common.datacall import DataCall
from sim.engine.common.servers import CircuitBreaker, Gate, Instance, Runtime
from sim.model.cache import CacheState
from sim.model.data.messages import DbError
from sim.telemetry.metrics import Series

INF = float("inf")


class Cached:
    """A call with a cache in front of it: made only on a miss (``hit_ratio`` × the cache's
    warmth is the chance of a hit); each miss answered stores ``represents`` real keys."""

    __slots__ = ("cache", "hit_ratio", "represents")

    def __init__(self, cache: CacheState, hit_ratio: float, represents: int) -> None:
        self.cache = cache
        self.hit_ratio = hit_ratio
        self.represents = represents


class Node:
    """One call of a compiled call tree, with the dependency settings of the edge into it."""

    __slots__ = (
        "attempts",
        "backoff",
        "breaker",
        "cached",
        "children",
        "comp",
        "data",
        "jitter",
        "label",
        "mult",
        "plain",
        "pool",
        "query",
        "required",
        "series",
        "tables",
        "timeout",
    )

    def __init__(
        self,
        comp: Runtime,
        children: tuple[Node, ...],
        tables: tuple[str, ...],
        label: str,
        timeout: float = INF,
        attempts: int = 0,
        backoff: float = 0.0,
        mult: float = 1.0,
        jitter: float = 0.0,
        required: bool = True,
        pool: Gate | None = None,
        breaker: CircuitBreaker | None = None,
        query: str | None = None,
        series: Series | None = None,
        data: DataCall | None = None,
        cached: Cached | None = None,
    ) -> None:
        self.comp, self.children, self.tables, self.label = comp, children, tables, label
        self.cached = cached  # set for a call with a cache in front of it
        self.data = data  # set for calls into a database with a data tier
        self.query = query
        self.series = comp.series if series is None else series  # where its calls are counted
        self.timeout, self.attempts, self.backoff = timeout, attempts, backoff
        self.mult, self.jitter, self.required = mult, jitter, required
        self.pool, self.breaker = pool, breaker
        self.plain = pool is None and breaker is None  # no gate before the instance


class Frame:
    """One attempt of one call."""

    __slots__ = (
        "attempt",
        "child",
        "deadline",
        "err",  # set when a call into a data tier starts its service (see DataCall.service)
        "holding",
        "inst",
        "node",
        "parent",
        "pool",
        "req",
        "state",
        "svc_end",
        "t0",
        "tq",
    )

    def __init__(
        self, node: Node, parent: Frame | None, req: Any, deadline: float, attempt: int, now: float
    ) -> None:
        self.node = node
        self.parent = parent
        self.req = req
        self.deadline = deadline
        self.attempt = attempt
        self.t0 = now
        self.tq = now
        self.state = 0
        self.child = 0
        self.holding = False
        self.inst: Instance | None = None
        self.pool: Gate | None = None
        self.svc_end = 0.0
        self.err: DbError | None  # assigned in service, read only for data-tier calls


__all__ = ["INF", "Cached", "Frame", "Node"]
