"""One run's moving parts, wired together: world, faults, actions, engine and telemetry.

``Simulation`` is what :func:`sim.run` drives to the horizon. Responders drive it through
the action API (:class:`sim.response.Incident`), which advances it a step at a time; tests
hold on to it to look inside between steps.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import simpy

from sim.engine.common.shoppers import make_personas
from sim.engine.common.streams import Streams
from sim.engine.request.engine import RequestEngine
from sim.faults.mechanisms.cache import Caches
from sim.faults.mechanisms.capacity import Capacity
from sim.faults.mechanisms.clock import Clocks
from sim.faults.mechanisms.datatier import DataTier
from sim.faults.mechanisms.disk import Disks
from sim.faults.mechanisms.memory import Memory
from sim.faults.mechanisms.network import Network
from sim.faults.mechanisms.regions import Regions
from sim.faults.mechanisms.rollout import Rollouts
from sim.faults.mechanisms.spread import Spreading
from sim.faults.red_herrings import RedHerrings
from sim.faults.schedule import FaultSchedule
from sim.model.world import Event, World
from sim.response.actions import Actions
from sim.scenario.schema import Scenario
from sim.telemetry.complaints import Complaints
from sim.telemetry.dblogs import DatabaseLogger
from sim.telemetry.detection import Detector
from sim.telemetry.hostlogs import HostLogger
from sim.telemetry.logs import EngineLogger, LogNoise, LogStore, noisy_warning
from sim.telemetry.monitors import Monitors, monitor_rules
from sim.telemetry.paging import Pager, rotation_names
from sim.telemetry.pipeline import Pipeline

ENGINES = ("request", "flow")


class Simulation:
    """Everything one seeded run consists of; ``advance(until)`` moves it on."""

    def __init__(
        self,
        scenario: Scenario,
        seed: int,
        *,
        faults: bool = True,
        engine: str = "request",
        manual_ack: bool = False,
    ) -> None:
        if engine not in ENGINES:
            raise ValueError(f"unknown engine {engine!r}: expected one of {', '.join(ENGINES)}")
        if engine == "flow":
            from sim.engine.flow.engine import flow_lacks

            lacks = flow_lacks(scenario)
            if lacks:
                raise ValueError(
                    f"the flow engine does not model {'; '.join(lacks)}: "
                    "run this scenario on the request engine"
                )
        self.scenario = scenario
        self.seed = seed
        self.faults_enabled = faults
        self.env = simpy.Environment()
        self.world = World(scenario)
        self.timeline: list[dict[str, Any]] = []
        self.world.subscribe(self._record)
        env, world = self.env, self.world

        self.faults = FaultSchedule(env, world, enabled=faults)
        self.data = DataTier(env, world, self.faults, scenario.traffic.represents)
        self.fleet = Capacity(env, world)
        self.memory = Memory(env, world, self.faults)
        self.caches = Caches(env, world, self.faults)
        self.spreading = Spreading(env, world, self.faults)
        self.disks = Disks(env, world, self.faults)
        self.clocks = Clocks(env, world, self.faults)
        self.network = Network(env, world)
        self.regions = Regions(env, world)
        self.rollouts = Rollouts(env, world, self.faults)
        self.actions = Actions(
            env, world, self.faults, self.data, self.fleet, self.network, self.regions
        )
        self.streams = Streams(seed)
        if engine == "flow":
            from sim.engine.flow.engine import FlowEngine

            self.engine: RequestEngine | FlowEngine = FlowEngine(
                env, world, seed, personas=make_personas(seed), streams=self.streams
            )
        else:
            self.engine = RequestEngine(
                env, world, seed, personas=make_personas(seed), streams=self.streams
            )

        represents = scenario.traffic.represents
        self.logs = LogStore(
            self.streams("logs"), budget=scenario.logs.budget, represents=represents
        )
        self.engine.flow.observer = EngineLogger(
            env, self.logs, paths=self._paths(), fallbacks=self._fallbacks()
        )
        LogNoise(env, self.logs, scenario, self.streams("noise"))
        if world.data:
            DatabaseLogger(env, world, self.logs)
        if any(f.type == "memory_leak" for f in scenario.faults):
            HostLogger(env, world, self.logs)
        self.red_herrings = RedHerrings(env, world, self._log_burst)

        self.complaints = Complaints(
            env,
            world,
            scenario.complaints,
            self.streams("complaints"),
            represents,
            scenario.traffic.order_value.currency,
        )
        self.engine.shoppers.on_gave_up = self.complaints.gave_up

        rules = monitor_rules(scenario)
        self.monitors = Monitors(
            world,
            rules,
            scenario.window,
            self.capacity,
            self.expected_orders,
            self._error_lines,
            external_probes=scenario.probes.external,
            new_errors=self.logs.new_errors,
        )
        self.pipeline = Pipeline(world, scenario, self.streams("monitoring"), self.network.carry)
        self.pipeline.listeners.append(self.monitors.on_window)
        self.engine.metrics.listeners.append(self.pipeline.on_window)
        self.pager = Pager(
            env,
            world,
            scenario.paging,
            self.streams("paging"),
            rotation_names(scenario.paging, seed),
            manual=manual_ack,
        )
        self.detector = Detector(world)

    def _record(self, event: Event) -> None:
        self.timeline.append({"t": round(event.t, 6), "kind": event.kind, **event.data})

    def _paths(self) -> dict[int, str]:
        """id(root node) → endpoint path, for shoppers' and probes' call trees alike."""
        paths = {}
        for name, ep in self.scenario.endpoints.items():
            paths[id(self.engine.roots[name])] = ep.path
            paths[id(self.engine.probe_roots[name])] = ep.path
        return paths

    def _fallbacks(self) -> dict[str, str]:
        return {
            f"{d.caller} → {d.callee}": d.fallback
            for d in self.scenario.dependencies
            if d.fallback is not None
        }

    def _log_burst(
        self, component: str, level: str, message: str, start: float, duration: float, rate: float
    ) -> None:
        noisy_warning(
            self.env,
            self.logs,
            component,
            level,
            message,
            start,
            duration,
            rate,
            self.streams(f"red-herring/{component}"),
        )

    def capacity(self, component: str) -> int:
        """Slots the component has now: per-instance capacity × instances in rotation."""
        rt = self.engine.runtimes[component]
        return rt.capacity() * len(rt.available)

    def _error_lines(self) -> int:
        return self.logs.count(level="ERROR")

    def expected_orders(self, t0: float, t1: float) -> float:
        """Orders the traffic model expects in [t0, t1) (scaled): arrivals × conversion."""
        funnel = self.scenario.traffic.funnel
        conversion = math.prod(step.proceed for step in funnel[:-1])
        rate = self.engine.shoppers.rate((t0 + t1) / 2)
        return rate * (t1 - t0) * conversion * self.scenario.traffic.represents

    def advance(self, until: float, progress: Callable[[float], None] | None = None) -> None:
        """Run on to simulated time ``until`` (call as often as you like, forwards)."""
        self.engine.run(until, progress)

    def finish(self) -> None:
        """Close the last, possibly partial, metrics window: call once, at the end."""
        self.engine.finish()
