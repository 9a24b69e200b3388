"""Labels along the top of the timeline: the header over the panels and the action lanes.

The header names changes, faults, the detection and milestones that found no room inline,
staggered in levels above the top panel; actions are short bars hanging from the top of the
error panel, one lane per overlap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sim.report.figures import DETECTION_COLOUR, FAULT_COLOUR, padded_union

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backend_bases import RendererBase
    from matplotlib.figure import Figure
    from matplotlib.transforms import Bbox

    from sim.report.spans import Span

HEADER_STEP = 15.0  # points between header label levels
HEADER_BASE = 5.0  # points above the top panel
LANE_TOP = 9.0  # points from the top of panel (a) to the first action bar
LANE_STEP = 14.0  # points between action lanes


def header_levels(
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
        xytext=(0, HEADER_BASE + level * HEADER_STEP),
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


def draw_header(
    ax: Axes,
    header: Sequence[tuple[float, str, str]],
    placements: Sequence[tuple[int, bool]],
    when: Any,
) -> None:
    for (t, text, colour), (level, flipped) in zip(header, placements, strict=True):
        _header_text(ax, when(t), text, colour, level, flipped)


def draw_actions(
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
            trans = offset_copy(base, fig=fig, y=-(LANE_TOP + lane * LANE_STEP), units="points")
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
            box = padded_union(bar.get_window_extent(renderer), text.get_window_extent(renderer))
            if not any(ln == lane and box.overlaps(b) for ln, b in placed):
                placed.append((lane, box))
                lanes = max(lanes, lane + 1)
                break
            for artist in (bar, tick, text):
                artist.remove()
            lane += 1
    return lanes
