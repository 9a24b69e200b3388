"""Alert thresholds: how soon an incident pages, against how often a healthy shop pages.

Two sweeps answer it: one of the incident (time to detect per threshold, from
:func:`sim.sweep.summarise`), one of the **baseline** — the same shop with no faults
(``vary={"faults": [[]], …}``) — where every page is a false page. :func:`false_pages`
summarises the baseline; :func:`plot_threshold_tradeoff` draws both side by side.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sim.whatif.figures import (
    MINUTE,
    NOTE_COLOUR,
    colours,
    finite,
    legend,
    panels,
    percent,
    percent_text,
    style,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

HOUR = 3600.0


def _rng(*parts: Any) -> np.random.Generator:
    """A bootstrap stream seeded from the group, so a table is the same every time."""
    import numpy as np

    return np.random.default_rng(np.random.SeedSequence([zlib.crc32(repr(parts).encode())]))


def _hours(df: pd.DataFrame) -> pd.Series[float]:
    """Each run's length in hours (the sweep's horizon, per variant when it varies)."""
    horizons = {v["label"]: float(v["horizon"]) for v in df.attrs.get("variants") or []}
    if df.attrs.get("horizon") is not None:
        return df["variant"].astype(str).map(lambda _: float(df.attrs["horizon"]) / HOUR)
    return df["variant"].astype(str).map(lambda label: horizons[label] / HOUR)


def false_pages(df: pd.DataFrame, by: str | Sequence[str] = "variant") -> pd.DataFrame:
    """Per group of a baseline sweep (no faults): how often a healthy shop pages someone.

    Columns: the ``by`` column(s); ``runs``; ``hours`` (each run's length); ``paged_runs`` and
    ``paged_share`` — runs with at least one page — with its 95 % Wilson interval
    (``paged_share_lo``, ``paged_share_hi``); ``pages_per_hour``; ``alerts_per_hour`` — critical
    alerts fired per hour, paged or not — with a 95 % bootstrap interval of the mean. A page
    groups the alerts of ``paging.group_interval`` (1 h by default), so a run pages at most
    about once an hour however noisy it is: read both.
    """
    import numpy as np
    import pandas as pd

    from sim.sweep.summary import bootstrap, wilson

    keys = [by] if isinstance(by, str) else list(by)
    hours = _hours(df)
    records: list[dict[str, Any]] = []
    for group, part in df.groupby(keys, sort=False, observed=True):
        label = group if isinstance(group, tuple) else (group,)
        rec: dict[str, Any] = dict(zip(keys, label, strict=True))
        length = float(hours[part.index].iloc[0])
        paged = int((part["pages"] > 0).sum())
        share, lo, hi = wilson(paged, len(part))
        rate = part["critical_alerts"].to_numpy(dtype=float) / length
        stats = bootstrap(rate, _rng(label, "alerts"))
        rec.update(
            {
                "runs": len(part),
                "hours": length,
                "paged_runs": paged,
                "paged_share": share,
                "paged_share_lo": lo,
                "paged_share_hi": hi,
                "pages_per_hour": float(part["pages"].sum()) / (length * len(part)),
                "alerts_per_hour": float(np.mean(rate)),
                "alerts_per_hour_lo": stats["mean_lo"],
                "alerts_per_hour_hi": stats["mean_hi"],
            }
        )
        records.append(rec)
    out = pd.DataFrame.from_records(records)
    out.attrs.update(df.attrs)
    return out


def plot_threshold_tradeoff(
    detection: pd.DataFrame,
    baseline: pd.DataFrame,
    threshold: str,
    *,
    lines: str,
    noise: str,
    question: str,
    line_labels: Mapping[Any, str] | None = None,
    noise_labels: Mapping[Any, str] | None = None,
    xlabel: str = "alert threshold (error ratio)",
) -> Figure:
    """Time to detect per threshold (left), false pages and false alerts when healthy (right).

    ``detection``: a sweep of the incident varying ``threshold`` and ``lines`` (one line per
    value, e.g. how much of the traffic the fault breaks). ``baseline``: a sweep with no
    faults varying ``threshold`` and ``noise`` (one line per value, e.g. a background error
    rate). Medians and shares carry 95 % intervals; a median that is not reached in half the
    runs is drawn as ▲ at the top.
    """
    from sim.scenario.durations import format_duration
    from sim.sweep.summary import summarise

    healthy = false_pages(baseline, by=[noise, threshold])
    hours = sorted(set(healthy["hours"]))
    length = format_duration(hours[0] * HOUR) if len(hours) == 1 else "healthy"

    fig, axes = panels(
        3,
        question=question,
        note=(
            "Bars: 95 % intervals (bootstrap for medians and means, Wilson for shares); "
            f"{detection.attrs.get('engine')} engine, responder "
            f"{detection.attrs.get('responder') or 'per variant'}, "
            f"{len(detection.attrs.get('seeds') or [])} seeds per point on the left, "
            f"{len(baseline.attrs.get('seeds') or [])} runs of {length} per point on the right."
        ),
    )
    values = list(dict.fromkeys(detection[threshold]))
    ticks = [percent_text(float(v)) for v in values]
    _detect_panel(axes[0], summarise(detection), threshold, lines, values, line_labels or {})
    _rate_panel(axes[1], healthy, threshold, noise, values, noise_labels or {}, "paged")
    _rate_panel(axes[2], healthy, threshold, noise, values, noise_labels or {}, "alerts")
    for ax in axes:
        ax.set_xticks(range(len(values)))
        ax.set_xticklabels(ticks)
        ax.set_xlim(-0.5, len(values) - 0.5)
        ax.set_xlabel(xlabel)
        style(ax)
    return fig


def _dodge(i: int, n: int) -> float:
    return (i - (n - 1) / 2) * 0.12


def _detect_panel(
    ax: Axes,
    summary: pd.DataFrame,
    threshold: str,
    lines: str,
    values: list[Any],
    labels: Mapping[Any, str],
) -> None:
    groups = list(dict.fromkeys(summary[lines]))
    medians = summary["time_to_detect_median"].to_numpy(dtype=float) / MINUTE
    highs = summary["time_to_detect_median_hi"].to_numpy(dtype=float) / MINUTE
    top = max(finite([*medians, *highs]), default=1.0) * 1.25 or 1.0
    for i, (group, colour) in enumerate(zip(groups, colours(len(groups)), strict=True)):
        part = summary[summary[lines] == group]
        xs = [values.index(v) + _dodge(i, len(groups)) for v in part[threshold]]
        med, lo, hi = (
            part[f"time_to_detect_{s}"].to_numpy(dtype=float) / MINUTE
            for s in ("median", "median_lo", "median_hi")
        )
        shown = [min(m, top) for m in med]
        ax.plot(xs, shown, color=colour, linewidth=1.5, alpha=0.8, label=labels.get(group, group))
        for x, m, a, b, k, n in zip(
            xs, med, lo, hi, part["detected_runs"], part["impact_runs"], strict=True
        ):
            ax.vlines(x, min(a, top), min(b, top), color=colour, linewidth=2.5, alpha=0.6)
            if math.isinf(b) and not math.isinf(m):
                ax.plot([x], [top], marker="^", markersize=6, color=colour, alpha=0.8)
            marker = "^" if math.isinf(m) else "o"
            ax.plot([x], [min(m, top)], marker=marker, markersize=8, color=colour)
            ax.annotate(
                f"{k}/{n}",
                (x, min(m, top)),
                textcoords="offset points",
                xytext=(7, -3),
                fontsize=8,
                color=colour,
            )
    ax.set_ylim(0, top * 1.3)  # room for the legend above the ▲ marks
    ax.set_ylabel("median time to detect (minutes after impact)")
    ax.set_title("Incident: how soon someone is paged", loc="left", fontsize=11)
    ax.text(
        0.0,
        -0.2,
        "k/n: runs detected within the horizon; ▲ at the top: a median (large) or an "
        "upper bound (small) not reached within the horizon",
        transform=ax.transAxes,
        fontsize=8,
        color=NOTE_COLOUR,
    )
    legend(ax, loc="upper left")


def _rate_panel(
    ax: Axes,
    table: pd.DataFrame,
    threshold: str,
    noise: str,
    values: list[Any],
    labels: Mapping[Any, str],
    what: str,
) -> None:
    column = "paged_share" if what == "paged" else "alerts_per_hour"
    groups = list(dict.fromkeys(table[noise]))
    for i, (group, colour) in enumerate(zip(groups, colours(len(groups) + 2)[2:], strict=True)):
        part = table[table[noise] == group]
        xs = [values.index(v) + _dodge(i, len(groups)) for v in part[threshold]]
        ys = part[column].to_numpy(dtype=float)
        lo = part[f"{column}_lo"].to_numpy(dtype=float)
        hi = part[f"{column}_hi"].to_numpy(dtype=float)
        ax.plot(xs, ys, marker="o", color=colour, linewidth=1.5, label=labels.get(group, group))
        ax.vlines(xs, lo, hi, color=colour, linewidth=2.5, alpha=0.6)
    if what == "paged":
        ax.set_ylim(-0.02, 1.02)
        percent(ax)
        ax.set_ylabel("healthy hours in which someone is paged")
        ax.set_title("No fault: false pages", loc="left", fontsize=11)
    else:
        ax.set_ylim(bottom=0)
        ax.set_ylabel("critical alerts per healthy hour (paged or not)")
        ax.set_title("No fault: false critical alerts", loc="left", fontsize=11)
    legend(ax, loc="upper right")
