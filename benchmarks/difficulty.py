"""Difficulty of the catalogue's scenarios, measured (docs/library.md#difficulty).

    python benchmarks/difficulty.py [SCENARIO …] [--workers N] [--write]

Runs each scenario (default: the whole catalogue) with the experienced, oracle and
changes-first responders over seeds 1–3 on the request engine, and prints per scenario the
points of each property, the score and the level. ``--write`` stores the measurements, with
each scenario's hash and the commit, in ``scenarios/difficulty.json`` (what ``chaosdrill
list`` and ``chaosdrill drill --random --difficulty`` read), keeping the entries of scenarios
not measured this time. A scenario changed since it was measured shows as *unmeasured* until
this is run again (tests/test_difficulty.py says which). Exit status 0, 1 on bad input.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from calibration import commit, named_or_catalogue  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenarios", nargs="*", help="names or files (default: the catalogue)")
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    parser.add_argument(
        "--write", action="store_true", help="store the figures in scenarios/difficulty.json"
    )
    args = parser.parse_args(argv)

    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from sim.atomic import write_text
    from sim.expect.difficulty import FILE, WEIGHTS, difficulty, document, entry, measure, stored

    console = Console(stderr=True)
    scenarios = named_or_catalogue(args.scenarios)
    table = Table(title="difficulty (points per property; docs/library.md#difficulty)")
    for col in ("scenario", "level", "score", *WEIGHTS):
        table.add_column(col, justify="left" if col == "scenario" else "right")
    records: dict[str, Any] = {}
    started = time.perf_counter()
    with Progress(console=console, transient=True) as bar:
        for scenario in scenarios:
            task = bar.add_task(scenario.name, total=1)

            def tick(done: int, total: int, task: Any = task) -> None:
                bar.update(task, completed=done, total=total)

            measured = measure(scenario, workers=args.workers, progress=tick)
            records[scenario.name] = entry(scenario, measured)
            found = difficulty(scenario, measured)
            table.add_row(
                scenario.name,
                found.level,
                str(found.score),
                *(f"{found.points.get(k, 0):.0f}" for k in WEIGHTS),
            )
    Console(width=160).print(table)
    console.print(f"{len(scenarios)} scenarios in {time.perf_counter() - started:.0f} s")
    if args.write:
        path = ROOT / "scenarios" / FILE
        kept = stored(path.parent)
        write_text(path, document({**kept, **records}, commit()))
        console.print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
