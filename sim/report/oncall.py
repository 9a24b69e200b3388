"""The timeline's on-call panel and its red-herring strip.

The panel has one thin lane per alerting monitor/target coloured by severity, a pager row
(page, escalation, acknowledgement) and a customers row (tickets, customer-service
escalations). Red herrings are thin grey bars with their ids, stacked up from the bottom of
the latency panel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sim.report.figures import CUSTOMER_COLOUR, HERRING_COLOUR, SEVERITY_COLOURS, padded_union
from sim.report.spans import AlertLane, Span, alert_lanes, severity_rank

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backend_bases import RendererBase
    from matplotlib.figure import Figure
    from matplotlib.transforms import Bbox

    from sim.journal.record import Journal

LANE_LABEL_CHARS = 30
# timeline kind → (marker, colour, legend label); shown in the on-call panel's pager row
PAGER_MARKERS = {
    "page": ("v", "#8b0000", "page"),
    "page.escalated": ("^", "#d95f02", "page escalated"),
    "page.acknowledged": ("$\u2713$", "#1a9850", "page acknowledged"),
}
ROW_STEP = 11.5  # points per row of the on-call panel
STRIP_BASE = 4.0  # points from the bottom of panel (b) to the first red-herring bar
STRIP_STEP = 13.0  # points between red-herring levels


def _truncate(text: str, limit: int = LANE_LABEL_CHARS) -> str:
    """Shorten in the middle: lanes of one monitor differ at the end (the target)."""
    if len(text) <= limit:
        return text
    head = (limit - 1) * 2 // 5
    return text[:head] + "…" + text[len(text) - (limit - 1 - head) :]


def _short_dur(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


@dataclass(frozen=True)
class Mark:
    """A point event in the on-call panel: its row, marker and inline label ("" for none)."""

    t: float
    row: str
    marker: str
    colour: str
    label: str = ""
    size: float = 7.0
    milestone: bool = False  # a label that goes to the header when it does not fit inline


@dataclass(frozen=True)
class OnCall:
    """What the on-call panel shows; ``rows`` is empty when the journal has none of it."""

    lanes: list[AlertLane]
    hidden: int
    alerts_known: bool
    marks: list[Mark]

    @classmethod
    def of(cls, journal: Journal, horizon: float) -> OnCall:
        lanes, hidden = alert_lanes(journal, horizon)
        marks: list[Mark] = []
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
                marks.append(Mark(t, "pager", marker, colour, label))
        tickets = [float(e["t"]) for e in journal.events("ticket") if float(e["t"]) <= horizon]
        # every ticket is a faint tick; the first one a labelled dot on top of them
        marks += [Mark(t, "customers", "|", "#c7a6d6", size=6.0) for t in tickets]
        if tickets:
            first = Mark(min(tickets), "customers", "o", CUSTOMER_COLOUR, "first ticket")
            marks.append(replace(first, milestone=True))
        escalations = [
            float(e["t"])
            for e in journal.events("complaints.escalated")
            if float(e["t"]) <= horizon
        ]
        marks += [
            Mark(t, "customers", "D", CUSTOMER_COLOUR, "CS escalation", 6.0, milestone=i == 0)
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
            for sev in sorted(severities, key=severity_rank)
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


def draw_oncall(ax: Axes, oncall: OnCall, when: Any) -> None:
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


def label_rows(
    ax: Axes,
    marks: Sequence[Mark],
    rows: Sequence[str],
    when: Any,
    renderer: RendererBase,
    avoid: Sequence[float] = (),
) -> list[Mark]:
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


def draw_herrings(
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
            trans = offset_copy(base, fig=fig, y=STRIP_BASE + level * STRIP_STEP, units="points")
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
            box = padded_union(bar.get_window_extent(renderer), text.get_window_extent(renderer))
            if not any(lv == level and box.overlaps(b) for lv, b in placed):
                placed.append((level, box))
                levels = max(levels, level + 1)
                break
            bar.remove()
            text.remove()
            level += 1
    return levels
