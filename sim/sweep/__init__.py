"""What-if sweeps: many seeded runs of a scenario and its variants, as pandas tables.

``sim.sweep(...)`` runs a sweep (this module is callable: it is :func:`sim.sweep.api.sweep`),
``sim.sweep.summarise(df)`` summarises it per variant with 95 % intervals,
``sim.sweep.write(df, folder)`` writes its tables and plots. Guide: docs/whatif.md;
reference: docs/sweep.md.
"""

from __future__ import annotations

import sys
import types
import warnings
from typing import TYPE_CHECKING, Any

from sim.sweep.api import sweep
from sim.sweep.errors import SweepError, SweepInterrupted
from sim.sweep.files import write
from sim.sweep.outcome import COLUMN_NAMES
from sim.sweep.overrides import apply_overrides
from sim.sweep.summary import summarise

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "COLUMN_NAMES",
    "SweepError",
    "SweepInterrupted",
    "apply_overrides",
    "summarise",
    "sweep",
    "write",
]


class _CallableModule(types.ModuleType):
    """``sim.sweep`` is both this package and the function: ``sim.sweep(scenario, vary=…)``."""

    def __call__(self, *args: Any, **kwargs: Any) -> pd.DataFrame:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            df = sweep(*args, **kwargs)
        for w in caught:  # shown at the caller's line (a notebook cell), not at this one
            warnings.warn(w.message, w.category, stacklevel=2)
        return df


sys.modules[__name__].__class__ = _CallableModule
