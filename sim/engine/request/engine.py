"""The request-level engine: every shopper request walks the call graph (SimPy, callbacks).

It reads component state and never knows which fault (if any) changed it.
"""

from __future__ import annotations

import simpy

from sim.engine.common.base import DARK_CLASS, PROBE_TIMEOUT, EngineBase
from sim.engine.common.calltree import INF, Frame
from sim.engine.common.datacall import DataCall
from sim.engine.common.servers import Instance, Runtime
from sim.engine.common.shoppers import Persona, Session, make_personas
from sim.engine.common.streams import Streams
from sim.engine.request.calls import QUEUED, Flow
from sim.engine.request.shoppers import Shoppers
from sim.model.data import DatabaseState
from sim.model.world import World
from sim.telemetry.metrics import ERROR, OK, Series


class Probe:
    """A synthetic check in flight (it stands in for a session as the request's origin)."""

    __slots__ = ("id", "rid", "series")
    log_weight = 1  # a probe is one real request, not `represents` of them

    def __init__(self, series: Series, rid: int) -> None:
        self.series = series
        self.rid = rid
        self.id = rid  # a sharded component's key, as a session's id is


class RequestEngine(EngineBase):
    """Simulates every shopper request through the call graph (SimPy, callback style)."""

    name = "request"

    def __init__(
        self,
        env: simpy.Environment,
        world: World,
        seed: int,
        personas: list[Persona] | None = None,
        streams: Streams | None = None,
    ) -> None:
        super().__init__(env, world, seed, streams)
        scenario = world.scenario
        self.flow = Flow(env, self.streams("flow"), self._request_done)
        for db in world.data.values():
            db.listeners.append(self._locks_changed)
        self.shoppers = Shoppers(
            env,
            scenario.traffic,
            scenario.clock_start,
            self.streams,
            self.metrics.business,
            self._send,
            personas if personas is not None else make_personas(seed),
        )
        self.start_processes()
        env.process(self._windows())

    def _locks_changed(self, db: DatabaseState) -> None:
        self.flow.locks_changed(db)

    def lock_waits(self, db: DatabaseState) -> list[DataCall]:
        return [w.data for w in self.flow.locked.get(db, ()) if not w.gone]

    # -- shoppers ↔ requests -------------------------------------------------------------
    def _send(self, session: Session, step: int) -> None:
        self.requests += 1
        session.rid = self.requests
        if self.dark and self.in_the_dark(session.region, session.id):
            root = self.step_roots[step]
            now = self.env._now
            frame = Frame(root, None, session, now + self.client_timeout, 0, now)
            self.flow.finish(frame, ERROR, DARK_CLASS, self.dark_message(session.region), False)
            return
        self.flow.request(self.step_roots[step], session, self.client_timeout)

    def probe(self, endpoint: str, region: str) -> None:
        """Send one synthetic check of ``endpoint`` from ``region`` (counted apart from shoppers)."""
        self.requests += 1
        series = self.metrics.get("probe", f"{endpoint}@{region}")
        if self.dark and self.in_the_dark(region, self.requests, shopper=False):
            series.record(ERROR, 0.0, DARK_CLASS)
            return
        self.flow.request(self.probe_roots[endpoint], Probe(series, self.requests), PROBE_TIMEOUT)

    def check_wait(self, rt: Runtime, inst: Instance) -> float:
        """How long a check sent to ``inst`` now would wait: as long as the oldest call still
        queued there has (FIFO: it would queue behind it)."""
        now: float = self.env._now
        for f in inst.queue:
            if f.state == QUEUED:
                return now - float(f.tq)
        return 0.0

    def _request_done(self, root: Frame, outcome: int, cls: str | None, msg: str | None) -> None:
        session = root.req
        if session.__class__ is Probe:
            session.series.record(outcome, self.env._now - root.t0, cls)
            return
        step = session.step
        self.step_series[step].record(outcome, self.env._now - root.t0, cls)
        if outcome != OK and cls is not None:
            key = (self.step_endpoints[step], cls)
            if key not in self.first_errors:
                self.first_errors[key] = (self.env._now, msg or cls)
        self.shoppers.on_result(session, root, outcome, cls, msg)


__all__ = ["INF", "RequestEngine"]
