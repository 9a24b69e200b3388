"""``chaosdrill list``: the scenario catalogue with one-line descriptions."""

from __future__ import annotations

import argparse
from typing import Any

from rich.table import Table

from sim.cli.common import EXIT_INVALID, EXIT_OK, out
from sim.scenario import ScenarioError, catalogue, format_duration, load

NARROW = 110  # columns below which descriptions go under the names


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "list",
        help="list the scenarios in the catalogue",
        description="List scenario files in $CHAOSDRILL_SCENARIOS, ./scenarios and the "
        "catalogue shipped with chaosdrill; the NAME column is what `chaosdrill run NAME` takes.",
    )
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    files = list(catalogue.entries().values())
    if not files:
        out.print(
            "no scenarios found (looked in $CHAOSDRILL_SCENARIOS, ./scenarios and the shipped "
            "catalogue)"
        )
        return EXIT_INVALID
    from sim.expect.difficulty import of_scenarios

    loaded: dict[Any, Any] = {}  # each file loaded once: a scenario, or its problem
    for path in files:
        try:
            loaded[path] = load(path).scenario
        except ScenarioError as exc:
            loaded[path] = exc
    levels = of_scenarios((p, s) for p, s in loaded.items() if not isinstance(s, ScenarioError))
    # A terminal too narrow for a description column of its own (an 80-column one left it six
    # characters, a word a line) gets each description under its name instead.
    narrow = out.width < NARROW
    longest = max(len(p.stem) for p in loaded)
    table = Table(title="scenarios", title_justify="left", show_lines=narrow)
    if narrow:  # the name on its own line, so never broken either
        table.add_column("name · description", min_width=longest, ratio=1)
    else:
        table.add_column("name", no_wrap=True)  # a name is what `run NAME` takes: never broken
    for col in ("horizon", "faults", "difficulty"):
        table.add_column(col, no_wrap=True)
    if not narrow:
        table.add_column("description")
    status = EXIT_OK
    for path, s in loaded.items():
        if isinstance(s, ScenarioError):
            about = f"[red]invalid[/]: {s.problems[0]}"
            cells = ["", "", ""]
            status = EXIT_INVALID
        else:
            about = s.description
            if s.source is not None:
                about += f"\n[dim]modelled on {s.source.company} {s.source.date.isoformat()}[/]"
            cells = [format_duration(s.horizon), str(len(s.faults)), levels[path].label()]
        if narrow:
            table.add_row(f"[bold]{path.stem}[/]\n{about}", *cells)
        else:
            table.add_row(path.stem, *cells, about)
    out.print(table)
    out.print(
        "[dim]difficulty: points out of 100 from measured runs and the scenario's red herrings "
        "(docs/library.md#difficulty); unmeasured: not in the catalogue's difficulty.json, "
        "or changed since; no page: nobody is paged in any measured run (a resilience check, "
        "not a drill: `drill --random` skips it)[/]"
    )
    return status
