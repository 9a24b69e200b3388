"""Time to resolve as a distribution: the share of runs resolved by each minute after impact.

One step curve per variant (an empirical CDF over the runs with user-facing impact). A run
not resolved within the horizon never reaches the curve's top: the curve stops below 100 %
at the horizon, with a ●, and the legend says how many runs were resolved and their median.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.whatif.figures import (
    MINUTE,
    NOTE_COLOUR,
    colours,
    legend,
    panels,
    percent,
    style,
    variant_labels,
)

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def plot_resolve_ecdf(
    df: pd.DataFrame, *, question: str, column: str = "time_to_resolve"
) -> Figure:
    """Share of runs resolved (``column`` reached) by each minute after impact, per variant."""
    fig, axes = panels(
        1,
        question=question,
        size=(1300, 680),
        note=(
            f"{len(df.attrs.get('seeds') or [])} seeds per variant, "
            f"{df.attrs.get('engine')} engine, horizon "
            f"{_horizon_text(df)}. A curve that ends below 100 % (●) did not resolve every run "
            "within the horizon: an unresolved run counts as not resolved, never as zero."
        ),
    )
    draw_ecdf(axes[0], df, column=column)
    return fig


def _horizon_text(df: pd.DataFrame) -> str:
    from sim.scenario.durations import format_duration

    horizon = df.attrs.get("horizon")
    return format_duration(float(horizon)) if horizon is not None else "per variant"


def draw_ecdf(ax: Axes, df: pd.DataFrame, *, column: str = "time_to_resolve") -> None:
    """Draw the per-variant ECDF of ``column`` (seconds since impact) on ``ax``, in minutes."""
    from sim.sweep.summary import summarise

    labels = variant_labels(df)
    hit = df[df["had_impact"].astype(bool)]
    horizons = {v["label"]: float(v["horizon"]) for v in df.attrs.get("variants") or []}
    span = 1.0
    for label in labels:
        runs = hit[hit["variant"].astype(str) == label]
        horizon = horizons.get(label, df.attrs.get("horizon"))
        if len(runs) and horizon is not None:
            span = max(span, (float(horizon) - float(runs["errors_started"].min())) / MINUTE)
    prefix, names = _common_key(labels)
    summary = {str(r["variant"]): r for r in summarise(df).to_dict("records")}
    stem = column.removeprefix("time_to_")
    for i, (label, name, colour) in enumerate(
        zip(labels, names, colours(len(labels)), strict=True)
    ):
        runs = hit[hit["variant"].astype(str) == label]
        n = len(runs)
        if n == 0:
            ax.plot([], [], color=colour, label=f"{name}: no run with impact")
            continue
        times = sorted(float(t) / MINUTE for t in runs[column].dropna())
        k = len(times)
        xs = [0.0, *times, span]
        ys = [0.0, *(i / n for i in range(1, k + 1)), k / n]
        median = f", median {times[(n + 1) // 2 - 1]:.0f} min" if 2 * k >= n else ""
        ax.step(
            xs,
            ys,
            where="post",
            color=colour,
            linewidth=2.2,
            label=f"{name}: {k}/{n} {_REACHED.get(stem, 'reached')}{median}",
        )
        if k < n:
            ax.plot([span], [k / n], marker="o", color=colour, markersize=9, clip_on=False)
        if f"{column}_median" in summary.get(label, {}):
            # the 95 % interval of the median, from the sweep summary, under the 50 % line
            lo, hi = (float(summary[label][f"{column}_median_{b}"]) for b in ("lo", "hi"))
            y = 0.47 - 0.025 * i
            ax.hlines(y, min(lo / MINUTE, span), min(hi / MINUTE, span), color=colour, lw=4)
    ax.axhline(1.0, color="#999999", linestyle=":", linewidth=1)
    ax.axhline(0.5, color="#bbbbbb", linestyle="--", linewidth=0.8)
    ax.text(
        0.5,
        0.51,
        "half the runs; under it, each median's 95 % interval",
        fontsize=8,
        color=NOTE_COLOUR,
    )
    ax.set_xlim(0, span)
    ax.set_ylim(0, 1.03)
    percent(ax, decimals=0)
    ax.set_xlabel("minutes since user-facing impact began (the right edge is the horizon)")
    ax.set_ylabel("share of runs resolved")
    style(ax)
    legend(ax, loc="upper left", title=prefix or None, title_fontsize=9)


_REACHED = {"resolve": "resolved", "mitigate": "mitigated", "detect": "detected"}


def _common_key(labels: list[str]) -> tuple[str, list[str]]:
    """``["responder=seed", "responder=novice"]`` → ``("responder", ["seed", "novice"])``."""
    parts = [label.split("=", 1) for label in labels]
    keys = {p[0] for p in parts if len(p) == 2}
    if len(keys) == 1 and all(len(p) == 2 and "," not in p[1] for p in parts):
        return keys.pop(), [p[1] for p in parts]
    return "", list(labels)
