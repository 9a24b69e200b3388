"""Pictures and reports of a run: the incident timeline, the dependency graph, the post-mortem.

Importing this package is cheap: matplotlib and pandas load when a plot is drawn, Jinja2
when a report is rendered.
"""

from __future__ import annotations

from sim.report.graph import component_status, plot_graph
from sim.report.postmortem import build_report, render_html, render_markdown, write_report
from sim.report.timeline import plot_timeline

__all__ = [
    "build_report",
    "component_status",
    "plot_graph",
    "plot_timeline",
    "render_html",
    "render_markdown",
    "write_report",
]
