"""Helpers shared by the commands: finding scenarios, printing problems, exit codes."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from rich.console import Console

from sim.scenario import LoadedScenario, ScenarioError, load

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
DEFAULT_SCENARIO = "bad-schema-migration"

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def catalogue_dirs() -> list[Path]:
    """Where scenario names are looked up: $CHAOSDRILL_SCENARIOS, ./scenarios, the source tree's."""
    dirs = []
    if os.environ.get("CHAOSDRILL_SCENARIOS"):
        dirs.append(Path(os.environ["CHAOSDRILL_SCENARIOS"]))
    dirs.append(Path.cwd() / "scenarios")
    dirs.append(Path(__file__).resolve().parents[2] / "scenarios")
    return [
        d
        for i, d in enumerate(dirs)
        if d.is_dir() and d.resolve() not in {x.resolve() for x in dirs[:i] if x.is_dir()}
    ]


def resolve_scenario(arg: str | None) -> Path:
    """A path as given, or a catalogue name (``bad-schema-migration``) → its file."""
    name = arg or DEFAULT_SCENARIO
    path = Path(name)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path
    for folder in catalogue_dirs():
        for suffix in (".yaml", ".yml"):
            candidate = folder / f"{name}{suffix}"
            if candidate.exists():
                return candidate
    return path  # let loading report "cannot read the file"


def load_or_report(arg: str | None) -> LoadedScenario | None:
    """Load a scenario, or print its problems (one line each) and return ``None``."""
    try:
        return load(resolve_scenario(arg))
    except ScenarioError as exc:
        report(exc)
        return None


def report(exc: ScenarioError) -> None:
    for problem in exc.problems:
        print(problem, file=sys.stderr)
