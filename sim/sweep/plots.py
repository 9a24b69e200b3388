"""Pictures of a sweep: time-to-resolve ECDFs, impact distributions, sensitivity to each key.

Drawn on explicit Agg canvases like the report's pictures (matplotlib loads on first use and
the pyplot backend is never touched). Times are shown in minutes; the tables keep seconds.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.report.figures import new_figure, save_figure

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

MINUTE = 60.0
MEDIAN_STATS = ("median", "median_lo", "median_hi")
CI_NOTE = (
    "bars: 95 % bootstrap intervals; ▲ at the top: unresolved (median or bound beyond the horizon)"
)


def _colours(n: int) -> list[str]:
    import matplotlib as mpl

    cmap = mpl.colormaps["tab10" if n <= 10 else "tab20"]
    return [mpl.colors.to_hex(cmap(i % cmap.N)) for i in range(n)]


def _title(df: pd.DataFrame, what: str) -> str:
    a = df.attrs
    seeds = len(a.get("seeds") or [])
    engine = a.get("engine", "?")
    responder = a.get("responder") or "per variant"
    return (
        f"{what} — {a.get('scenario', 'sweep')}: {seeds} seeds per variant, "
        f"{engine} engine, responder {responder}"
    )


def _variants(df: pd.DataFrame) -> list[str]:
    column = df["variant"]
    if hasattr(column, "cat"):
        return [str(c) for c in column.cat.categories if (column == c).any()]
    return [str(v) for v in dict.fromkeys(column)]


def _horizon_of(df: pd.DataFrame, label: str) -> float | None:
    for v in df.attrs.get("variants") or []:
        if v.get("label") == label and v.get("horizon") is not None:
            return float(v["horizon"])
    return None


def plot_ttr_ecdf(df: pd.DataFrame, path: str | Path) -> Path:
    """Share of runs resolved by each minute after impact, one step curve per variant.

    A curve that stops below 100 % (●) is the share of runs never resolved within the
    horizon; the legend gives each variant's resolved count. Runs without impact are left out.
    """
    labels = _variants(df)
    columns = 2 if len(labels) > 6 else 1
    legend_px = 26 * math.ceil(len(labels) / columns)
    height = 760 + legend_px
    fig = new_figure((1600, height))
    bottom = (legend_px + 95) / height
    ax = fig.add_axes((0.07, bottom, 0.9, 1 - bottom - 80 / height))
    colours = _colours(len(labels))
    span = 0.0
    curves: list[tuple[str, list[float], int, int]] = []
    for label in labels:
        runs = df[(df["variant"] == label) & df["had_impact"].astype(bool)]
        times = sorted(float(t) / MINUTE for t in runs["time_to_resolve"].dropna())
        n = len(runs)
        horizon = _horizon_of(df, label)
        if horizon is not None and n:
            span = max(span, (horizon - float(runs["errors_started"].min())) / MINUTE)
        span = max(span, max(times, default=0.0) * 1.05)
        curves.append((label, times, len(times), n))
    span = span or 1.0
    for (label, times, k, n), colour in zip(curves, colours, strict=True):
        if n == 0:
            ax.plot([], [], color=colour, label=f"{label}: no run with impact")
            continue
        xs = [0.0, *times, span]
        ys = [0.0, *(i / n for i in range(1, k + 1)), k / n]
        unresolved = f", {n - k} not within the horizon" if k < n else ""
        ax.step(
            xs,
            ys,
            where="post",
            color=colour,
            linewidth=2.2,
            clip_on=False,
            label=f"{label}: {k}/{n} resolved{unresolved}",
        )
        if k < n:
            ax.plot([span], [k / n], marker="o", color=colour, markersize=8, clip_on=False)
    ax.axhline(1.0, color="#999999", linestyle=":", linewidth=1)
    ax.set_xlim(0, span)
    ax.set_ylim(-0.01, 1.04)
    ax.yaxis.set_major_formatter(_percent())
    ax.set_xlabel("minutes since user-facing impact began")
    ax.set_ylabel("runs resolved")
    ax.grid(True, alpha=0.3)
    ax.set_title(_title(df, "Time to resolve"), loc="left", fontsize=13)
    fig.legend(
        loc="lower left",
        bbox_to_anchor=(0.065, 12 / height),
        ncol=columns,
        frameon=False,
        fontsize=10,
    )
    fig.text(
        0.97,
        12 / height,
        "A curve that ends below 100 % (●): runs not resolved within the horizon.",
        ha="right",
        fontsize=9,
        color="#555555",
    )
    return save_figure(fig, path)


def _percent() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=0)


def plot_impact(df: pd.DataFrame, path: str | Path) -> Path:
    """Failed checkouts and lost revenue per variant: every run as a dot, the median and its
    95 % bootstrap interval (the same bars as every other plot of a sweep or a what-if)."""
    import numpy as np

    from sim.sweep.summary import summarise

    stats = summarise(df).set_index("variant")

    labels = _variants(df)
    height = max(500, 180 + 70 * len(labels))
    fig = new_figure((1600, height))
    longest = max((len(label) for label in labels), default=10)
    left = min(0.45, 0.04 + longest * 7.0 / 1600)
    gap, right = 0.05, 0.98
    width = (right - left - gap) / 2
    bottom, top = 90 / height, 1 - 70 / height
    axes = [
        fig.add_axes((left, bottom, width, top - bottom)),
        fig.add_axes((left + width + gap, bottom, width, top - bottom)),
    ]
    currency = df.attrs.get("currency") or ""
    columns = (
        ("failed_checkouts", "failed checkouts"),
        ("lost_revenue", f"lost revenue ({currency})".replace(" ()", "")),
    )
    colours = _colours(len(labels))
    rng = np.random.default_rng(0)  # jitter only: the same picture every time
    for ax, (column, title) in zip(axes, columns, strict=True):
        for i, (label, colour) in enumerate(zip(labels, colours, strict=True)):
            values = df.loc[df["variant"] == label, column].to_numpy(dtype=float)
            values = values[~np.isnan(values)]
            y = len(labels) - 1 - i
            if not len(values):
                continue
            jitter = rng.uniform(-0.14, 0.14, len(values))
            ax.scatter(values, y + 0.1 + jitter, s=22, color=colour, alpha=0.7, linewidths=0)
            row = stats.loc[label]
            med, lo, hi = (row[f"{column}_{s}"] for s in ("median", "median_lo", "median_hi"))
            ax.hlines(y - 0.22, lo, hi, color=colour, linewidth=6)
            ax.plot(
                [med], [y - 0.22], marker="|", markersize=16, markeredgewidth=3, color="#222222"
            )
        ax.set_yticks(range(len(labels)))
        ax.set_yticklabels(list(reversed(labels)) if ax is axes[0] else [])
        ax.set_ylim(-0.7, len(labels) - 0.3)
        ax.set_xlim(left=0)
        ax.set_xlabel(title)
        ax.grid(True, axis="x", alpha=0.3)
        ax.xaxis.set_major_formatter(_thousands())
    fig.text(left, 1 - 40 / height, _title(df, "Impact per run"), fontsize=13)
    fig.text(
        0.98,
        12 / height,
        "dots: runs; bar below them: the 95 % bootstrap interval of the median; tick: median",
        ha="right",
        fontsize=9,
        color="#555555",
    )
    return save_figure(fig, path)


def _thousands() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda x, _: f"{x:,.0f}")


def plot_sensitivity(summary: pd.DataFrame, path: str | Path) -> Path:
    """Median time to resolve and median lost revenue against each varied key, with 95 % CIs.

    One row of two panels per key. When several keys vary, each combination of the other keys
    is its own line. A median (or bound) that is +inf — more than half of the runs unresolved
    — is drawn as ▲ at the top of the panel.
    """
    keys = [k for k in (summary.attrs.get("vary") or {}) if k in summary.columns]
    if not keys:
        raise ValueError("plot_sensitivity needs a summary of a sweep that varied something")
    summary = _as_labels(summary, keys)
    fig = new_figure((1600, 140 + 420 * len(keys)))
    currency = summary.attrs.get("currency") or ""
    panels = (
        ("time_to_resolve", "median time to resolve (min)", MINUTE),
        ("lost_revenue", f"median lost revenue ({currency})".replace(" ()", ""), 1.0),
    )
    rows = len(keys)
    for r, key in enumerate(keys):
        others = [k for k in keys if k != key]
        for c, (column, ylabel, scale) in enumerate(panels):
            ax = fig.add_subplot(rows, 2, r * 2 + c + 1)
            _sensitivity_panel(ax, summary, key, others, column, scale)
            ax.set_xlabel(key)
            ax.set_ylabel(ylabel)
            if c == 1:
                ax.yaxis.set_major_formatter(_thousands())
    fig.subplots_adjust(
        left=0.07,
        right=0.98,
        top=1 - 80 / fig.bbox.height,
        bottom=90 / fig.bbox.height,
        hspace=0.45,
        wspace=0.18,
    )
    fig.text(0.07, 1 - 40 / fig.bbox.height, _title(summary, "Sensitivity"), fontsize=13)
    fig.text(0.98, 12 / fig.bbox.height, CI_NOTE, ha="right", fontsize=9, color="#555555")
    return save_figure(fig, path)


def _as_labels(summary: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """``summary`` with the varied values that are lists or mappings (a rollout's stages) as
    their compact JSON: positions, legends and groups need values that can be compared."""
    if not any(isinstance(v, list | dict) for k in keys for v in summary[k]):
        return summary
    out = summary.copy()  # attrs come along
    for k in keys:
        out[k] = [
            json.dumps(v, separators=(",", ":")) if isinstance(v, list | dict) else v
            for v in summary[k]
        ]
    return out


def _sensitivity_panel(
    ax: Axes, summary: pd.DataFrame, key: str, others: Sequence[str], column: str, scale: float
) -> None:
    values = list(dict.fromkeys(summary[key]))
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    position = {v: (float(v) if numeric else float(i)) for i, v in enumerate(values)}
    stats = [summary[f"{column}_{s}"].to_numpy(dtype=float) / scale for s in MEDIAN_STATS]
    finite = [v for series in stats for v in series if math.isfinite(v)]
    top = (max(finite, default=0.0) * 1.15) or 1.0
    groups = list(summary.groupby(list(others), sort=False)) if others else [((), summary)]
    colours = _colours(max(1, len(groups)))
    short = {k: _given(summary, k, list(summary[k])) for k in others}
    annotated: set[float] = set()
    cap = _cap(position)
    for (_, part), colour in zip(groups, colours, strict=True):
        xs = [position[v] for v in part[key]]
        m, low, high = (part[f"{column}_{s}"].to_numpy(dtype=float) / scale for s in MEDIAN_STATS)
        label = None
        if others:
            first = part.index[0]
            at = summary.index.get_loc(first)
            label = ", ".join(f"{_tail(k)}={short[k][at]}" for k in others)
        # A line joins numeric values only: between categories it would suggest an order.
        style = "-" if numeric else "none"
        ax.plot(
            xs,
            [min(v, top) for v in m],
            color=colour,
            linestyle=style,
            linewidth=1.5,
            alpha=0.7,
            label=label,
        )
        for x, v, a, b in zip(xs, m, low, high, strict=True):
            ax.vlines(x, min(a, top), min(b, top), color=colour, linewidth=2)
            ax.hlines([min(a, top), min(b, top)], x - cap, x + cap, color=colour, linewidth=1.5)
            if math.isinf(v):
                ax.plot([x], [top], marker="^", markersize=11, color=colour)
                if x not in annotated:
                    annotated.add(x)
                    ax.annotate(
                        "unresolved",
                        (x, top),
                        textcoords="offset points",
                        xytext=(0, 9),
                        ha="center",
                        fontsize=9,
                        color="#333333",
                    )
            else:
                ax.plot([x], [v], marker="o", markersize=7, color=colour)
                if math.isinf(b):
                    ax.plot([x], [top], marker="^", markersize=8, color=colour, alpha=0.7)
    ax.set_ylim(0, top * 1.12)
    if not finite:  # nothing to scale by: no axis to read, only the markers
        ax.set_yticks([])
        ax.text(
            0.5,
            0.45,
            "no median within the horizon",
            transform=ax.transAxes,
            ha="center",
            color="#555555",
        )
    given = _given(summary, key, values)
    if not numeric or len(values) <= 12:
        ax.set_xticks([position[v] for v in values])
        ax.set_xticklabels(given)
    if not numeric:
        ax.set_xlim(-0.5, len(values) - 0.5)
    else:
        spread = (max(position.values()) - min(position.values())) or 1.0
        ax.set_xlim(min(position.values()) - 0.08 * spread, max(position.values()) + 0.08 * spread)
    ax.grid(True, alpha=0.3)
    if others and len(groups) > 1:
        ax.legend(fontsize=8, frameon=False, loc="lower right")


def _tail(key: str) -> str:
    """The last name of a key, for legends: ``monitors[endpoint-errors].for`` → ``for``."""
    from sim.sweep.overrides import parse_path

    tokens = parse_path(key)
    return tokens[-1].text


def _given(summary: pd.DataFrame, key: str, values: Sequence[Any]) -> list[str]:
    """Tick labels as the values were given (``5m``), else as the scenario holds them."""
    from sim.sweep.overrides import value_text

    asked = {
        v["label"]: v["overrides"][key]
        for v in summary.attrs.get("variants") or []
        if key in (v.get("overrides") or {})
    }
    texts: dict[Any, str] = {}
    if "variant" in summary.columns:
        for label, held in zip(summary["variant"], summary[key], strict=True):
            if label in asked:
                texts.setdefault(_hashable(held), value_text(asked[label]))
    return [texts.get(_hashable(v), value_text(v)) for v in values]


def _hashable(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else repr(value)


def _cap(position: dict[Any, float]) -> float:
    """Half the width of an error bar's caps, in data units."""
    xs = list(position.values())
    spread = (max(xs) - min(xs)) if len(xs) > 1 else 1.0
    return 0.012 * (spread or 1.0)
