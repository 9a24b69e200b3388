"""Helpers shared by the commands: finding scenarios, printing problems, exit codes."""

from __future__ import annotations

import sys

from rich.console import Console

from sim.scenario import LoadedScenario, ScenarioError, catalogue, load

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
