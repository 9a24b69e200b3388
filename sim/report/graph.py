"""The dependency graph as a layered left-to-right picture, optionally coloured by status.

Callers sit left of their callees (``Topology.layers()`` gives the column); node shape
shows the kind, and with a ``status`` mapping the fill shows what a run did to each
component: the fault's target, the components whose calls failed, the rest.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.report.figures import DEFAULT_DPI, DEFAULT_SIZE, new_figure, save_figure

if TYPE_CHECKING:
    from sim.journal.record import Journal
    from sim.model.topology import Topology

FAILING_THRESHOLD = 0.01  # share of a window's requests that failed: above it, "failing"

# kind → (marker, colour when no status is shown)
KIND_STYLE: dict[str, tuple[str, str]] = {
    "load_balancer": ("D", "#b39ddb"),
    "web": ("s", "#90caf9"),
    "service": ("o", "#80deea"),
    "database": ("h", "#bcaaa4"),
    "cache": ("p", "#f48fb1"),
    "queue": (">", "#e6ee9c"),
    "third_party": ("^", "#cfcfcf"),
    "link": ("v", "#ffcc80"),
}
STATUS_COLOUR: dict[str, str] = {"fault": "#d62728", "failing": "#ff9f1c", "ok": "#b7e4b0"}
STATUS_LABEL: dict[str, str] = {
    "fault": "fault target",
    "failing": "calls failing (blast radius)",
    "ok": "ok",
}
NODE_SIZE = 1500.0  # points²
BENDS = (0.0, 0.12, -0.12, 0.22, -0.22, 0.32, -0.32, 0.45, -0.45)  # arc3 rad, tried in order
CLEARANCE = 1.15  # an edge should pass at least this many node radii from other nodes
EDGE_GREY = "#8a8a8a"
PROPAGATION = "#c0392b"


def component_status(journal: Journal, topology: Topology) -> dict[str, str]:
    """Each component's status in a run: ``fault``, ``failing`` or ``ok``.

    ``fault``: named in a ``fault.start`` event's ``components``. ``failing``: in some
    metrics window, errors + timeouts + rejected exceeded 1 % of the component's requests.
    """
    status = dict.fromkeys(topology.components, "ok")
    columns, rows = journal.table("series")  # the rows themselves: no pandas for a picture
    at = {c: i for i, c in enumerate(columns)}
    scope, name, requests = at["scope"], at["name"], at["requests"]
    errors, timeouts, rejected = at["errors"], at["timeouts"], at["rejected"]
    for row in rows:
        if row[scope] == "component" and row[requests] > 0:
            bad = row[errors] + row[timeouts] + row[rejected]
            if bad > FAILING_THRESHOLD * row[requests]:
                status[str(row[name])] = "failing"
    for event in journal.events("fault.start"):
        for name in event.get("components") or ():
            status[str(name)] = "fault"
    return status


def plot_graph(
    topology: Topology,
    path: str | Path,
    status: Mapping[str, str] | None = None,
    title: str = "",
    *,
    size: tuple[int, int] = DEFAULT_SIZE,
    dpi: int = DEFAULT_DPI,
) -> Path:
    """Draw the topology left to right (callers → callees) to ``path`` and return the path.

    Node shape shows the kind; with ``status`` the fill shows ``fault`` (red), ``failing``
    (orange) or ``ok`` (green), and calls from a failing component into a failed one are
    drawn red. Dashed edges are optional dependencies (they have a fallback).
    """
    import networkx as nx

    graph = topology.graph
    pos = layered_positions(topology)
    fig = new_figure(size, dpi)
    width, height = fig.bbox.width, fig.bbox.height
    pt = fig.dpi / 72.0
    title_px = 14 + 15 * 1.4 * pt
    ax = fig.add_axes((0.02, 0.03, 0.76, 1 - 0.03 - title_px / height))
    ax.set_axis_off()

    # -- legends first: their width decides how wide the drawing may be ----------------------
    legends = _legends(ax, graph, status)
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    legend_px = max(lg.get_window_extent(renderer).width for lg in legends) + 12 * pt
    ax.set_position((0.02, 0.03, 1 - 0.02 - legend_px / width, 1 - 0.03 - title_px / height))

    xs = [x for x, _ in pos.values()]
    ys = [y for _, y in pos.values()]
    ax.set_xlim(min(xs) - 0.45, max(xs) + 0.45)
    ax.set_ylim(min(ys) - 0.75, max(ys) + 0.45)
    # Nodes as large as the default, but never more than half the room between neighbours.
    unit_px = min(abs(ax.transData.transform((1, 1)) - ax.transData.transform((0, 0))))
    diameter_pt = min(math.sqrt(NODE_SIZE), 0.5 * unit_px / pt)
    node_size = diameter_pt**2
    radius_px = diameter_pt / 2 * pt
    drop = (radius_px + 5 * pt) / unit_px  # label top, just under the node (data units)

    # -- edges: straight when clear, else bent away from the nodes and labels in the way ------
    failed = {"fault", "failing"}
    for u, v, spec in graph.edges(data="spec"):
        propagates = status is not None and status.get(u) == "failing" and status.get(v) in failed
        nx.draw_networkx_edges(
            graph,
            pos,
            edgelist=[(u, v)],
            ax=ax,
            style="solid" if spec.required else "dashed",
            edge_color=PROPAGATION if propagates else EDGE_GREY,
            width=2.2 if propagates else 1.2,
            alpha=0.9 if propagates else 0.8,
            arrows=True,
            arrowstyle="-|>",
            arrowsize=14,
            node_size=node_size,
            node_shape=KIND_STYLE.get(graph.nodes[v]["kind"], ("o", ""))[0],
            connectionstyle=f"arc3,rad={edge_bend(ax, pos, u, v, radius_px, pt):.2f}",
            min_source_margin=6,
            min_target_margin=10,
        )

    # -- nodes: one call per kind (a marker per call) ---------------------------------------
    for kind, (marker, kind_colour) in KIND_STYLE.items():
        nodes = [n for n, k in graph.nodes(data="kind") if k == kind]
        if not nodes:
            continue
        if status is None:
            colours = [kind_colour] * len(nodes)
        else:
            colours = [STATUS_COLOUR.get(status.get(n, "ok"), STATUS_COLOUR["ok"]) for n in nodes]
        nx.draw_networkx_nodes(
            graph,
            pos,
            nodelist=nodes,
            ax=ax,
            node_shape=marker,
            node_size=node_size,
            node_color=colours,
            edgecolors="#333333",
            linewidths=1.2,
        )

    # -- labels under the nodes --------------------------------------------------------------
    labels = {n: f"{n} ×{topology.component(n).replicas}" for n in graph.nodes}
    nx.draw_networkx_labels(
        graph,
        {n: (x, y - drop) for n, (x, y) in pos.items()},
        labels=labels,
        ax=ax,
        font_size=10,
        verticalalignment="top",
        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85},
    )
    fig.text(
        0.02,
        1 - 12 / height,
        title or f"{topology.scenario.name}: dependencies (caller → callee)",
        ha="left",
        va="top",
        fontsize=15,
        fontweight="bold",
    )
    return save_figure(fig, path)


def _legends(ax: Any, graph: Any, status: Mapping[str, str] | None) -> list[Any]:
    """Kinds (top right) and edge styles plus status colours (bottom right), outside the axes."""
    from matplotlib.lines import Line2D

    style: dict[str, Any] = {
        "frameon": False,
        "fontsize": 10,
        "labelspacing": 1.0,
        "alignment": "left",
        "borderaxespad": 0.5,
    }
    present = {k for _, k in graph.nodes(data="kind")}
    kind_handles: list[Any] = [
        Line2D(
            [],
            [],
            ls="",
            marker=marker,
            markersize=12,
            markeredgecolor="#333333",
            markerfacecolor="#e0e0e0" if status is not None else colour,
            label=kind.replace("_", " "),
        )
        for kind, (marker, colour) in KIND_STYLE.items()
        if kind in present
    ]
    kinds = ax.legend(
        handles=kind_handles, title="kind", loc="upper left", bbox_to_anchor=(1.0, 1.0), **style
    )
    ax.add_artist(kinds)
    edge_handles: list[Any] = [
        Line2D([], [], color=EDGE_GREY, lw=1.4, label="required call"),
        Line2D([], [], color=EDGE_GREY, lw=1.4, ls="--", label="optional (has a fallback)"),
    ]
    if status is not None:
        edge_handles.append(Line2D([], [], color=PROPAGATION, lw=2.2, label="failure propagates"))
        edge_handles += [
            Line2D(
                [],
                [],
                ls="",
                marker="o",
                markersize=12,
                markeredgecolor="#333333",
                markerfacecolor=STATUS_COLOUR[s],
                label=STATUS_LABEL[s],
            )
            for s in ("fault", "failing", "ok")
        ]
    edges = ax.legend(
        handles=edge_handles,
        title="status" if status is not None else "edges",
        loc="lower left",
        bbox_to_anchor=(1.0, 0.0),
        **style,
    )
    return [kinds, edges]


def layered_positions(topology: Topology) -> dict[str, tuple[float, float]]:
    """x = layer, y spread evenly per layer, ordered by the mean height of the neighbours.

    A few down-and-up barycentre sweeps keep crossings low; ties keep the scenario's order.
    """
    graph = topology.graph
    layer = topology.layers()
    columns: dict[int, list[str]] = {}
    for name in graph.nodes:
        columns.setdefault(layer[name], []).append(name)
    order = {n: float(i) for col in columns.values() for i, n in enumerate(col)}

    def centred(col: list[str]) -> dict[str, float]:
        return {n: (len(col) - 1) / 2.0 - i for i, n in enumerate(col)}

    ys: dict[str, float] = {}
    for col in columns.values():
        ys.update(centred(col))
    keys = sorted(columns)
    for _ in range(4):
        for sweep, neighbours in ((keys[1:], graph.predecessors), (keys[-2::-1], graph.successors)):
            for k in sweep:
                col = columns[k]

                def bary(n: str, nb: Any = neighbours) -> tuple[float, float]:
                    near = [ys[m] for m in nb(n)]
                    return (-sum(near) / len(near) if near else -ys[n], order[n])

                col.sort(key=bary)
                ys.update(centred(col))
    return {n: (float(layer[n]), ys[n]) for n in graph.nodes}


def edge_bend(
    ax: Any,
    pos: Mapping[str, tuple[float, float]],
    u: str,
    v: str,
    radius_px: float,
    pt: float,
) -> float:
    """The ``arc3`` curvature of the edge u → v that keeps clear of other nodes and labels.

    Tries straight first, then ever stronger bends either way (the geometry of matplotlib's
    ``arc3``, in display space); returns the first bend that is clear, else the clearest.
    """
    import numpy as np

    to_px = ax.transData.transform
    others = [n for n in pos if n not in (u, v)]
    centres = np.array([to_px(pos[n]) for n in others]).reshape(-1, 2)
    label_drop = np.array([0.0, radius_px + 11 * pt])  # the middle of the label under a node
    obstacles = np.vstack([centres, centres - label_drop])
    (x1, y1), (x2, y2) = to_px(pos[u]), to_px(pos[v])
    ts = np.linspace(0.08, 0.92, 40)[:, None]
    middle = float(np.mean([to_px(p)[1] for p in pos.values()]))

    def outward(rad: float) -> float:  # of two equal bends, try the one away from the middle
        return -abs(float((y1 + y2) / 2.0 - rad * (x2 - x1)) - middle)

    best, best_gap = 0.0, -1.0
    for rad in sorted(BENDS, key=lambda r: (abs(r), outward(r))):
        cx = (x1 + x2) / 2.0 + rad * (y2 - y1)
        cy = (y1 + y2) / 2.0 - rad * (x2 - x1)
        curve = (
            (1 - ts) ** 2 * np.array([x1, y1])
            + 2 * (1 - ts) * ts * np.array([cx, cy])
            + ts**2 * np.array([x2, y2])
        )
        if not len(obstacles):
            return rad
        gap = float(np.min(np.linalg.norm(curve[:, None, :] - obstacles[None, :, :], axis=2)))
        if gap >= CLEARANCE * radius_px:
            return rad
        if gap > best_gap:
            best, best_gap = rad, gap
    return best
