"""The summary of a sweep as a terminal table: medians with their 95 % intervals under them."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sim.cli.common import out

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console
    from rich.text import Text


def _minutes(seconds: float) -> str:
    if math.isnan(seconds):
        return "—"
    if math.isinf(seconds):
        return "unresolved"
    return f"{seconds / 60:.1f}"


def _money(x: float) -> str:
    return f"{x / 1000:,.1f}k" if abs(x) >= 10_000 else f"{x:,.0f}"


def _money_range(lo: float, hi: float) -> str:
    """``33.5–36.8k``: one unit for both ends when both are in thousands."""
    if abs(lo) >= 10_000 and abs(hi) >= 10_000:
        return f"{lo / 1000:,.1f}–{hi / 1000:,.1f}k"
    return f"{_money(lo)}–{_money(hi)}"


def _with_ci(row: Any, stem: str, show: Callable[[float], str]) -> Text:
    """The median, and under it its interval, dimmed: two short lines instead of one long."""
    from rich.text import Text

    median, lo, hi = (float(row[f"{stem}_{s}"]) for s in ("median", "median_lo", "median_hi"))
    if math.isnan(median) or math.isinf(median):
        return Text(_minutes(median))
    if show is _money and math.isfinite(hi):
        interval = _money_range(lo, hi)
    else:
        interval = f"{show(lo)}–{'∞' if math.isinf(hi) else show(hi)}"
    return Text.assemble(show(median), "\n", (interval, "dim"))


FIGURES_WIDTH = 70  # what the figure columns take; labels that do not fit beside them are numbered


def print_summary(summary: pd.DataFrame, console: Console = out) -> None:
    """The summary as a table: shares with Wilson intervals, medians with bootstrap ones."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    labels = [str(v) for v in summary["variant"]]
    numbered = max(map(len, labels), default=0) > console.width - FIGURES_WIDTH
    if numbered:
        for i, label in enumerate(labels, 1):
            console.print(f"{i:>3}  {label}", markup=False, soft_wrap=True)
    currency = summary.attrs.get("currency") or ""
    table = Table(
        title="per variant: median, and its 95 % interval under it",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("#" if numbered else "variant")
    same_runs = summary["runs"].nunique() == 1
    if not same_runs:
        table.add_column("runs", justify="right")
    for name in ("resolved", "detect\nmin", "mitigate\nmin", "resolve\nmin"):
        table.add_column(name, justify="right")
    for name in ("failed\ncheckouts", f"lost\nrevenue {currency}".strip(), "score"):
        table.add_column(name, justify="right")

    def count(x: float) -> str:
        return f"{x:,.0f}"

    for i, (_, row) in enumerate(summary.iterrows(), 1):
        n = int(row["impact_runs"])
        resolved = (
            Text.assemble(
                f"{int(row['resolved_runs'])}/{n}",
                "\n",
                (f"{row['resolved_share_lo']:.0%}–{row['resolved_share_hi']:.0%}", "dim"),
            )
            if n
            else Text("no impact")
        )
        cells: list[Any] = [Text(str(i) if numbered else labels[i - 1])]
        if not same_runs:
            cells.append(str(int(row["runs"])))
        cells += [
            resolved,
            _with_ci(row, "time_to_detect", _minutes),
            _with_ci(row, "time_to_mitigate", _minutes),
            _with_ci(row, "time_to_resolve", _minutes),
            _with_ci(row, "failed_checkouts", count),
            _with_ci(row, "lost_revenue", _money),
            _with_ci(row, "score", lambda x: f"{x:.0f}"),
        ]
        table.add_row(*cells)
    runs = (
        f"{int(summary['runs'].iloc[0])} runs per variant; " if same_runs and len(summary) else ""
    )
    console.print(table)
    console.print(
        f"{runs}times in minutes since impact began, over the runs with impact; 'unresolved': "
        "more than half of them did not get there within the horizon (docs/whatif.md).",
        markup=False,
        soft_wrap=True,
    )
