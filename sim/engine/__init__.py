"""Engines read component state and simulate traffic through the topology."""

from sim.engine.request_engine import RequestEngine

__all__ = ["RequestEngine"]
