"""The phase chart: how long the response took to reach each milestone, and what it did meanwhile.

The top rows are the incident's phases in order — impact, detection, acknowledgement,
diagnosis, mitigation, resolution — as the scorecard (``sim.scoring``) times them. The impact
row spans the user-facing errors; every other phase is a bar from the start of impact to its
milestone (a diamond, labelled with the clock time and the time since impact), so the bars
form a staircase whose steps are the waits between milestones. A phase never reached runs
hatched to the end of the drill and says "unresolved"; one that does not apply says "n/a".

Below, one lane per kind of responder step (observe, act, communicate, declare, wait): each
step a bar from its start to its end, labelled with its call and target. Steps that chased a
red herring are highlighted in yellow; wrong, harmful and failed steps have red labels and a
step that ended a fault a green one. Labels that would overlap go to a further row of the lane.

Drawn on an explicit Agg canvas like the other pictures; matplotlib loads on first use.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.report.figures import DEFAULT_DPI, FAULT_COLOUR, FAULT_FILL, new_figure, save_figure
from sim.scenario.durations import format_duration, wall_clock

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backend_bases import RendererBase

    from sim.journal.record import Journal
    from sim.scoring import Scorecard
    from sim.scoring.phases import Phase

PHASES = ("impact", "detection", "acknowledgement", "diagnosis", "mitigation", "resolution")
KINDS = ("observe", "act", "communicate", "declare", "wait")
KIND_COLOURS = {
    "observe": "#4c78a8",
    "act": "#f58518",
    "communicate": "#2ca02c",
    "declare": "#9467bd",
    "wait": "#9d9d9d",
}
PHASE_FILL = "#c6dbef"
PHASE_EDGE = "#6b8fb5"
MILESTONE = "#08306b"
HERRING_HIGHLIGHT = "#ffd92f"
GOOD_COLOUR = "#1a7f37"
UNRESOLVED_FILL = "#fde0dd"

# layout, in pixels at the default dpi (scaled with it)
WIDTH = 1600
LEFT, RIGHT, TITLE, BOTTOM = 172, 36, 70, 78  # BOTTOM: axis labels; legend rows add more
LEGEND_ROW = 22
LEGEND_COLUMNS = 6
PHASE_ROW = 34
GAP = 28  # between the phases and the step lanes
SUB_ROW = 24  # one row of a step lane
LANE_GAP = 8
BAR = 16  # height of a step bar
MIN_BAR = 3  # narrowest step bar


@dataclass(frozen=True)
class _Step:
    t: float
    end: float
    kind: str
    label: str
    colour: str  # of the label
    bold: bool
    herring: bool


def plot_phases(
    journal: Journal,
    path: str | Path,
    *,
    scorecard: Scorecard | None = None,
    width: int = WIDTH,
    dpi: int = DEFAULT_DPI,
) -> Path:
    """Draw the phase chart of a run to ``path`` (PNG by default) and return the path.

    ``scorecard`` is ``sim.scoring.score(journal)``; it is computed when not given. The
    height grows with the number of step rows; the width is ``width`` pixels.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Rectangle
    from matplotlib.ticker import FixedLocator, FuncFormatter

    if scorecard is None:
        from sim.scoring import score

        scorecard = score(journal)
    data = journal.data
    start = datetime.fromisoformat(str(data["clock_start"]))
    horizon = float(data["horizon"])
    phases = [(n, scorecard.phases[n]) for n in PHASES if n in scorecard.phases]
    impact = scorecard.phases.get("impact")
    impact_at = impact.at if impact is not None and impact.status == "ok" else None
    stopped = data["summary"].get("errors_stopped")
    steps = _steps(journal, scorecard)

    times = [t for t in [impact_at, *(p.at for _, p in phases)] if t is not None]
    times += [s.t for s in steps]
    t_hi = max([horizon, *(s.end for s in steps)])
    raw_lo = min(times) if times else 0.0
    pad = max(60.0, 0.03 * (t_hi - raw_lo))
    t_lo = max(0.0, math.floor((raw_lo - pad) / 60.0) * 60.0)

    scale = dpi / DEFAULT_DPI
    fig = new_figure((width, 800), dpi)
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    plot_px = width - (LEFT + RIGHT) * scale
    px_per_s = plot_px / (t_hi - t_lo)

    # -- rows: phases, then each kind's lane split into rows where labels would overlap -----
    lanes = _lanes(steps, fig, renderer, px_per_s, t_lo, plot_px, scale)
    phase_h = len(phases) * PHASE_ROW
    lane_rows = sum(len(rows) for _, rows in lanes)
    steps_h = lane_rows * SUB_ROW + max(0, len(lanes) - 1) * LANE_GAP
    handles: list[Any] = [
        Patch(facecolor=FAULT_COLOUR, alpha=0.8, label="impact (user-facing errors)"),
        Patch(facecolor=PHASE_FILL, edgecolor=PHASE_EDGE, label="time to milestone"),
        Line2D([], [], marker="D", ls="", color=MILESTONE, label="milestone"),
        Patch(facecolor=UNRESOLVED_FILL, edgecolor=FAULT_COLOUR, hatch="///", label="unresolved"),
    ]
    kinds_seen = [k for k, _ in lanes]
    handles += [
        Patch(facecolor=KIND_COLOURS.get(k, "#555555"), label=f"step: {k}") for k in kinds_seen
    ]
    if any(s.herring for s in steps):
        handles.append(
            Patch(
                facecolor=HERRING_HIGHLIGHT, edgecolor="#333333", hatch="////", label="red herring"
            )
        )
    if any(s.colour == FAULT_COLOUR for s in steps):
        handles.append(
            Line2D(
                [],
                [],
                color=FAULT_COLOUR,
                lw=0,
                marker="s",
                label="wrong / harmful / failed (red label)",
            )
        )
    bottom = BOTTOM + LEGEND_ROW * math.ceil(len(handles) / LEGEND_COLUMNS)
    inner = phase_h + (GAP + steps_h if lanes else 0) + 6
    height = round((TITLE + bottom + inner) * scale)
    fig.set_size_inches(width / dpi, height / dpi)
    ax = fig.add_axes(
        (
            LEFT * scale / width,
            bottom * scale / height,
            plot_px / width,
            inner * scale / height,
        )
    )
    ax.set_xlim(t_lo, t_hi)
    ax.set_ylim(inner, 0)  # y in layout pixels, from the top
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)

    ticks: list[float] = []
    labels: list[str] = []
    label_colours: list[str] = []
    # -- phase rows -------------------------------------------------------------------------
    # one episode for the run, or one per incident of a shift that had several (each timed
    # from its own impact; their labels short, so that two fit on a row)
    episodes: list[tuple[float | None, float | None, dict[str, Phase], str]] = [
        (impact_at, None if stopped is None else float(stopped), scorecard.phases, "")
    ]
    if scorecard.incidents:
        episodes = [
            (inc.phases["impact"].at, inc.phases["mitigation"].at, inc.phases, inc.name)
            for inc in scorecard.incidents
        ]

    def clock(t: float) -> str:
        return wall_clock(start, t)

    for k, (name, _) in enumerate(phases):
        y = (k + 0.5) * PHASE_ROW
        ticks.append(y)
        labels.append(name)
        label_colours.append("#222222")
    for e, (begun, ended_at, own, incident) in enumerate(episodes):
        until = episodes[e + 1][0] if e + 1 < len(episodes) else None
        t_end = t_hi if until is None else float(until)
        impact_end = ended_at if ended_at is not None else t_end
        if begun is not None:
            ax.axvspan(begun, impact_end, color=FAULT_FILL, alpha=0.18, lw=0, zorder=0)
        origin = begun if begun is not None else t_lo
        for k, (name, _) in enumerate(phases):
            phase = own[name]
            y = (k + 0.5) * PHASE_ROW
            if name == "impact" and begun is not None:
                ended = ended_at is not None
                ax.add_patch(
                    Rectangle(
                        (begun, y - 9),
                        impact_end - begun,
                        18,
                        facecolor=FAULT_COLOUR if ended else UNRESOLVED_FILL,
                        edgecolor=FAULT_COLOUR,
                        hatch=None if ended else "///",
                        alpha=0.8 if ended else 1.0,
                        lw=1.0,
                        zorder=3,
                    )
                )
                if incident:
                    text = f"{incident} · {format_duration(round(impact_end - begun))}"
                    text += "" if ended else " · unresolved"
                elif ended:
                    text = (
                        f"errors {clock(begun)} → {clock(impact_end)} · "
                        f"{format_duration(round(impact_end - begun))}"
                    )
                else:
                    text = f"errors from {clock(begun)} · unresolved"
                _end_label(
                    ax, begun, impact_end, y, text, t_hi, FAULT_COLOUR, px_per_s, solid=ended
                )
            elif phase.status == "unresolved":
                ax.add_patch(
                    Rectangle(
                        (origin, y - 9),
                        t_end - origin,
                        18,
                        facecolor=UNRESOLVED_FILL,
                        edgecolor=FAULT_COLOUR,
                        hatch="///",
                        lw=1.0,
                        zorder=3,
                    )
                )
                ax.annotate(
                    "unresolved",
                    xy=(t_end, y),
                    xytext=(-8, 0),
                    textcoords="offset points",
                    ha="right",
                    va="center",
                    fontsize=10,
                    fontweight="bold",
                    color=FAULT_COLOUR,
                    zorder=6,
                    bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "none"},
                )
            elif phase.status == "n/a" or phase.at is None:
                ax.annotate(
                    "n/a: no user-facing errors" if name == "impact" else "n/a",
                    xy=(origin, y),
                    xytext=(4, 0),
                    textcoords="offset points",
                    ha="left",
                    va="center",
                    fontsize=10,
                    color="#777777",
                )
            else:
                at = float(phase.at)
                ax.add_patch(
                    Rectangle(
                        (origin, y - 9),
                        max(0.0, at - origin),
                        18,
                        facecolor=PHASE_FILL,
                        edgecolor=PHASE_EDGE,
                        lw=0.8,
                        zorder=3,
                    )
                )
                ax.plot([at], [y], marker="D", ms=8, color=MILESTONE, zorder=5, clip_on=False)
                since = phase.since_impact if phase.since_impact is not None else at - origin
                ax.vlines(
                    at, y, inner, colors=MILESTONE, linestyles=":", lw=0.9, alpha=0.45, zorder=1
                )
                text = f"+{format_duration(round(since))}"
                _end_label(
                    ax,
                    at,
                    at,
                    y,
                    text if incident else f"{clock(at)} · {text}",
                    t_hi,
                    MILESTONE,
                    px_per_s,
                    offset=9,
                )
    # -- step lanes -------------------------------------------------------------------------
    if lanes:
        ax.axhline(phase_h + GAP / 2, color="#cccccc", lw=0.8, zorder=1)
    y0 = phase_h + GAP
    min_w = MIN_BAR * scale / px_per_s
    for kind, rows in lanes:
        colour = KIND_COLOURS.get(kind, "#555555")
        ticks.append(y0 + len(rows) * SUB_ROW / 2)
        labels.append(kind)
        label_colours.append(colour)
        for r, row in enumerate(rows):
            y = y0 + (r + 0.5) * SUB_ROW
            for step, flipped in row:
                w = max(step.end - step.t, min_w)
                if step.herring:
                    halo = 4 * scale / px_per_s
                    ax.add_patch(
                        Rectangle(
                            (step.t - halo, y - BAR / 2 - 3),
                            w + 2 * halo,
                            BAR + 6,
                            facecolor=HERRING_HIGHLIGHT,
                            edgecolor="none",
                            zorder=2,
                        )
                    )
                ax.add_patch(
                    Rectangle(
                        (step.t, y - BAR / 2),
                        w,
                        BAR,
                        facecolor=colour,
                        edgecolor="#333333" if step.herring else colour,
                        hatch="////" if step.herring else None,
                        lw=0.6,
                        zorder=3,
                    )
                )
                ax.annotate(
                    step.label,
                    xy=(step.t if flipped else step.t + w, y),
                    xytext=(-4 if flipped else 4, 0),
                    textcoords="offset points",
                    ha="right" if flipped else "left",
                    va="center",
                    fontsize=9,
                    color=step.colour,
                    fontweight="bold" if step.bold else "normal",
                    zorder=4,
                    annotation_clip=False,
                )
        y0 += len(rows) * SUB_ROW + LANE_GAP
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.set_yticklabels(labels, fontsize=10)
    for tick_label, colour in zip(ax.get_yticklabels(), label_colours, strict=True):
        tick_label.set_color(colour)
        if colour != "#222222":
            tick_label.set_fontweight("bold")
    ax.tick_params(axis="y", length=0, pad=8)
    # -- x axis: clock time -----------------------------------------------------------------
    step_s = _tick_step(t_hi - t_lo)
    first = math.ceil(t_lo / step_s) * step_s
    ax.xaxis.set_major_locator(FixedLocator(list(_frange(first, t_hi, step_s))))
    ax.xaxis.set_major_formatter(
        FuncFormatter(lambda v, _pos: f"{start + timedelta(seconds=round(v)):%H:%M}")
    )
    ax.grid(True, axis="x", color="#e6e6e6", lw=0.8)
    ax.set_axisbelow(True)
    ax.set_xlabel(f"time of day ({start.tzname() or 'local'}), {start:%Y-%m-%d}", fontsize=10)
    # -- title and legend -------------------------------------------------------------------
    fig.text(
        LEFT * scale / width,
        1 - 12 * scale / height,
        f"{journal.scenario_name} — seed {journal.seed} — phases of the response",
        ha="left",
        va="top",
        fontsize=15,
        fontweight="bold",
    )
    fig.text(
        LEFT * scale / width,
        1 - 38 * scale / height,
        f"responder: {scorecard.responder} · score {scorecard.score:.1f} / 100 · each phase bar "
        "runs from the start of impact to its milestone",
        ha="left",
        va="top",
        fontsize=10,
        color="#555555",
    )
    fig.legend(
        handles=handles,
        loc="lower left",
        bbox_to_anchor=(LEFT * scale / width, 6 * scale / height),
        ncol=min(LEGEND_COLUMNS, len(handles)),
        frameon=False,
        fontsize=9,
        handlelength=1.6,
        columnspacing=1.6,
    )
    return save_figure(fig, path)


def _steps(journal: Journal, scorecard: Scorecard) -> list[_Step]:
    response: Mapping[str, Any] = journal.data.get("response") or {}
    conduct = scorecard.conduct
    wrong = {int(i) for i in conduct.get("wrong_actions") or []}
    harmful = {int(i) for i in conduct.get("harmful_actions") or []}
    out = []
    for s in sorted(response.get("steps") or [], key=lambda s: (float(s["t"]), int(s["i"]))):
        i = int(s["i"])
        target = s.get("target")
        label = str(s["call"]) + (f" {target}" if target and target != s["call"] else "")
        t, end = float(s["t"]), float(s.get("end", s["t"]))
        if s.get("kind") == "wait":
            label = format_duration(round(max(0.0, end - t)))  # the lane says "wait"
        notes = []
        if s.get("herring"):
            notes.append(f"red herring: {s['herring']}")
        bad = False
        if i in wrong:
            notes.append("wrong")
            bad = True
        if i in harmful or s.get("harmful"):
            notes.append("harmful")
            bad = True
        if s.get("ok") is False:
            notes.append("failed")
            bad = True
        if s.get("remedied"):
            notes.append("remedied " + ", ".join(str(r) for r in s["remedied"]))
        if notes:
            label += " — " + "; ".join(notes)
        colour = FAULT_COLOUR if bad else (GOOD_COLOUR if s.get("remedied") else "#333333")
        out.append(
            _Step(
                t=t,
                end=max(t, float(s.get("end", t))),
                kind=str(s.get("kind", "observe")),
                label=label,
                colour=colour,
                bold=bad or bool(s.get("remedied")),
                herring=bool(s.get("herring")),
            )
        )
    return out


def _lanes(
    steps: Sequence[_Step],
    fig: Any,
    renderer: RendererBase,
    px_per_s: float,
    t_lo: float,
    plot_px: float,
    scale: float,
) -> list[tuple[str, list[list[tuple[_Step, bool]]]]]:
    """Per kind (in ``KINDS`` order, unknown kinds last): rows of ``(step, label flipped)``.

    Greedy: each step, by start, takes the first row where its bar and label overlap nothing
    placed yet. A label that would cross the right edge goes left of its bar.
    """
    kinds = [k for k in KINDS if any(s.kind == k for s in steps)]
    kinds += sorted({s.kind for s in steps} - set(KINDS))
    out = []
    for kind in kinds:
        rows: list[list[tuple[_Step, bool]]] = []
        extents: list[list[tuple[float, float]]] = []
        for step in (s for s in steps if s.kind == kind):
            text_w = _text_width(fig, renderer, step.label, step.bold) + 8 * scale
            x0 = (step.t - t_lo) * px_per_s
            x1 = max((step.end - t_lo) * px_per_s, x0 + MIN_BAR * scale)
            flipped = x1 + text_w > plot_px
            span = (x0 - text_w, x1) if flipped else (x0, x1 + text_w)
            span = (span[0] - 6 * scale, span[1] + 6 * scale)
            for r, taken in enumerate(extents):
                if all(span[1] <= a or span[0] >= b for a, b in taken):
                    taken.append(span)
                    rows[r].append((step, flipped))
                    break
            else:
                extents.append([span])
                rows.append([(step, flipped)])
        out.append((kind, rows))
    return out


def _text_width(fig: Any, renderer: RendererBase, text: str, bold: bool) -> float:
    label = fig.text(0, 0, text, fontsize=9, fontweight="bold" if bold else "normal")
    width = float(label.get_window_extent(renderer).width)
    label.remove()
    return width


def _end_label(
    ax: Axes,
    x0: float,
    x1: float,
    y: float,
    text: str,
    t_hi: float,
    colour: str,
    px_per_s: float,
    offset: float = 6,
    solid: bool = False,
) -> None:
    """A label right of ``x1``; when it would leave the chart, inside a long bar (white on a
    ``solid`` one, on a white ground otherwise) or left of ``x0``."""
    ann = ax.annotate(
        text,
        xy=(x1, y),
        xytext=(offset, 0),
        textcoords="offset points",
        ha="left",
        va="center",
        fontsize=10,
        color=colour,
        zorder=6,
        annotation_clip=False,
    )
    renderer = ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]
    if ann.get_window_extent(renderer).x1 > ax.bbox.x1:
        ann.remove()
        inside = (x1 - x0) * px_per_s > 400
        ax.annotate(
            text,
            xy=(x1 if inside else x0, y),
            xytext=(-offset, 0),
            textcoords="offset points",
            ha="right",
            va="center",
            fontsize=10,
            color="white" if inside and solid else colour,
            fontweight="bold" if inside else "normal",
            bbox=None
            if solid or not inside
            else {"boxstyle": "round,pad=0.25", "fc": "white", "ec": "none"},
            zorder=6,
            annotation_clip=False,
        )


def _tick_step(span: float) -> float:
    """A round tick interval (seconds) giving about 8–16 ticks over ``span``."""
    for minutes in (1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 360, 720, 1440):
        if span / (minutes * 60) <= 16:
            return minutes * 60.0
    return 1440 * 60.0


def _frange(first: float, last: float, step: float) -> list[float]:
    n = int((last - first) // step) + 1
    return [first + i * step for i in range(max(0, n))]
