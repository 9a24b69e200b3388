"""``chaosdrill graph``: draw the dependency graph and print what it reveals."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.table import Table

from sim.atomic import writing
from sim.cli.common import EXIT_INVALID, EXIT_OK, load_or_report, out


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "graph",
        help="draw a scenario's dependency graph; list single points of failure",
        description="Draw SCENARIO's components and dependencies to PNG, and print single points "
        "of failure, each component's blast radius and each endpoint's critical path.",
    )
    p.add_argument("scenario", nargs="?", help="scenario file or catalogue name")
    p.add_argument(
        "--out",
        type=Path,
        default=Path("out/graph.png"),
        metavar="PNG",
        help="picture to write (default: out/graph.png)",
    )
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    loaded = load_or_report(args.scenario)
    if loaded is None:
        return EXIT_INVALID
    from sim.model.topology import Topology
    from sim.report import plot_graph

    topo = Topology(loaded.scenario)
    with writing(args.out):
        path = plot_graph(topo, args.out, title=loaded.scenario.name)
    spofs = topo.single_points_of_failure()
    out.print(f"single points of failure: {', '.join(spofs) or 'none'}")
    table = Table(title="blast radius", title_justify="left")
    for col in ("component", "endpoints that fail", "degrade"):
        table.add_column(col)
    for name in topo.components:
        br = topo.blast_radius(name)
        table.add_row(
            name, ", ".join(br.failing_endpoints) or "—", ", ".join(br.degraded_endpoints) or "—"
        )
    out.print(table)
    for endpoint in topo.endpoints:
        out.print(f"critical path of {endpoint}: {' → '.join(topo.critical_path(endpoint))}")
    out.print(f"wrote {path}")
    return EXIT_OK
