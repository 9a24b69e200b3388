"""What each instance of a component served since the last look: the input of the mechanisms
whose pace the traffic sets per instance (a memory leak, a disk that fills)."""

from __future__ import annotations

from sim.model.state import ComponentState


class Served:
    """Reads a component's call count (its engine's meter) and splits what was served since
    the previous read evenly over the instances in service (the balancer spreads them)."""

    def __init__(self, state: ComponentState, represents: int) -> None:
        self.state = state
        self.represents = represents  # real calls per simulated one
        self.calls = state.meter()[2]

    def since_last(self) -> tuple[list[int], float]:
        """(the instances up now, real calls each of them served since the last call)."""
        state = self.state
        now = state.meter()[2]
        served, self.calls = now - self.calls, now
        up = [i for i in range(state.replicas) if not state.down[i]]
        return up, (served * self.represents / len(up) if up else 0.0)
