"""What every what-if picture shares: a row of panels under a question, colours, axis units.

The figures are drawn on explicit Agg canvases (:func:`sim.report.figures.new_figure`), so
nothing depends on the pyplot backend. A notebook shows one by making it the cell's last
expression (after ``%matplotlib inline``); :func:`sim.report.figures.save_figure` writes it.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from sim.report.figures import new_figure

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

MINUTE = 60.0
NOTE_COLOUR = "#555555"
# Colour-blind-safe (Okabe–Ito), in the order variants are given.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


def colours(n: int) -> list[str]:
    """``n`` distinct colours, the same for the same position in every figure."""
    return [PALETTE[i % len(PALETTE)] for i in range(n)]


def variant_labels(df: pd.DataFrame, column: str = "variant") -> list[str]:
    """The variants of a runs table, in table order (the categorical order when there is one)."""
    values = df[column]
    if hasattr(values, "cat"):
        return [str(c) for c in values.cat.categories if (values == c).any()]
    return [str(v) for v in dict.fromkeys(values)]


def panels(
    n: int,
    *,
    question: str,
    note: str | None = None,
    size: tuple[int, int] | None = None,
    sharey: bool = False,
) -> tuple[Figure, list[Axes]]:
    """A figure of ``n`` panels side by side, the question as its title, a note at the foot."""
    width, height = size or (min(1800, 560 * n + 120), 620)
    fig = new_figure((width, height))
    axes: list[Axes] = []
    for i in range(n):
        share = axes[0] if sharey and axes else None
        axes.append(fig.add_subplot(1, n, i + 1, sharey=share))
    title = "\n".join(textwrap.wrap(question, width=max(40, int(width / 11.5))))
    lines = title.count("\n") + 1
    top_px = 34 + 24 * lines
    fig.suptitle(title, x=0.02, y=1 - 14 / height, ha="left", va="top", fontsize=15)
    bottom_px = 96 if note else 70
    if note:
        wrapped = "\n".join(textwrap.wrap(note, width=int(width / 6.6)))
        bottom_px += 14 * wrapped.count("\n")
        fig.text(0.02, 10 / height, wrapped, ha="left", va="bottom", fontsize=9, color=NOTE_COLOUR)
    fig.subplots_adjust(
        left=0.07 if n > 1 else 0.09,
        right=0.98,
        top=1 - (top_px + 22) / height,
        bottom=bottom_px / height + 0.06,
        wspace=0.32,
    )
    return fig, axes


def percent(ax: Axes, axis: str = "y", decimals: int | None = None) -> None:
    """Show fractions on ``axis`` as percentages (0.05 → 5 %)."""
    from matplotlib.ticker import PercentFormatter

    formatter = PercentFormatter(xmax=1.0, decimals=decimals, symbol=" %")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)


def thousands(ax: Axes, axis: str = "x") -> None:
    """Short numbers on ``axis``, at most six ticks: 250, 2.5k, 250k, 2.5M."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    target.set_major_formatter(FuncFormatter(lambda v, _: short_number(v)))


def short_number(value: float) -> str:
    """250 → ``250``; 2500 → ``2.5k``; 250000 → ``250k``; 2500000 → ``2.5M``."""
    if abs(value) >= 1e6:
        return f"{value / 1e6:.3g}M"
    if abs(value) >= 1e3:
        return f"{value / 1e3:.3g}k"
    return f"{value:,.0f}"


def percent_text(value: float) -> str:
    """0.05 → ``5 %``, 0.005 → ``0.5 %``."""
    return f"{value * 100:g} %"


def finite(values: Sequence[float]) -> list[float]:
    """The finite numbers among ``values`` (no NaN, no ±inf)."""
    return [float(v) for v in values if isinstance(v, int | float) and math.isfinite(v)]


def currency_of(df: pd.DataFrame) -> str:
    """The currency of a runs table's money columns (``USD``), or an empty string."""
    return str(df.attrs.get("currency") or "")


def style(ax: Axes, *, grid: Literal["both", "x", "y"] = "both") -> None:
    """The common look: a light grid, no top or right spine."""
    ax.grid(True, axis=grid, alpha=0.3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def legend(ax: Axes, **kwargs: Any) -> None:
    """A frameless legend with small type."""
    ax.legend(frameon=False, fontsize=9, **kwargs)
