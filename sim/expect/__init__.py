"""Expectations of scenario runs, checked outside the engine: the library behind the pytest
plugin (:mod:`sim.pytest_plugin`), free of pytest.

- :mod:`sim.expect.seeds`: seed lists as people write them (``1-10``, ``3,5,8``).
- :mod:`sim.expect.checks`: the bounds of ``expect:``, measuring a run against one, the p50
  and p90 of a set of runs, and the human-readable texts of a miss.
- :mod:`sim.expect.overrides`: a scenario with fields set by dotted path.
- :mod:`sim.expect.runs`: scenarios loaded and runs made once, reports written on demand.

Every module here imports only the standard library at module level (the plugin imports
them in every pytest session); the schema, the runner, scoring and reports load on first use.
It sits at the level of :mod:`sim.sweep` and :mod:`sim.drill`: it uses the scenario, runner,
journal, scoring and report layers, and none of them uses it.
"""

from sim.expect.checks import (
    CHECKS,
    Check,
    Measure,
    badness,
    bound_text,
    given_bounds,
    human,
    measure,
    meets,
    nearest_rank,
    outcome_text,
    phase_note,
    quantile_run,
    short_text,
)
from sim.expect.overrides import apply_overrides, overridden
from sim.expect.runs import Loaded, RunCache, RunKey, check_responder, run_label
from sim.expect.seeds import MAX_SEEDS, as_seeds, format_seeds, parse_seeds

__all__ = [
    "CHECKS",
    "MAX_SEEDS",
    "Check",
    "Loaded",
    "Measure",
    "RunCache",
    "RunKey",
    "apply_overrides",
    "as_seeds",
    "badness",
    "bound_text",
    "check_responder",
    "format_seeds",
    "given_bounds",
    "human",
    "measure",
    "meets",
    "nearest_rank",
    "outcome_text",
    "overridden",
    "parse_seeds",
    "phase_note",
    "quantile_run",
    "run_label",
    "short_text",
]
