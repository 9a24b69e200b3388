"""Engines read component state and simulate traffic through the topology.

- ``sim.engine.request``: every request walks its endpoint's call tree (SimPy, one event per
  served call);
- ``sim.engine.flow``: per-time-step flows through the same trees (numpy);
- ``sim.engine.common``: what both share — runtimes, compiled call trees, the shoppers'
  common side, random streams, health checks, probes and windows.

Importing this package loads nothing: each engine is imported where it is used.
"""
