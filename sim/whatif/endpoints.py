"""Where the failures land: failed requests per endpoint, per variant, and what they cost.

:func:`endpoint_totals` reads one journal's endpoint series; the tables it makes come from
:func:`sim.whatif.breakdown.sweep_endpoints`. :func:`draw_endpoint_failures` draws them as
grouped bars, :func:`plot_endpoint_outcomes` next to the sweep's costs per variant.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sim.report.figures import new_figure
from sim.whatif.figures import NOTE_COLOUR, colours, legend, style, thousands, variant_labels

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from sim.journal.record import Journal

FAILED = ("errors", "timeouts", "rejected")


def endpoint_totals(journal: Journal) -> list[dict[str, Any]]:
    """One run's requests and failed requests per endpoint, from its journal's endpoint series.

    Rows: ``endpoint``, ``requests``, ``errors``, ``timeouts``, ``rejected``, ``failed`` (the
    three together) and ``error_ratio``; counts scaled by ``traffic.represents`` like the
    journal's.
    """
    table = journal.data["metrics"]["series"]
    at = {c: i for i, c in enumerate(table["columns"])}
    totals: dict[str, dict[str, float]] = {}
    for row in table["rows"]:
        if row[at["scope"]] != "endpoint":
            continue
        counts = totals.setdefault(row[at["name"]], dict.fromkeys(("requests", *FAILED), 0.0))
        for column in counts:
            counts[column] += row[at[column]]
    out = []
    for endpoint, counts in totals.items():
        failed = sum(counts[c] for c in FAILED)
        requests = counts["requests"]
        out.append(
            {
                "endpoint": endpoint,
                **{c: int(v) for c, v in counts.items()},
                "failed": int(failed),
                "error_ratio": failed / requests if requests else 0.0,
            }
        )
    return out


def draw_endpoint_failures(
    ax: Axes,
    table: pd.DataFrame,
    endpoints: Sequence[str] | None = None,
    *,
    title: str = "Where the failures land: failed requests per endpoint",
    legend_loc: str | None = "upper right",
    top_at_least: float = 0.0,
) -> float:
    """Grouped bars on ``ax``: mean failed requests per run, per endpoint, one bar per variant.

    ``endpoints``: which to draw (default: all); they run left to right from the most failed
    to the least (summed over variants). The y axis reaches at least ``top_at_least``, so
    that a handful of failures does not fill a panel. Returns the tallest bar.
    """
    means = table.groupby(["endpoint", "variant"], observed=True)[["failed", "requests"]].mean()
    totals = means["failed"].groupby(level="endpoint").sum()
    order = [str(e) for e in totals.sort_values(ascending=False, kind="stable").index]
    if endpoints is not None:
        order = [e for e in order if e in endpoints]
    labels = [str(v) for v in table["variant"].cat.categories]
    failed: dict[Any, float] = means["failed"].to_dict()
    width = 0.84 / len(labels)
    for i, (label, colour) in enumerate(zip(labels, colours(len(labels)), strict=True)):
        xs = [j - 0.42 + (i + 0.5) * width for j in range(len(order))]
        heights = [float(failed.get((endpoint, label), 0.0)) for endpoint in order]
        ax.bar(xs, heights, width=width * 0.92, color=colour, label=label)
    tallest = max((v for (e, _), v in failed.items() if e in order), default=0.0)
    top = max(tallest * 1.08, top_at_least) or 1.0
    ax.set_ylim(0, top)
    if tallest < top / 50:  # bars too short to see: say what they hold
        ax.text(
            0.5,
            0.5,
            f"at most {tallest:,.0f} failed requests per run on any of these endpoints",
            transform=ax.transAxes,
            ha="center",
            fontsize=10,
            color=NOTE_COLOUR,
        )
    ax.set_xticks(range(len(order)))
    ax.set_xticklabels(order)
    ax.set_xlim(-0.6, len(order) - 0.4)
    seeds = table.attrs.get("seeds") or sorted(set(table["seed"]))
    runs = "seed " + str(seeds[0]) if len(seeds) == 1 else f"mean of {len(seeds)} seeds"
    ax.set_ylabel(f"failed requests per run ({runs})")
    ax.set_xlabel("endpoint (most failures first)")
    ax.set_title(title, loc="left", fontsize=12)
    thousands(ax, axis="y")
    style(ax, grid="y")
    if legend_loc is not None:
        legend(ax, loc=legend_loc)
    return float(tallest)


def plot_endpoint_outcomes(
    df: pd.DataFrame,
    endpoints: pd.DataFrame,
    *,
    question: str,
    columns: Sequence[str] = ("error_ratio", "lost_revenue"),
    apart: Sequence[str] = (),
) -> Figure:
    """Failed requests per endpoint (top), then per variant each of ``columns`` with 95 % CIs.

    ``df``: a sweep of the variants (:func:`sim.whatif.variants.sweep_variants`);
    ``endpoints``: the per-endpoint table of the same runs
    (:func:`sim.whatif.breakdown.sweep_endpoints`). ``apart``: endpoints drawn
    in a panel of their own at the top left, so that the others keep a scale of their own
    (the endpoint that takes the brunt, and those the failure spreads to).
    """
    from sim.whatif.outcomes import draw_intervals

    labels = variant_labels(df)
    height = 520 + max(300, 90 * len(labels))
    fig = new_figure((1700, height + 120))
    grid = fig.add_gridspec(2, len(columns), height_ratios=[1.15, 1.0], hspace=0.42, wspace=0.08)
    if apart:
        top = grid[0, :].subgridspec(1, 2, width_ratios=[1, 3], wspace=0.18)
        tallest = draw_endpoint_failures(
            fig.add_subplot(top[0, 0]),
            endpoints,
            apart,
            title=f"Failed requests on {', '.join(apart)}",
            legend_loc=None,
        )
        others = [e for e in dict.fromkeys(endpoints["endpoint"]) if e not in apart]
        draw_endpoint_failures(
            fig.add_subplot(top[0, 1]),
            endpoints,
            others,
            title="… and on every other endpoint (its own scale: up to at least 1/20 of the left)",
            top_at_least=tallest / 20,
        )
    else:
        draw_endpoint_failures(fig.add_subplot(grid[0, :]), endpoints)
    axes = [fig.add_subplot(grid[1, i]) for i in range(len(columns))]
    for ax, column in zip(axes, columns, strict=True):
        draw_intervals(ax, df, column)
        ax.set_yticks(range(len(labels)))
        ax.set_yticklabels(list(reversed(labels)) if ax is axes[0] else [])
    left = min(0.4, 0.03 + max(len(s) for s in labels) * 7.5 / 1700)
    total = height + 120
    fig.subplots_adjust(left=left, right=0.98, top=1 - 90 / total, bottom=110 / total)
    fig.suptitle(question, x=0.02, y=1 - 16 / total, ha="left", va="top", fontsize=15)
    fig.text(
        0.02,
        10 / total,
        f"Bottom: dots are runs ({len(df.attrs.get('seeds') or [])} seeds per variant, "
        f"{df.attrs.get('engine')} engine, responder {df.attrs.get('responder') or 'per variant'}); "
        "black tick and coloured bar: the median and its 95 % bootstrap interval.",
        fontsize=9,
        color=NOTE_COLOUR,
    )
    return fig
