"""Outcomes side by side: per variant, every run as a dot and the median with its 95 % interval.

Times (``time_to_*``) follow the sweep summary's rules: over the runs with user-facing
impact, a run that did not get there counting as +inf (drawn as ▶ at the panel's right edge,
never dropped); a variant with no impact has nothing to time and says so. Medians and
intervals of the columns :func:`sim.sweep.summarise` covers are its own; the others
(``error_ratio``, ``failed_requests`` …) get the same seeded percentile bootstrap here.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sim.whatif.figures import (
    MINUTE,
    NOTE_COLOUR,
    colours,
    currency_of,
    finite,
    panels,
    percent,
    short_number,
    style,
    thousands,
    variant_labels,
)

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# column → (panel title, axis label; {currency} is filled in)
LABELS: dict[str, tuple[str, str]] = {
    "time_to_detect": ("Time to detect", "minutes after impact began"),
    "time_to_mitigate": ("Time to mitigate", "minutes after impact began"),
    "time_to_resolve": ("Time to resolve", "minutes after impact began"),
    "failed_checkouts": ("Failed checkouts", "checkouts per run"),
    "failed_requests": ("Failed requests", "requests per run"),
    "lost_revenue": ("Lost revenue", "{currency} per run"),
    "error_ratio": ("Error ratio", "failed share of all requests in the run"),
    "peak_error_ratio": ("Peak error ratio", "worst 10-second window"),
    "score": ("Score", "0–100"),
}
RATIOS = ("error_ratio", "peak_error_ratio")


def intervals(df: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per variant: ``runs``, ``reached`` and the ``median`` with ``median_lo``/``median_hi``.

    For a time, ``runs`` counts runs with impact and ``reached`` those that got there; a
    median or bound is +inf when too few did. For anything else, every run counts.
    """
    import numpy as np
    import pandas as pd

    from sim.sweep.summary import COSTS, TIMES, bootstrap, summarise

    if column in TIMES or column in COSTS:
        summary = summarise(df)
        out = pd.DataFrame({"variant": summary["variant"].astype(str)})
        if column in TIMES:
            out["runs"] = summary["impact_runs"]
            stem = {"time_to_detect": "detected", "time_to_mitigate": "mitigated"}
            out["reached"] = summary[f"{stem.get(column, 'resolved')}_runs"]
        else:
            out["runs"] = out["reached"] = summary["runs"]
        for s in ("median", "median_lo", "median_hi"):
            out[s] = summary[f"{column}_{s}"].to_numpy(dtype=float)
        return out
    records: list[dict[str, Any]] = []
    for label in variant_labels(df):
        values = df.loc[df["variant"].astype(str) == label, column].to_numpy(dtype=float)
        values = values[~np.isnan(values)]
        rng = np.random.default_rng(zlib.crc32(f"{label}\0{column}".encode()))
        stats = bootstrap(values, rng)
        records.append(
            {
                "variant": label,
                "runs": len(values),
                "reached": len(values),
                **{s: stats[s] for s in ("median", "median_lo", "median_hi")},
            }
        )
    return pd.DataFrame.from_records(records)


def plot_outcomes(df: pd.DataFrame, columns: Sequence[str], *, question: str) -> Figure:
    """One panel per column: every run as a dot, the median and its 95 % interval per variant."""
    fig, axes = panels(
        len(columns),
        question=question,
        size=(min(1800, 520 * len(columns) + 260), 160 + 110 * len(variant_labels(df)) + 150),
        sharey=True,
        note=(
            f"Dots: runs ({len(df.attrs.get('seeds') or [])} seeds per variant, "
            f"{df.attrs.get('engine')} engine); black tick and coloured bar: the median and "
            "its 95 % bootstrap interval. ▶ at the right edge: runs that did not get there "
            "within the horizon (counted as never, not dropped)."
        ),
    )
    for ax, column in zip(axes, columns, strict=True):
        draw_intervals(ax, df, column)
        if ax is not axes[0]:
            ax.tick_params(axis="y", labelleft=False)
    labels = variant_labels(df)
    axes[0].set_yticks(range(len(labels)))
    axes[0].set_yticklabels(list(reversed(labels)))
    fig.subplots_adjust(left=min(0.4, 0.03 + max(len(s) for s in labels) * 8.0 / fig.bbox.width))
    return fig


def draw_intervals(ax: Axes, df: pd.DataFrame, column: str) -> None:
    """On ``ax``: per variant (top to bottom), the runs' values, the median and its interval."""
    import numpy as np

    labels = variant_labels(df)
    stats = intervals(df, column).set_index("variant")
    is_time = column.startswith("time_to_")
    scale = MINUTE if is_time else 1.0
    hit = df[df["had_impact"].astype(bool)] if is_time else df
    values = hit[column].to_numpy(dtype=float) / scale
    bounds = stats[["median", "median_lo", "median_hi"]].to_numpy(dtype=float).ravel() / scale
    right = max(finite([*values, *bounds]), default=1.0) * 1.12 or 1.0
    rng = np.random.default_rng(0)  # jitter only: the same picture every time
    for i, (label, colour) in enumerate(zip(labels, colours(len(labels)), strict=True)):
        y = len(labels) - 1 - i
        runs = hit.loc[hit["variant"].astype(str) == label, column].to_numpy(dtype=float) / scale
        row = stats.loc[label].to_dict()
        if is_time and int(row["runs"]) == 0:
            ax.text(0, y, "  no user-facing impact: nothing to time", va="center", fontsize=9)
            continue
        done = runs[~np.isnan(runs)]
        if len(done) and not done.any():
            ax.text(0, y, f"  0 in every run ({len(done)})", va="center", fontsize=9)
            continue
        ax.scatter(
            done, y + 0.18 + rng.uniform(-0.08, 0.08, len(done)), s=16, color=colour, alpha=0.55
        )
        missing = len(runs) - len(done)
        if missing:
            ax.plot([right], [y + 0.18], marker=">", markersize=9, color=colour, clip_on=False)
            ax.annotate(
                f"{missing} not within the horizon",
                (right, y + 0.18),
                textcoords="offset points",
                xytext=(-10, 7),
                ha="right",
                fontsize=8,
                color=colour,
            )
        med, lo, hi = (float(row[s]) / scale for s in ("median", "median_lo", "median_hi"))
        ax.hlines(y - 0.12, min(lo, right), min(hi, right), color=colour, linewidth=7, alpha=0.6)
        if math.isinf(med):
            ax.plot([right], [y - 0.12], marker=">", markersize=11, color="#222222", clip_on=False)
            text = "median: not within the horizon"
        else:
            ax.plot([med], [y - 0.12], marker="|", markersize=18, mew=3, color="#222222")
            text = f"median {_value_text(column, med, currency_of(df))}"
        ax.annotate(
            text,
            (min(med, right), y - 0.12),
            textcoords="offset points",
            xytext=(0, -15),
            ha="center" if not math.isinf(med) else "right",
            fontsize=8,
            color=NOTE_COLOUR,
        )
    title, unit = LABELS.get(column, (column, ""))
    ax.set_title(title, loc="left", fontsize=12)
    ax.set_xlabel(unit.format(currency=currency_of(df) or "money"))
    ax.set_xlim(0, right)
    ax.set_ylim(-0.6, len(labels) - 0.4)
    if column in RATIOS:
        percent(ax, axis="x")
    elif not is_time:
        thousands(ax, axis="x")
    style(ax, grid="x")
    ax.tick_params(axis="y", length=0)


def _value_text(column: str, value: float, currency: str) -> str:
    if column.startswith("time_to_"):
        return f"{value:.0f} min"
    if column in RATIOS:
        return f"{value * 100:.1f} %"
    if column == "lost_revenue":
        return f"{short_number(value)} {currency}".strip()
    return short_number(value)
