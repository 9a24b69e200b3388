"""How often the modelled responders resolve each scenario of the catalogue
(docs/library.md#how-often-it-is-resolved).

    python benchmarks/resolution.py [SCENARIO …] [--seeds N] [--workers N]

Runs each scenario (default: the whole catalogue) with the ``experienced`` responder and the
``oracle`` over seeds 1–N (default 10) on the request engine and prints, per scenario, the
seeds in which somebody was paged and the share of those each responder resolved within the
horizon, against the library's bars: the experienced engineer in at least 70 % of them, the
oracle in at least 95 %. A scenario that pages nobody in any seed (a resilience check) has
nothing to resolve. Exit status 0 when every scenario clears both bars, 1 when one does not
(or on bad input).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from calibration import commit, named_or_catalogue  # noqa: E402

BARS = {"experienced": 0.70, "oracle": 0.95}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenarios", nargs="*", help="names or files (default: the catalogue)")
    parser.add_argument("--seeds", type=int, default=10, help="seeds 1..N (default 10)")
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    args = parser.parse_args(argv)
    if not 1 <= args.seeds <= 1000:
        parser.error("--seeds: expected a number from 1 to 1000, such as 10")

    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from sim.expect.difficulty import resolution

    console = Console(stderr=True)
    scenarios = named_or_catalogue(args.scenarios)
    table = Table(
        title=f"resolved within the horizon — seeds 1–{args.seeds}, commit {commit()}",
        caption="bars: experienced ≥ 70 %, oracle ≥ 95 % of the seeds that paged somebody",
    )
    for col in ("scenario", "paged", *BARS, "verdict"):
        table.add_column(col, justify="left" if col == "scenario" else "right")
    failed = 0
    started = time.perf_counter()
    with Progress(console=console, transient=True) as bar:
        for scenario in scenarios:
            task = bar.add_task(scenario.name, total=1)
            found = resolution(
                scenario,
                range(1, args.seeds + 1),
                tuple(BARS),
                workers=args.workers,
                progress=lambda done, total, task=task: bar.update(
                    task, completed=done, total=total
                ),
            )
            if found.paged == 0:
                table.add_row(scenario.name, "0", "—", "—", "no page")
                continue
            shares = {r: found.share(r) or 0.0 for r in BARS}
            ok = all(shares[r] >= BARS[r] for r in BARS)
            failed += not ok
            table.add_row(
                scenario.name,
                f"{found.paged}/{found.seeds}",
                *(f"{found.resolved[r]}/{found.paged} ({shares[r]:.0%})" for r in BARS),
                "pass" if ok else "FAIL",
            )
    Console(width=140).print(table)
    console.print(
        f"{len(scenarios)} scenarios in {time.perf_counter() - started:.0f} s; {failed} below a bar"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
