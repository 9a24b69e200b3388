"""What the action API needs of a running simulation.

The response layer sits below the simulation that wires it in (:class:`sim.simulation.Simulation`
builds the :class:`~sim.response.actions.Actions` a responder uses), so it names what it reads
as a protocol instead of importing the simulation. ``Simulation`` satisfies it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import simpy

    from sim.engine.common.base import EngineBase
    from sim.engine.common.streams import Streams
    from sim.faults.mechanisms.network import Network
    from sim.faults.mechanisms.rollout import Rollouts
    from sim.faults.schedule import FaultSchedule
    from sim.model.world import World
    from sim.response.actions import Actions
    from sim.scenario.schema import Scenario
    from sim.telemetry.logs import LogStore
    from sim.telemetry.monitors import Monitors
    from sim.telemetry.paging import Pager
    from sim.telemetry.pipeline import Pipeline


class Running(Protocol):
    """A seeded run in progress: its world, engine and telemetry, and the way to move it on."""

    @property
    def scenario(self) -> Scenario: ...
    @property
    def env(self) -> simpy.Environment: ...
    @property
    def world(self) -> World: ...
    @property
    def engine(self) -> EngineBase: ...
    @property
    def faults(self) -> FaultSchedule: ...
    @property
    def faults_enabled(self) -> bool: ...
    @property
    def actions(self) -> Actions: ...
    @property
    def streams(self) -> Streams: ...
    @property
    def logs(self) -> LogStore: ...
    @property
    def monitors(self) -> Monitors: ...
    @property
    def pager(self) -> Pager: ...
    @property
    def network(self) -> Network: ...
    @property
    def pipeline(self) -> Pipeline: ...
    @property
    def rollouts(self) -> Rollouts: ...

    def advance(self, until: float, progress: Callable[[float], None] | None = None) -> None:
        """Run on to simulated time ``until``."""

    def capacity(self, component: str) -> int:
        """Slots the component has now (per-instance capacity × instances in rotation)."""

    def expected_orders(self, t0: float, t1: float) -> float:
        """Orders the traffic model expects in [t0, t1), scaled."""


__all__ = ["Running"]
