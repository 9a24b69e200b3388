"""The shop model: topology graph, component state, the world that holds both."""

from sim.model.state import ComponentState, Effect
from sim.model.topology import BlastRadius, Topology

__all__ = ["BlastRadius", "ComponentState", "Effect", "Topology"]
