"""Helpers shared by the commands: finding scenarios, printing problems, exit codes."""

from __future__ import annotations

import sys
from datetime import datetime

from rich.console import Console

from sim.journal import Journal
from sim.scenario import LoadedScenario, ScenarioError, catalogue, format_duration, load
from sim.scenario.durations import wall_clock

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def load_or_report(arg: str | None) -> LoadedScenario | None:
    """Load a scenario, or print its problems (one line each) and return ``None``."""
    try:
        return load(catalogue.resolve(arg))
    except ScenarioError as exc:
        report(exc)
        return None


def report(exc: ScenarioError) -> None:
    for problem in exc.problems:
        print(problem, file=sys.stderr)


def clock(journal: Journal, t: float | None) -> str:
    """Simulated time ``t`` of a run as ``08:41:40 (+41m40s)``; ``—`` for no time."""
    if t is None:
        return "—"
    start = datetime.fromisoformat(journal.data["clock_start"])
    return f"{wall_clock(start, t)} (+{format_duration(round(t))})"
