"""Calibration against public post-mortems: every scenario with a ``source:`` block, over 30
seeds with the ``experienced`` responder, against its published milestones.

    python benchmarks/calibration.py [SCENARIO …] [--seeds N] [--workers N] [--markdown]
                                     [--pace X] [--tempo fixed|population]

For each milestone: the published time, the simulated 10 %, median and 90 % (minutes since
impact), median ÷ real, how many runs reached it, and the verdict — ``pass`` when the real
time lies inside the 10–90 % band and the median within ×/÷ 1.5 of it; ``not counted`` when a
constant (a fault's ``duration``, an action timed by a ``remedies:`` figure or a default,
or — for a detection or acknowledgement — the paging chain's configured delays) brought it
about in most runs. ``--markdown`` prints the table for docs/incidents.md, with
the commit it was measured at. ``--pace X`` runs the experienced engineer at another pace
(its runbook's ``profile.pace``, 0.7 as shipped: each look and each hands-on minute × X) — a
what-if on the model of the people, for seeing how much of a gap one global pace can close
(docs/incidents.md, "One pace for every incident"), never a setting to ship from one
incident's figures. The team's tempo is drawn per run from the spread of real teams'
page-to-cause times (``--tempo population``, the default: sim/response/people.py,
docs/people.md) — a real incident was answered by one team on one night, not by the model's
one engineer; ``--tempo fixed`` runs the same engineer every night. Exit status 0 whatever the verdicts (1 on bad input): this measures, it
does not gate.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def named_or_catalogue(names: list[str]) -> list[Any]:
    """The scenarios ``names`` (names or files), or the whole catalogue. A bad one ends the
    program: its first problem on stderr, one line, exit status 1."""
    import sim
    from sim.scenario import ScenarioError
    from sim.scenario.catalogue import entries

    try:
        return [sim.load_scenario(n) for n in names or [p.stem for p in entries().values()]]
    except ScenarioError as exc:
        print(f"error: {exc.problems[0]}", file=sys.stderr)
        raise SystemExit(1) from None


def sourced(names: list[str]) -> list[Any]:
    """The scenarios to calibrate: those named, or every catalogue scenario with a source."""
    import sim
    from sim.scenario.catalogue import entries

    if names:
        scenarios = [sim.load_scenario(n) for n in names]
        missing = [s.name for s in scenarios if s.source is None or not s.source.milestones]
        if missing:
            raise ValueError(f"no source: milestones to calibrate against in {', '.join(missing)}")
        return scenarios
    every = [sim.load_scenario(path) for path in entries().values()]
    return [s for s in every if s.source is not None and s.source.milestones]


# The SRE workbook's fast-burn page for a 99.9 % objective, in place of the seed shop's
# "more than 5 % for a minute" (docs/signals.md, "Burn-rate alerts"): --paging burn-rate.
BURN_RATE_PAGE = {
    "name": "endpoint-errors",
    "kind": "burn_rate",
    "threshold": 14.4,
    "over": "1h",
    "for": "0s",
    "objective": 0.999,
    "severity": "critical",
    "summary": "an endpoint burns its error budget 14.4 times too fast (1 h and 5 min)",
}


def burn_rate_paging(scenario: Any) -> Any:
    """``scenario`` paged by budget burn: its ``endpoint-errors`` rule (its own or the default
    set's) replaced by :data:`BURN_RATE_PAGE`, on the same targets with the same evidence."""
    from sim.expect.overrides import overridden
    from sim.whatif import monitors_with

    rules = [
        {**rule, **BURN_RATE_PAGE} if rule["name"] == "endpoint-errors" else rule
        for rule in monitors_with(scenario)
    ]
    return overridden(scenario, {"monitors": rules})


def who(pace: float | None, tempo: str, paging: str = "threshold") -> str:
    """The responder as the table's title says it."""
    out = "experienced responder"
    if pace is not None:
        out += f" at pace {pace:g}"
    if tempo == "population":
        out += ", tempo drawn from the population of real teams"
    else:
        out += " at a fixed tempo"
    if paging == "burn-rate":
        out += ", paged by error-budget burn (14.4× over 1 h and 5 min) instead of the 5 % rule"
    return out


def markdown(
    rows: list[dict[str, Any]], seeds: int, ref: str, responder: str, options: Sequence[str] = ()
) -> str:
    """The table for docs/incidents.md; ``options``: the command line's others, as typed."""
    command = " ".join(["python benchmarks/calibration.py", *options, "--markdown"])
    head = (
        f"Measured at commit {ref}, {seeds} seeds, {responder} "
        f"(`{command}`); minutes since impact.\n\n"
        "| scenario | incident | milestone | real | simulated 10 % | median | 90 % "
        "| median ÷ real | reached | verdict |\n|---|---|---|---|---|---|---|---|---|---|\n"
    )

    def cell(v: Any) -> str:
        return "—" if v is None else str(v)

    body = "".join(
        f"| {r['scenario']} | {r['incident']} | {r['milestone']} | {cell(r['real_min'])} "
        f"| {cell(r['p10_min'])} | {cell(r['median_min'])} | {cell(r['p90_min'])} "
        f"| {cell(r['ratio'])} | {r['reached']} | {r['verdict']} |\n"
        for r in rows
    )
    return head + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenarios", nargs="*", help="names or files (default: every sourced)")
    parser.add_argument("--seeds", type=int, default=30, help="seeds 1..N (default 30)")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: cores)")
    parser.add_argument("--markdown", action="store_true", help="print a table for the docs")
    parser.add_argument(
        "--pace",
        type=float,
        default=None,
        help="run the experienced engineer at this pace instead of its runbook's 0.7 (each "
        "look and hands-on step × X): a what-if on the model of the people",
    )
    parser.add_argument(
        "--tempo",
        choices=("fixed", "population"),
        default="population",
        help="population (default): each run draws how fast the team is from real teams' "
        "page-to-cause times (docs/people.md); fixed: the same engineer every run",
    )
    parser.add_argument(
        "--paging",
        choices=("threshold", "burn-rate"),
        default="threshold",
        help="threshold (default): the scenarios' own page rule (the seed shop's: more than "
        "5 %% of an endpoint's requests fail for a minute); burn-rate: the SRE workbook's "
        "multiwindow burn-rate page instead — a what-if on an input no post-mortem publishes",
    )
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error("--seeds: expected 1 or more")
    if args.pace is not None and not 0 < args.pace <= 10:
        parser.error("--pace: expected a number above 0, at most 10 (0.7 as shipped)")

    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from sim.expect.calibration import calibrate, with_profile

    console = Console(stderr=True)
    try:
        scenarios = sourced(args.scenarios)
    except (OSError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 1
    if not scenarios:
        console.print("no scenario has a source: block with milestones")
        return 1
    profile: dict[str, Any] = {"tempo": args.tempo}
    if args.pace is not None:
        profile["pace"] = args.pace
    scenarios = [with_profile(s, **profile) for s in scenarios]
    if args.paging == "burn-rate":
        scenarios = [burn_rate_paging(s) for s in scenarios]
    responder = who(args.pace, args.tempo, args.paging)
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    with Progress(console=console, transient=True) as bar:
        for scenario in scenarios:
            task = bar.add_task(scenario.name, total=args.seeds)

            def tick(done: int, total: int, task: Any = task) -> None:
                bar.update(task, completed=done, total=total)

            result = calibrate(scenario, args.seeds, workers=args.workers, progress=tick)
            rows += result.rows()
    took = time.perf_counter() - started
    if args.markdown:
        options = [] if args.tempo == "population" else ["--tempo", args.tempo]
        if args.pace is not None:
            options += ["--pace", f"{args.pace:g}"]
        if args.paging != "threshold":
            options += ["--paging", args.paging]
        print(markdown(rows, args.seeds, commit(), responder, options))
    else:
        table = Table(title=f"calibration, {args.seeds} seeds, {responder} (minutes)")
        for col in ("scenario", "incident", "milestone", "real", "p10", "median", "p90"):
            table.add_column(col)
        for col in ("÷ real", "reached", "verdict"):
            table.add_column(col)
        for r in rows:
            table.add_row(
                r["scenario"],
                r["incident"],
                r["milestone"],
                *(
                    "—" if r[k] is None else str(r[k])
                    for k in ("real_min", "p10_min", "median_min", "p90_min", "ratio")
                ),
                r["reached"],
                r["verdict"],
            )
        out = Console()
        Console(width=max(out.width, 140)).print(table)
    counted = [r for r in rows if not r["verdict"].startswith("not counted")]
    passed = sum(r["verdict"] == "pass" for r in counted)
    console.print(f"{passed} of {len(counted)} counted milestones pass ({took:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
