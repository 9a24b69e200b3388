"""A sweep's files: the runs table (CSV, Parquet), the summary, the metadata and the plots.

Every file is written atomically (a temporary file, then a rename). A partial table (an
interrupted sweep) is written with its summary and metadata but without plots, and plots of
an earlier sweep in the same folder are removed so that nothing there describes other runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.atomic import atomic_file, write_text

if TYPE_CHECKING:
    import pandas as pd

RUNS_CSV = "runs.csv"
RUNS_PARQUET = "runs.parquet"
SUMMARY_CSV = "summary.csv"
METADATA = "sweep.json"
PLOTS = ("ttr-ecdf.png", "impact.png", "sensitivity.png")


def write(
    df: pd.DataFrame,
    folder: str | Path,
    summary: pd.DataFrame | None = None,
    plots: bool = True,
) -> list[Path]:
    """Write ``df`` (a :func:`sim.sweep` table) and what is made from it into ``folder``.

    Files: ``runs.csv``, ``runs.parquet``, ``summary.csv``
    (``summary`` or :func:`sim.sweep.summarise` of ``df``), ``sweep.json`` (``df.attrs``) and,
    unless ``plots`` is false or the table is partial, ``ttr-ecdf.png``, ``impact.png`` and
    ``sensitivity.png`` (when something was varied). Returns the paths written, in order.
    """
    from sim.sweep.summary import summarise

    out = Path(folder)
    written: list[Path] = []
    with atomic_file(out / RUNS_CSV) as fh:
        df.to_csv(fh, index=False)
    written.append(out / RUNS_CSV)
    with atomic_file(out / RUNS_PARQUET, binary=True) as fh:
        _for_parquet(df).to_parquet(fh, index=False)
    written.append(out / RUNS_PARQUET)
    table = summarise(df) if summary is None else summary
    with atomic_file(out / SUMMARY_CSV) as fh:
        table.to_csv(fh, index=False)
    written.append(out / SUMMARY_CSV)
    written.append(write_text(out / METADATA, metadata_json(df)))
    partial = bool(df.attrs.get("partial"))
    if partial:
        for name in PLOTS:
            (out / name).unlink(missing_ok=True)
    elif plots:
        from sim.sweep.plots import plot_impact, plot_sensitivity, plot_ttr_ecdf

        written.append(plot_ttr_ecdf(df, out / PLOTS[0]))
        written.append(plot_impact(df, out / PLOTS[1]))
        if df.attrs.get("vary"):
            written.append(plot_sensitivity(table, out / PLOTS[2]))
        else:
            (out / PLOTS[2]).unlink(missing_ok=True)
    return written


def metadata_json(df: pd.DataFrame) -> str:
    """``df.attrs`` as indented JSON (what the CSV cannot carry)."""
    return json.dumps(dict(df.attrs), indent=1, sort_keys=True, default=str) + "\n"


def _for_parquet(df: pd.DataFrame) -> pd.DataFrame:
    """Object columns of mixed types (a varied key given as 5m and 600) become text."""
    from sim.sweep.overrides import value_text

    fixed = df.copy()
    for col in fixed.columns:
        if fixed[col].dtype == object:
            values: list[Any] = list(fixed[col])
            kinds = {type(v) for v in values if v is not None}
            if len(kinds) > 1 or not kinds <= {str}:
                fixed[col] = [None if v is None else value_text(v) for v in values]
    return fixed
