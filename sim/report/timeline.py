"""The incident timeline: error ratio, latency and orders over wall-clock time, with markers.

Three stacked panels share the time axis: (a) the user-facing error ratio per endpoint,
(b) the p95 latency per endpoint (log scale), (c) orders and failures per minute. Changes
are dashed vertical lines, faults light red spans, actions short bars at the top of (a).

When the journal has on-call signals, a small "on-call" panel sits on top: one thin lane per
alerting monitor/target coloured by severity, a pager row (page, escalation, acknowledgement)
and a customers row (tickets, customer-service escalations). The detection is a bold line
through every panel; red herrings are grey hatching in (b) with their ids in a strip at its
bottom. Journals written before these signals existed draw as before.

The pieces live beside this module: ``figures`` (canvas, saving, colours), ``spans``
(journal → spans), ``series`` (binned lines), ``markers`` (header and action lanes) and
``oncall`` (the on-call panel and the red-herring strip). matplotlib is imported on first
use, so ``import sim`` stays cheap; the lines are summed from the journal's rows without
pandas, so ``run`` and the drill do not load it for their pictures.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.report.figures import (
    ACTION_PALETTE,
    CHANGE_COLOUR,
    DEFAULT_DPI,
    DEFAULT_SIZE,
    DETECTION_COLOUR,
    FAULT_COLOUR,
    FAULT_FILL,
    HERRING_COLOUR,
    HERRING_HATCH,
    new_figure,
    save_figure,
)
from sim.report.markers import (
    HEADER_BASE,
    HEADER_STEP,
    LANE_STEP,
    LANE_TOP,
    draw_actions,
    draw_header,
    header_levels,
)
from sim.report.oncall import (
    ROW_STEP,
    STRIP_BASE,
    STRIP_STEP,
    OnCall,
    draw_herrings,
    draw_oncall,
    label_rows,
)
from sim.report.series import bin_width, business_series, endpoint_series, steps
from sim.report.spans import (
    HERRING_KINDS,
    Span,
    action_spans,
    detection,
    fault_spans,
    red_herring_spans,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backend_bases import RendererBase

    from sim.journal.record import Journal


def plot_timeline(
    journal: Journal,
    path: str | Path,
    *,
    bin_seconds: float | None = None,
    size: tuple[int, int] = DEFAULT_SIZE,
    dpi: int = DEFAULT_DPI,
) -> Path:
    """Draw the run's timeline to ``path`` (PNG by default) and return the path.

    Metrics windows are grouped into bins of ``bin_seconds`` (default: the smallest
    multiple of the journal's window that is at least a minute) so the lines stay legible;
    error ratios are summed over the bin, the latency is the worst window's p95.
    """
    import matplotlib.dates as mdates
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter, LogFormatter, LogLocator

    data = journal.data
    start = datetime.fromisoformat(str(data["clock_start"]))
    horizon = float(data["horizon"])
    window = float(data["window"])
    binw = bin_width(window, bin_seconds)

    def when(t: float) -> float:
        return float(mdates.date2num(start + timedelta(seconds=t)))  # type: ignore[no-untyped-call]

    endpoints, ratio, p95 = endpoint_series(journal.table("series"), binw)
    business = business_series(journal.table("business"), binw, window)
    oncall = OnCall.of(journal, horizon)
    detected = detection(journal)
    herrings = red_herring_spans(journal, horizon)

    fig = new_figure(size, dpi)
    pt = fig.dpi / 72.0
    ax_alerts: Axes | None = None
    if oncall.rows:
        # The on-call panel gets a fixed height per row, estimated against ~80 % of the figure
        # (the rest is title, header and axis labels), at most 30 % of the panels.
        share = min(0.3, (len(oncall.rows) + 0.6) * ROW_STEP * pt / (0.8 * fig.bbox.height))
        ax_alerts, ax_err, ax_lat, ax_biz = fig.subplots(
            4,
            1,
            sharex=True,
            gridspec_kw={
                "height_ratios": [3.25 * share / (1 - share), 1.25, 1.0, 1.0],
                "hspace": 0.08,
            },
        )
        panels: tuple[Axes, ...] = (ax_alerts, ax_err, ax_lat, ax_biz)
    else:
        ax_err, ax_lat, ax_biz = fig.subplots(
            3, 1, sharex=True, gridspec_kw={"height_ratios": [1.25, 1.0, 1.0], "hspace": 0.08}
        )
        panels = (ax_err, ax_lat, ax_biz)
    ax_top = panels[0]
    # -- (a) error ratio ---------------------------------------------------------------------
    colours = _endpoint_colours(endpoints)
    for i, name in enumerate(endpoints):
        # Thinner lines drawn later: endpoints sharing a value (0 %, 100 %) stay visible as
        # nested stripes instead of hiding one another.
        xs, ys = steps(ratio[name], binw, when)
        lw = max(1.0, 3.4 - 2.4 * i / max(1, len(endpoints) - 1))
        ax_err.plot(xs, ys, drawstyle="steps-post", lw=lw, color=colours[name], label=name)
    ax_err.set_yticks([0, 25, 50, 75, 100])
    ax_err.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:.0f} %"))
    ax_err.set_ylabel("(a) failed requests, %")
    # -- (b) latency p95 ---------------------------------------------------------------------
    for name in endpoints:
        xs, ys = steps(p95[name], binw, when)
        ax_lat.plot(xs, ys, drawstyle="steps-post", lw=1.4, color=colours[name], label=name)
    ax_lat.set_yscale("log")
    ax_lat.yaxis.set_major_locator(LogLocator(base=10))
    ax_lat.yaxis.set_major_formatter(FuncFormatter(_ms_label))
    # a range under a decade labels some minor ticks: plain numbers like the major ones
    ax_lat.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False))
    ax_lat.set_ylabel("(b) latency p95, ms")
    # -- (c) business ------------------------------------------------------------------------
    biz_lines = (
        ("orders", "orders / min", "#2ca02c", "-", 2.0),
        ("checkout_failures", "failed checkouts / min", FAULT_COLOUR, "-", 1.6),
        ("failed_sessions", "failed sessions / min", "#ff7f0e", "--", 1.4),
    )
    for column, label, colour, style, lw in biz_lines:
        xs, ys = steps(business[column], binw, when)
        ax_biz.plot(xs, ys, drawstyle="steps-post", color=colour, ls=style, lw=lw, label=label)
    ax_biz.set_ylim(bottom=0)
    ax_biz.set_ylabel("(c) shop, per minute")
    ax_biz.set_xlabel(f"time of day ({start.tzname() or 'local'}), {start:%Y-%m-%d}")
    # -- on-call panel -----------------------------------------------------------------------
    if ax_alerts is not None:
        draw_oncall(ax_alerts, oncall, when)
    # -- shared x axis -----------------------------------------------------------------------
    ax_biz.set_xlim(when(0), when(horizon))
    locator = mdates.AutoDateLocator(tz=start.tzinfo, minticks=6, maxticks=16)  # type: ignore[no-untyped-call]
    hhmm = mdates.DateFormatter("%H:%M", tz=start.tzinfo)  # type: ignore[no-untyped-call]
    ax_biz.xaxis.set_major_locator(locator)
    ax_biz.xaxis.set_major_formatter(hhmm)
    for ax in panels:
        ax.grid(
            True, which="major", axis="x" if ax is ax_alerts else "both", color="#e3e3e3", lw=0.8
        )
        ax.set_axisbelow(True)
    # -- markers -----------------------------------------------------------------------------
    changes = journal.events("change")
    faults = fault_spans(journal, horizon)
    acts = action_spans(journal, horizon)
    for ax in panels:
        for f in faults:
            ax.axvspan(when(f.start), when(f.end), color=FAULT_FILL, alpha=0.35, lw=0, zorder=0)
        for c in changes:
            ax.axvline(when(float(c["t"])), color=CHANGE_COLOUR, ls=(0, (4, 3)), lw=0.9, zorder=1)
        if detected is not None:
            ax.axvline(when(detected[0]), color=DETECTION_COLOUR, lw=2.2, alpha=0.85, zorder=6)
    action_colours = _action_colours(acts)
    # -- legends (outside, right of the panels) ----------------------------------------------
    legend_style: dict[str, Any] = {
        "loc": "upper left",
        "bbox_to_anchor": (1.0, 1.0),
        "borderaxespad": 1.0,
        "frameon": False,
        "fontsize": 9,
        "title_fontsize": 9,
        "alignment": "left",
    }
    legends = []
    if ax_alerts is not None:
        oncall_handles = oncall.legend_handles()
        if oncall_handles:
            legends.append(
                ax_alerts.legend(handles=oncall_handles, title="on-call", **legend_style)
            )
    legends.append(ax_err.legend(title="endpoint (a, b)", **legend_style))
    marker_handles: list[Any] = []
    if changes:
        marker_handles.append(
            Line2D([], [], color=CHANGE_COLOUR, ls=(0, (4, 3)), lw=0.9, label="change")
        )
    if faults:
        marker_handles.append(Patch(facecolor=FAULT_FILL, alpha=0.6, label="fault (start → end)"))
    if detected is not None:
        marker_handles.append(
            Line2D([], [], color=DETECTION_COLOUR, lw=2.2, alpha=0.85, label="detected")
        )
    marker_handles += [
        Line2D([], [], color=colour, lw=5, solid_capstyle="butt", label=f"action: {kind}")
        for kind, colour in action_colours.items()
    ]
    if herrings:
        marker_handles.append(
            Patch(fill=False, hatch="///", edgecolor=HERRING_COLOUR, lw=0, label="red herring")
        )
    if marker_handles:
        legends.append(ax_lat.legend(handles=marker_handles, title="markers", **legend_style))
    legends.append(ax_biz.legend(title="shop (c)", **legend_style))
    # -- layout: margins measured from the text, in pixels, so any dpi keeps the pixel size --
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    width, height = fig.bbox.width, fig.bbox.height
    left_px = max(_tick_label_width(ax, renderer) for ax in panels) + 10
    right_px = max(lg.get_window_extent(renderer).width for lg in legends) + 16 * pt
    bottom_px = ax_biz.bbox.y0 - ax_biz.xaxis.get_tightbbox(renderer).y0 + 8
    title_px = 10 + (15 + 9) * 1.35 * pt
    left, right = left_px / width, 1 - right_px / width
    fig.subplots_adjust(left=left, right=right, bottom=bottom_px / height, top=0.8)
    header = [(float(c["t"]), str(c["id"]), CHANGE_COLOUR) for c in changes]
    header += [(f.start, f.label, FAULT_COLOUR) for f in faults]
    if detected is not None:
        header.append((detected[0], f"detected ({detected[1]})", DETECTION_COLOUR))
    if ax_alerts is not None:
        avoid = [when(detected[0])] if detected else []
        for m in label_rows(ax_alerts, oncall.marks, oncall.rows, when, renderer, avoid):
            header.append((m.t, m.label, m.colour))
    header.sort(key=lambda h: h[0])
    placements = header_levels(ax_top, header, when, renderer)
    levels = max((lv for lv, _ in placements), default=-1) + 1
    header_px = (HEADER_BASE + levels * HEADER_STEP + 2) * pt if header else 4 * pt
    fig.subplots_adjust(top=1 - (title_px + header_px) / height)
    draw_header(ax_top, header, placements, when)
    lanes = draw_actions(fig, ax_err, acts, action_colours, when, renderer)
    data_top = 1 - (LANE_TOP + lanes * LANE_STEP) * pt / ax_err.bbox.height
    ax_err.set_ylim(0, 100 / max(0.3, data_top))
    strip_levels = draw_herrings(fig, ax_lat, herrings, when, renderer)
    if strip_levels:
        strip = min(0.5, (STRIP_BASE + strip_levels * STRIP_STEP) * pt / ax_lat.bbox.height)
        _raise_log_data(ax_lat, strip)
        for h in herrings:
            if h.key in HERRING_KINDS:  # the slowdowns: hatched above the strip of names
                ax_lat.axvspan(
                    when(h.start),
                    when(h.end),
                    ymin=strip,
                    fill=False,
                    hatch="///",
                    edgecolor=HERRING_HATCH,
                    lw=0,
                    zorder=0.5,
                )
    _stack_legends(legends, renderer, 6 * pt)
    baseline = "" if data.get("faults_enabled", True) else " — baseline (faults off)"
    fig.text(
        left,
        1 - 10 / height,
        f"{journal.scenario_name} — seed {journal.seed}{baseline}",
        ha="left",
        va="top",
        fontsize=15,
        fontweight="bold",
    )
    worst = "" if binw == window else f" of the worst {_dur(window)} window"
    note = (
        f"{_dur(binw)} bins · (a) failed = errors + timeouts + rejected · (b) p95{worst} · "
        f"counts scaled ×{data.get('represents', 1)} · engine: {data.get('engine', '?')}"
    )
    fig.text(
        left,
        1 - (10 + 15 * 1.45 * pt) / height,
        note,
        ha="left",
        va="top",
        fontsize=9,
        color="#555555",
    )
    return save_figure(fig, path)


def _endpoint_colours(names: Sequence[str]) -> dict[str, str]:
    import matplotlib as mpl

    cmap = mpl.colormaps["tab10" if len(names) <= 10 else "tab20"]
    return {n: mpl.colors.to_hex(cmap(i % cmap.N)) for i, n in enumerate(names)}


def _action_colours(acts: Iterable[Span]) -> dict[str, str]:
    kinds = list(dict.fromkeys(a.key for a in acts))
    return {k: ACTION_PALETTE[i % len(ACTION_PALETTE)] for i, k in enumerate(kinds)}


def _ms_label(v: float, _pos: int | None) -> str:
    return f"{v:g}" if v >= 1 else f"{v:.2g}"


def _dur(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def _tick_label_width(ax: Axes, renderer: RendererBase) -> float:
    """How far the y axis' labels reach left of the panel, in pixels."""
    box = ax.yaxis.get_tightbbox(renderer)
    return 0.0 if box is None else ax.bbox.x0 - box.x0


def _raise_log_data(ax: Axes, fraction: float) -> None:
    """Lower a log axis' bottom so its data keep clear of the lowest ``fraction`` of it."""
    lo, hi = ax.get_ylim()
    if not (0 < lo < hi) or not math.isfinite(hi):
        return
    span = math.log10(hi) - math.log10(lo)
    ax.set_ylim(10 ** (math.log10(lo) - span * fraction / (1 - fraction)), hi)


def _stack_legends(legends: Sequence[Any], renderer: RendererBase, gap: float) -> None:
    """Move each legend down, if needed, so it starts ``gap`` pixels below the one above."""
    floor: float | None = None
    for legend in legends:
        box = legend.get_window_extent(renderer)
        if floor is not None and box.y1 > floor - gap:
            ax = legend.axes
            shift = box.y1 - (floor - gap)
            legend.set_bbox_to_anchor((1.0, 1.0 - shift / ax.bbox.height), transform=ax.transAxes)
            box = legend.get_window_extent(renderer)
        floor = box.y0
