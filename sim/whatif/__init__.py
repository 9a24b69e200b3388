"""What-if analysis helpers for the notebooks: named variants, and plots that answer a question.

- :mod:`sim.whatif.variants` — :func:`sweep_variants` runs named sets of overrides (a
  strategy, a policy) with the same seeds into one sweep table; :func:`monitors_with` adds
  an alert to a scenario's monitors.
- :mod:`sim.whatif.alerting` — :func:`false_pages` (how often a healthy shop pages) and
  :func:`plot_threshold_tradeoff` (detection against false pages per threshold).
- :mod:`sim.whatif.resolution` — :func:`plot_resolve_ecdf`: share of runs resolved by each
  minute after impact, unresolved runs never reaching the top.
- :mod:`sim.whatif.outcomes` — :func:`plot_outcomes`: runs, medians and 95 % intervals of
  any outcome columns, side by side.
- :mod:`sim.whatif.breakdown` — :func:`sweep_endpoints`: named variants run like a sweep,
  returning the sweep's rows and, from the same journals, the failures per endpoint.
- :mod:`sim.whatif.endpoints` — :func:`endpoint_totals`, :func:`draw_endpoint_failures` and
  :func:`plot_endpoint_outcomes`: failed requests per endpoint, per variant, and what they cost.

pandas and matplotlib load on first use; the figures are drawn on Agg canvases and show in a
notebook as a cell's value (after ``%matplotlib inline``). Notebooks: ``notebooks/``.
"""

from __future__ import annotations

from sim.whatif.alerting import false_pages, plot_threshold_tradeoff
from sim.whatif.breakdown import sweep_endpoints
from sim.whatif.endpoints import draw_endpoint_failures, endpoint_totals, plot_endpoint_outcomes
from sim.whatif.figures import panels
from sim.whatif.outcomes import draw_intervals, intervals, plot_outcomes
from sim.whatif.resolution import draw_ecdf, plot_resolve_ecdf
from sim.whatif.variants import monitors_with, sweep_variants, variant_scenario

__all__ = [
    "draw_ecdf",
    "draw_endpoint_failures",
    "draw_intervals",
    "endpoint_totals",
    "false_pages",
    "intervals",
    "monitors_with",
    "panels",
    "plot_endpoint_outcomes",
    "plot_outcomes",
    "plot_resolve_ecdf",
    "plot_threshold_tradeoff",
    "sweep_endpoints",
    "sweep_variants",
    "variant_scenario",
]
