"""Pictures of a run: the incident timeline and the dependency graph (matplotlib, Agg).

Importing this package is cheap: matplotlib and pandas load when a plot is drawn.
"""

from __future__ import annotations

from sim.report.graph import component_status, plot_graph
from sim.report.timeline import plot_timeline

__all__ = ["component_status", "plot_graph", "plot_timeline"]
