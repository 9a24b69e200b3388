"""The incident timeline: error ratio, latency and orders over wall-clock time, with markers.

Three stacked panels share the time axis: (a) the user-facing error ratio per endpoint,
(b) the p95 latency per endpoint (log scale), (c) orders and failures per minute. Changes
are dashed vertical lines, faults light red spans, actions short bars at the top of (a).

When the journal has on-call signals, a small "on-call" panel sits on top: one thin lane per
alerting monitor/target coloured by severity, a pager row (page, escalation, acknowledgement)
and a customers row (tickets, customer-service escalations). The detection is a bold line
through every panel; red herrings are grey hatching in (b) with their ids in a strip at its
bottom. Journals written before these signals existed draw as before.

matplotlib is imported on first use and the figure is drawn on an explicit Agg canvas,
so ``import sim`` stays cheap and nothing depends on (or changes) the pyplot backend.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.backend_bases import RendererBase
    from matplotlib.figure import Figure
    from matplotlib.transforms import Bbox

    from sim.journal.record import Journal

DEFAULT_SIZE = (1600, 1000)  # pixels
DEFAULT_DPI = 100
FAULT_COLOUR = "#d62728"
FAULT_FILL = "#f4a6a6"
CHANGE_COLOUR = "#6f6f6f"
ACTION_PALETTE = ("#1b9e77", "#7570b3", "#d95f02", "#e7298a", "#66a61e", "#e6ab02", "#a6761d")
SEVERITY_COLOURS = {"critical": "#d62728", "warning": "#f0a30a", "info": "#7f93ad"}
DETECTION_COLOUR = "#111111"
HERRING_COLOUR = "#8a8a8a"
HERRING_HATCH = "#c4c4c4"
CUSTOMER_COLOUR = "#7b3294"
MAX_ALERT_LANES = 12
LANE_LABEL_CHARS = 30
# timeline kind → (marker, colour, legend label); shown in the on-call panel's pager row
PAGER_MARKERS = {
    "page": ("v", "#8b0000", "page"),
    "page.escalated": ("^", "#d95f02", "page escalated"),
    "page.acknowledged": ("$\u2713$", "#1a9850", "page acknowledged"),
}
HERRING_KINDS = {"latency_blip": "latency blip", "slow_component": "slow component"}


@dataclass(frozen=True)
class Span:
    """Something with a start and an end in simulated seconds, and a label."""

    start: float
    end: float
    label: str
    key: str = ""


@dataclass(frozen=True)
class AlertLane:
    """One monitor on one target: every time it fired, and its worst severity."""

    label: str  # "monitor/target"
    severity: str
    spans: tuple[Span, ...]


# -- shared helpers (also used by sim.report.graph) --------------------------------------------
def new_figure(size: tuple[int, int] = DEFAULT_SIZE, dpi: int = DEFAULT_DPI) -> Figure:
    """A figure of exactly ``size`` pixels on an Agg canvas (no pyplot, no global state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Save ``fig`` atomically: a temporary file in the same folder, then a rename.

    The format follows the suffix of ``path`` (PNG when it has none). The pixel size is the
    figure's (no tight bounding box), so callers get the size they asked for. The file is
    readable by all (0644), like one written with ``open``.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fmt = target.suffix.lstrip(".").lower() or "png"
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fig.savefig(fh, format=fmt, dpi=fig.dpi)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private (0600); a picture is for sharing
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


# -- timeline ---------------------------------------------------------------------------------
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
    binw = _bin_width(window, bin_seconds)

    def when(t: float) -> float:
        return float(mdates.date2num(start + timedelta(seconds=t)))  # type: ignore[no-untyped-call]

    endpoints, ratio, p95 = _endpoint_series(journal.metrics_frame(), binw)
    business = _business_series(journal.business_frame(), binw, window)
    oncall = _OnCall.of(journal, horizon)
    detected = detection(journal)
    herrings = red_herring_spans(journal, horizon)

    fig = new_figure(size, dpi)
    pt = fig.dpi / 72.0
    ax_alerts: Axes | None = None
    if oncall.rows:
        # The on-call panel gets a fixed height per row, estimated against ~80 % of the figure
        # (the rest is title, header and axis labels), at most 30 % of the panels.
        share = min(0.3, (len(oncall.rows) + 0.6) * _ROW_STEP * pt / (0.8 * fig.bbox.height))
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
        xs, ys = _steps(ratio[name], binw, when)
        lw = max(1.0, 3.4 - 2.4 * i / max(1, len(endpoints) - 1))
        ax_err.plot(xs, ys, drawstyle="steps-post", lw=lw, color=colours[name], label=name)
    ax_err.set_yticks([0, 25, 50, 75, 100])
    ax_err.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:.0f} %"))
    ax_err.set_ylabel("(a) failed requests, %")
    # -- (b) latency p95 ---------------------------------------------------------------------
    for name in endpoints:
        xs, ys = _steps(p95[name], binw, when)
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
        xs, ys = _steps(business[column], binw, when)
        ax_biz.plot(xs, ys, drawstyle="steps-post", color=colour, ls=style, lw=lw, label=label)
    ax_biz.set_ylim(bottom=0)
    ax_biz.set_ylabel("(c) shop, per minute")
    ax_biz.set_xlabel(f"time of day ({start.tzname() or 'local'}), {start:%Y-%m-%d}")
    # -- on-call panel -----------------------------------------------------------------------
    if ax_alerts is not None:
        _draw_oncall(ax_alerts, oncall, when)
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
        for m in _label_rows(ax_alerts, oncall.marks, oncall.rows, when, renderer, avoid):
            header.append((m.t, m.label, m.colour))
    header.sort(key=lambda h: h[0])
    placements = _header_levels(ax_top, header, when, renderer)
    levels = max((lv for lv, _ in placements), default=-1) + 1
    header_px = (_HEADER_BASE + levels * _HEADER_STEP + 2) * pt if header else 4 * pt
    fig.subplots_adjust(top=1 - (title_px + header_px) / height)
    _draw_header(ax_top, header, placements, when)
    lanes = _draw_actions(fig, ax_err, acts, action_colours, when, renderer)
    data_top = 1 - (_LANE_TOP + lanes * _LANE_STEP) * pt / ax_err.bbox.height
    ax_err.set_ylim(0, 100 / max(0.3, data_top))
    strip_levels = _draw_herrings(fig, ax_lat, herrings, when, renderer)
    if strip_levels:
        strip = min(0.5, (_STRIP_BASE + strip_levels * _STRIP_STEP) * pt / ax_lat.bbox.height)
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


def fault_spans(journal: Journal, horizon: float) -> list[Span]:
    """Faults as spans: each ``fault.start`` to the ``fault.end`` of its id, or the run's end."""
    ends: dict[str, list[float]] = {}
    for e in journal.events("fault.end"):
        ends.setdefault(str(e["id"]), []).append(float(e["t"]))
    spans = []
    for e in journal.events("fault.start"):
        t0, fid = float(e["t"]), str(e["id"])
        later = [t for t in ends.get(fid, []) if t >= t0]
        end = min(later) if later else horizon
        if later:
            ends[fid].remove(end)
        spans.append(Span(t0, end, fid, fid))
    return spans


def action_spans(journal: Journal, horizon: float) -> list[Span]:
    """Actions as spans: ``action.start`` to the next ``action.end`` of the same action+target."""
    ends: dict[tuple[str, str], list[float]] = {}
    for e in journal.events("action.end"):
        ends.setdefault((str(e["action"]), str(e["target"])), []).append(float(e["t"]))
    spans = []
    for e in journal.events("action.start"):
        key = (str(e["action"]), str(e["target"]))
        t0 = float(e["t"])
        later = [t for t in ends.get(key, []) if t >= t0]
        end = min(later) if later else horizon
        if later:
            ends[key].remove(end)
        spans.append(Span(t0, end, f"{key[0]} {key[1]}", key[0]))
    return spans


# -- on-call data ---------------------------------------------------------------------------
def alert_lanes(
    journal: Journal, horizon: float, cap: int = MAX_ALERT_LANES
) -> tuple[list[AlertLane], int]:
    """The journal's alerts as lanes, one per ``monitor/target``, and how many were left out.

    A lane holds every firing of its monitor on its target (an alert still firing at the end
    runs to ``horizon``) and takes its worst severity. At most ``cap`` lanes are kept, critical
    ones first, then by first firing; the kept lanes are in order of first firing. Journals
    from before alerting have no ``alerts``: no lanes.
    """
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for record in journal.data.get("alerts") or []:
        if record.get("starts_at") is None or float(record["starts_at"]) > horizon:
            continue
        key = f"{record.get('monitor', '?')}/{record.get('target', '?')}"
        groups.setdefault(key, []).append(record)
    lanes = []
    for key, records in groups.items():
        spans = []
        for r in sorted(records, key=lambda r: float(r["starts_at"])):
            t0 = max(0.0, float(r["starts_at"]))
            t1 = horizon if r.get("ends_at") is None else min(horizon, float(r["ends_at"]))
            spans.append(Span(t0, max(t0, t1), str(r.get("id", key)), key))
        severity = min((str(r.get("severity", "info")) for r in records), key=_severity_rank)
        lanes.append(AlertLane(key, severity, tuple(spans)))
    ranked = sorted(lanes, key=lambda a: (_severity_rank(a.severity), a.spans[0].start))
    kept = sorted(ranked[:cap], key=lambda a: (a.spans[0].start, _severity_rank(a.severity)))
    return kept, len(ranked) - len(kept)


def red_herring_spans(journal: Journal, horizon: float) -> list[Span]:
    """Red herrings that show as something over time (not ``change`` ones), by start.

    ``key`` is the kind; a log burst's label says so, because nothing on the plot shows logs.
    """
    spans = []
    for r in journal.data.get("red_herrings") or []:
        kind = str(r.get("kind", ""))
        if kind == "change" or r.get("start") is None or float(r["start"]) > horizon:
            continue
        t0 = max(0.0, float(r["start"]))
        t1 = horizon if r.get("end") is None else min(horizon, float(r["end"]))
        label = str(r.get("id", kind))
        if kind not in HERRING_KINDS:
            label += f" ({kind.replace('_', ' ')})"
        spans.append(Span(t0, max(t0, t1), label, kind))
    return sorted(spans, key=lambda s: s.start)


def detection(journal: Journal) -> tuple[float, str] | None:
    """When the outage was detected and through which channel, or ``None``."""
    found = journal.data.get("detection") or {}
    if found.get("detected_at") is None:
        return None
    channel = found.get("channel")
    return float(found["detected_at"]), str(channel) if channel else "?"


def _severity_rank(severity: str) -> int:
    ranks = {"critical": 0, "warning": 1, "info": 2}
    return ranks.get(severity, len(ranks))


def _truncate(text: str, limit: int = LANE_LABEL_CHARS) -> str:
    """Shorten in the middle: lanes of one monitor differ at the end (the target)."""
    if len(text) <= limit:
        return text
    head = (limit - 1) * 2 // 5
    return text[:head] + "…" + text[len(text) - (limit - 1 - head) :]


def _short_dur(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


@dataclass(frozen=True)
class _Mark:
    """A point event in the on-call panel: its row, marker and inline label ("" for none)."""

    t: float
    row: str
    marker: str
    colour: str
    label: str = ""
    size: float = 7.0
    milestone: bool = False  # a label that goes to the header when it does not fit inline


@dataclass(frozen=True)
class _OnCall:
    """What the on-call panel shows; ``rows`` is empty when the journal has none of it."""

    lanes: list[AlertLane]
    hidden: int
    alerts_known: bool
    marks: list[_Mark]

    @classmethod
    def of(cls, journal: Journal, horizon: float) -> _OnCall:
        lanes, hidden = alert_lanes(journal, horizon)
        marks: list[_Mark] = []
        for e in journal.events():
            kind, t = str(e["kind"]), float(e["t"])
            if kind in PAGER_MARKERS and t <= horizon:
                marker, colour, _ = PAGER_MARKERS[kind]
                if kind == "page":
                    label = "page"
                elif kind == "page.escalated":
                    label = "escalated"
                else:
                    after = e.get("after")
                    label = "ack" if after is None else f"ack {_short_dur(float(after))}"
                marks.append(_Mark(t, "pager", marker, colour, label))
        tickets = [float(e["t"]) for e in journal.events("ticket") if float(e["t"]) <= horizon]
        # every ticket is a faint tick; the first one a labelled dot on top of them
        marks += [_Mark(t, "customers", "|", "#c7a6d6", size=6.0) for t in tickets]
        if tickets:
            first = _Mark(min(tickets), "customers", "o", CUSTOMER_COLOUR, "first ticket")
            marks.append(replace(first, milestone=True))
        escalations = [
            float(e["t"])
            for e in journal.events("complaints.escalated")
            if float(e["t"]) <= horizon
        ]
        marks += [
            _Mark(t, "customers", "D", CUSTOMER_COLOUR, "CS escalation", 6.0, milestone=i == 0)
            for i, t in enumerate(escalations)
        ]
        return cls(lanes, hidden, "alerts" in journal.data, marks)

    @property
    def rows(self) -> list[str]:
        """Row names, top to bottom."""
        rows = [r for r in ("pager", "customers") if any(m.row == r for m in self.marks)]
        rows += [_truncate(lane.label) for lane in self.lanes]
        if self.hidden:
            rows.append(f"+{self.hidden} more")
        elif self.alerts_known and not self.lanes:
            rows.append("no alert fired")
        return rows

    def legend_handles(self) -> list[Any]:
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        severities = {lane.severity for lane in self.lanes}
        handles: list[Any] = [
            Patch(color=SEVERITY_COLOURS.get(sev, SEVERITY_COLOURS["info"]), label=f"alert: {sev}")
            for sev in sorted(severities, key=_severity_rank)
        ]
        seen: set[tuple[str, str]] = set()
        for m in self.marks:
            name = {"|": "ticket", "o": "first ticket", "D": "CS escalation"}.get(m.marker)
            if name is None:
                name = next(lb for mk, _, lb in PAGER_MARKERS.values() if mk == m.marker)
            if (m.marker, name) in seen:
                continue
            seen.add((m.marker, name))
            handles.append(
                Line2D([], [], ls="none", marker=m.marker, color=m.colour, ms=m.size, label=name)
            )
        return handles


# -- data -------------------------------------------------------------------------------------
def _bin_width(window: float, requested: float | None) -> float:
    """Bins are whole windows: the requested width rounded, or the first ≥ 60 s."""
    if requested is not None:
        if requested <= 0:
            raise ValueError(f"bin_seconds must be positive, got {requested}")
        return max(window, window * round(requested / window))
    return window * max(1, math.ceil(60.0 / window - 1e-9))


def _endpoint_series(
    frame: pd.DataFrame, binw: float
) -> tuple[list[str], dict[str, pd.Series], dict[str, pd.Series]]:
    """Per endpoint: error ratio in % and worst p95 in ms, indexed by bin start (seconds).

    Bins without requests are NaN (a gap in the line), not 0 %.
    """
    ep = frame[frame["scope"] == "endpoint"].copy()
    ep["bin"] = (ep["t"] // binw) * binw
    ep["bad"] = ep["errors"] + ep["timeouts"] + ep["rejected"]
    ep["p95_ms"] = ep["p95"].where(ep["requests"] > 0) * 1000.0
    names = [str(n) for n in dict.fromkeys(ep["name"])]
    ratio: dict[str, pd.Series] = {}
    p95: dict[str, pd.Series] = {}
    for name, rows in ep.groupby("name", sort=False):
        g = rows.groupby("bin")
        sums = g[["requests", "bad"]].sum()
        req = sums["requests"].where(sums["requests"] > 0)
        ratio[str(name)] = 100.0 * sums["bad"] / req
        p95[str(name)] = g["p95_ms"].max()
    return names, ratio, p95


def _business_series(frame: pd.DataFrame, binw: float, window: float) -> dict[str, pd.Series]:
    """Business counts per minute, per bin (a partial last bin is scaled by its real length)."""
    biz = frame.copy()
    biz["bin"] = (biz["t"] // binw) * binw
    g = biz.groupby("bin")
    covered = g["t"].count() * window
    return {
        column: g[column].sum() * 60.0 / covered
        for column in ("orders", "checkout_failures", "failed_sessions")
    }


def _steps(series: pd.Series, binw: float, when: Any) -> tuple[list[float], list[float]]:
    """x (date numbers) and y for a steps-post line, closed at the end of the last bin."""
    xs = [when(float(t)) for t in series.index]
    ys = [float(v) for v in series.to_numpy()]
    if xs:
        xs.append(when(float(series.index[-1]) + binw))
        ys.append(ys[-1])
    return xs, ys


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


# -- markers ----------------------------------------------------------------------------------
_HEADER_STEP = 15.0  # points between header label levels
_HEADER_BASE = 5.0  # points above the top panel
_LANE_TOP = 9.0  # points from the top of panel (a) to the first action bar
_LANE_STEP = 14.0  # points between action lanes


def _header_levels(
    ax: Axes, header: Sequence[tuple[float, str, str]], when: Any, renderer: RendererBase
) -> list[tuple[int, bool]]:
    """Greedy stagger: each label takes the lowest level where it overlaps no earlier label.

    Returns ``(level, flipped)`` per label; a label that would run off the figure's right
    edge is flipped to end at its line. Only the panel's top moves after this, which shifts
    every level alike. A connector that has to pass a lower label runs behind it (labels
    have a white ground and lower levels are drawn on top).
    """
    from matplotlib.text import Text

    edge = ax.figure.bbox.x1 - 4
    placed: list[Bbox] = []
    out: list[tuple[int, bool]] = []
    for t, text, colour in header:
        level = 0
        while True:
            for flipped in (False, True):
                label = _header_text(ax, when(t), text, colour, level, flipped)
                label.update_positions(renderer)
                box = Text.get_window_extent(label, renderer).padded(3)  # the text, no stem
                label.remove()
                if box.x1 <= edge:
                    break
            if not any(box.overlaps(b) for b in placed):
                placed.append(box)
                out.append((level, flipped))
                break
            level += 1
    return out


def _header_text(ax: Axes, x: float, text: str, colour: str, level: int, flipped: bool) -> Any:
    return ax.annotate(
        text,
        xy=(x, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(0, _HEADER_BASE + level * _HEADER_STEP),
        textcoords="offset points",
        ha="right" if flipped else "left",
        va="bottom",
        fontsize=9,
        color=colour,
        fontweight="bold" if colour in (FAULT_COLOUR, DETECTION_COLOUR) else "normal",
        annotation_clip=False,
        zorder=20 - level,
        bbox={"boxstyle": "square,pad=0.2", "fc": "white", "ec": "none"},
        arrowprops={
            "arrowstyle": "-",
            "color": colour,
            "lw": 0.7,
            "ls": ":",
            "relpos": (1.0 if flipped else 0.0, 0.0),
            "shrinkA": 0,
            "shrinkB": 0,
        },
    )


def _draw_header(
    ax: Axes,
    header: Sequence[tuple[float, str, str]],
    placements: Sequence[tuple[int, bool]],
    when: Any,
) -> None:
    for (t, text, colour), (level, flipped) in zip(header, placements, strict=True):
        _header_text(ax, when(t), text, colour, level, flipped)


def _draw_actions(
    fig: Figure,
    ax: Axes,
    acts: Sequence[Span],
    colours: Mapping[str, str],
    when: Any,
    renderer: RendererBase,
) -> int:
    """Short bars at the top of panel (a), one lane per overlap, labelled beside the bar.

    Lanes hang from the panel's top at fixed point offsets; returns how many were used so
    the caller can keep the data below them. A label that would cross the panel's right
    edge goes left of its bar.
    """
    from matplotlib.transforms import offset_copy

    base = ax.get_xaxis_transform()  # x in data, y in axes fraction
    placed: list[tuple[int, Bbox]] = []
    lanes = 0
    for act in sorted(acts, key=lambda a: a.start):
        colour = colours[act.key]
        x0, x1 = when(act.start), when(act.end)
        lane = 0
        while True:
            trans = offset_copy(base, fig=fig, y=-(_LANE_TOP + lane * _LANE_STEP), units="points")
            bar = ax.plot(
                [x0, x1],
                [1.0, 1.0],
                transform=trans,
                color=colour,
                lw=6,
                solid_capstyle="butt",
                clip_on=False,
            )[0]
            tick = ax.plot(
                [x0, x0],
                [1.0, 1.0],
                transform=trans,
                color=colour,
                lw=0,
                marker="|",
                markersize=11,
                markeredgewidth=1.4,
                clip_on=False,
            )[0]
            text = ax.annotate(
                act.label,
                xy=(x1, 1.0),
                xycoords=trans,
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                ha="left",
                fontsize=9,
                color=colour,
                fontweight="bold",
                annotation_clip=False,
            )
            if text.get_window_extent(renderer).x1 > ax.bbox.x1:
                text.remove()
                text = ax.annotate(
                    act.label,
                    xy=(x0, 1.0),
                    xycoords=trans,
                    xytext=(-5, 0),
                    textcoords="offset points",
                    va="center",
                    ha="right",
                    fontsize=9,
                    color=colour,
                    fontweight="bold",
                    annotation_clip=False,
                )
            box = _union(bar.get_window_extent(renderer), text.get_window_extent(renderer))
            if not any(ln == lane and box.overlaps(b) for ln, b in placed):
                placed.append((lane, box))
                lanes = max(lanes, lane + 1)
                break
            for artist in (bar, tick, text):
                artist.remove()
            lane += 1
    return lanes


def _tick_label_width(ax: Axes, renderer: RendererBase) -> float:
    """How far the y axis' labels reach left of the panel, in pixels."""
    box = ax.yaxis.get_tightbbox(renderer)
    return 0.0 if box is None else ax.bbox.x0 - box.x0


def _union(a: Bbox, b: Bbox) -> Bbox:
    from matplotlib.transforms import Bbox

    return Bbox.union([a, b]).padded(3)


# -- on-call signals --------------------------------------------------------------------------
_ROW_STEP = 11.5  # points per row of the on-call panel
_STRIP_BASE = 4.0  # points from the bottom of panel (b) to the first red-herring bar
_STRIP_STEP = 13.0  # points between red-herring levels


def _draw_oncall(ax: Axes, oncall: _OnCall, when: Any) -> None:
    """Lanes, markers and row names of the on-call panel (the labels come with the layout).

    Row ``i`` sits at ``y = -i``; the row names are the y tick labels, so the left margin
    makes room for them like for any tick label.
    """
    rows = oncall.rows
    y_of = {name: -float(i) for i, name in enumerate(rows[:2]) if name in ("pager", "customers")}
    first_lane = len(y_of)
    for i, lane in enumerate(oncall.lanes, start=first_lane):
        ax.broken_barh(
            [(when(s.start), max(when(s.end) - when(s.start), 1e-9)) for s in lane.spans],
            (-i - 0.27, 0.54),
            color=SEVERITY_COLOURS.get(lane.severity, SEVERITY_COLOURS["info"]),
            lw=0,
            zorder=3,
        )
    for m in oncall.marks:
        y = y_of[m.row]
        ax.plot(
            [when(m.t)],
            [y],
            ls="none",
            marker=m.marker,
            color=m.colour,
            ms=m.size,
            mew=1.0 if m.marker == "|" else 0.6,
            zorder=5 if m.label else 4,
            clip_on=False,
        )
    ax.set_yticks([-float(i) for i in range(len(rows))], rows, fontsize=8)
    ax.tick_params(axis="y", length=0)
    for i, tick in enumerate(ax.get_yticklabels()):
        if not first_lane <= i < first_lane + len(oncall.lanes):  # not an alert's lane
            tick.set_color("#666666")
            tick.set_fontstyle("italic")
    ax.set_ylim(-(len(rows) - 0.5), 0.5)


def _label_rows(
    ax: Axes,
    marks: Sequence[_Mark],
    rows: Sequence[str],
    when: Any,
    renderer: RendererBase,
    avoid: Sequence[float] = (),
) -> list[_Mark]:
    """Inline labels beside their markers: right, else left, else left out (the legend names
    the marker). A label never crosses another label or a marker of its row, a vertical line
    at one of the ``avoid`` x values, nor the panel's sides; earlier labels win. Returns the
    milestones left out, for the header.

    Needs the final horizontal layout only: rows move up or down as a whole later.
    """
    from matplotlib.transforms import Bbox

    pt = ax.figure.dpi / 72.0
    lines = []
    for x in avoid:
        px = ax.transData.transform((x, 0.0))[0]
        lines.append(Bbox([[px - 1.5 * pt, ax.bbox.y0], [px + 1.5 * pt, ax.bbox.y1]]))
    taken: dict[str, list[Bbox]] = {}
    for m in marks:
        if m.label or m.milestone:  # a marker of its own (unlabelled ticks may be crossed)
            px, py = ax.transData.transform((when(m.t), -float(rows.index(m.row))))
            r = 3.0 * pt
            taken.setdefault(m.row, []).append(Bbox([[px - r, py - r], [px + r, py + r]]))
    unplaced = []
    for m in marks:
        if not m.label:
            continue
        x, y = when(m.t), -float(rows.index(m.row))
        for dx, ha in ((6, "left"), (-6, "right")):
            label = ax.annotate(
                m.label,
                xy=(x, y),
                xytext=(dx, 0),
                textcoords="offset points",
                ha=ha,
                va="center",
                fontsize=8,
                color=m.colour,
                annotation_clip=False,
                zorder=7,  # above the ticket ticks and the detection line, on a faint ground
                bbox={"boxstyle": "square,pad=0.1", "fc": "white", "alpha": 0.8, "ec": "none"},
            )
            box = label.get_window_extent(renderer).padded(2)
            inside = ax.bbox.x0 <= box.x0 and box.x1 <= ax.bbox.x1
            blocked = [*taken.get(m.row, []), *lines]
            if inside and not any(box.overlaps(b) for b in blocked):
                taken.setdefault(m.row, []).append(box)
                break
            label.remove()
        else:
            if m.milestone:
                unplaced.append(m)
    return unplaced


def _draw_herrings(
    fig: Figure, ax: Axes, herrings: Sequence[Span], when: Any, renderer: RendererBase
) -> int:
    """Thin grey bars with their ids, stacked up from the bottom of ``ax``; returns the levels.

    Same greedy stagger as the action lanes: each bar takes the lowest level where it and its
    label overlap nothing placed before.
    """
    from matplotlib.transforms import offset_copy

    base = ax.get_xaxis_transform()
    placed: list[tuple[int, Bbox]] = []
    levels = 0
    for h in herrings:
        x0, x1 = when(h.start), when(h.end)
        level = 0
        while True:
            trans = offset_copy(base, fig=fig, y=_STRIP_BASE + level * _STRIP_STEP, units="points")
            bar = ax.plot(
                [x0, x1],
                [0.0, 0.0],
                transform=trans,
                color=HERRING_COLOUR,
                lw=2.5,
                alpha=0.8,
                solid_capstyle="butt",
                clip_on=False,
            )[0]
            text = ax.annotate(
                h.label,
                xy=(x0, 0.0),
                xycoords=trans,
                xytext=(0, 2.5),
                textcoords="offset points",
                ha="left",
                va="bottom",
                fontsize=8,
                fontstyle="italic",
                color=HERRING_COLOUR,
                annotation_clip=False,
                zorder=7,  # above the detection line, on a faint white ground
                bbox={"boxstyle": "square,pad=0.1", "fc": "white", "alpha": 0.75, "ec": "none"},
            )
            if text.get_window_extent(renderer).x1 > ax.bbox.x1:
                text.set_horizontalalignment("right")
                text.xy = (x1, 0.0)
            box = _union(bar.get_window_extent(renderer), text.get_window_extent(renderer))
            if not any(lv == level and box.overlaps(b) for lv, b in placed):
                placed.append((level, box))
                levels = max(levels, level + 1)
                break
            bar.remove()
            text.remove()
            level += 1
    return levels


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
