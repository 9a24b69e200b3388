"""Faults as effects on component state, their registry and their scheduling."""

from sim.faults.registry import BUILDERS, DEFAULT_REMEDIES, ActiveFault, resolve

__all__ = ["BUILDERS", "DEFAULT_REMEDIES", "ActiveFault", "resolve"]
