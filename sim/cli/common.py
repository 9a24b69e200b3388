"""Helpers shared by the commands: finding scenarios, printing problems, exit codes, signals."""

from __future__ import annotations

import os
import signal
import sys
from contextlib import suppress
from multiprocessing import active_children
from types import FrameType
from typing import NoReturn

from rich.console import Console

from sim.journal.record import TABLES, table_file
from sim.scenario import LoadedScenario, Scenario, ScenarioError, catalogue, load

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_WRITE = 74  # EX_IOERR of sysexits.h: an output file or folder could not be written

# The post-mortem's files, as `run`, `report`, `drill` and `replay` write them.
REPORT_FILES = ("report.md", "report.html", "report-timeline.png", "report-phases.png")
# A long run's journal keeps its metrics tables in files beside it (sim.journal.record).
JOURNAL_FILES = ("journal.json", *(table_file("journal", table) for table in TABLES))
DRILL_FILES = ("session.json", *JOURNAL_FILES, *REPORT_FILES)  # `drill` and `replay`

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def load_or_report(arg: str | None) -> LoadedScenario | None:
    """Load a scenario, or print its problems (one line each) and return ``None``."""
    try:
        return load(catalogue.resolve(arg))
    except ScenarioError as exc:
        report(exc)
        return None


def engine_refusal(scenario: Scenario, engine: str) -> str | None:
    """Why ``engine`` cannot run ``scenario`` (one line), or ``None`` when it can."""
    if engine != "flow":
        return None
    from sim.engine.flow.engine import flow_lacks

    lacks = flow_lacks(scenario)
    if not lacks:
        return None
    return f"the flow engine does not model {'; '.join(lacks)}: use --engine request"


def report(exc: ScenarioError) -> None:
    for problem in exc.problems:
        print(problem, file=sys.stderr)


def terminate(signum: int, frame: FrameType | None) -> NoReturn:
    """SIGTERM does what Ctrl-C in a terminal does: SIGINT reaches the worker processes (those
    that leave it to this process ignore it) and a ``KeyboardInterrupt`` this process, which
    carries ``signal.SIGTERM`` so that the drill ends without asking."""
    for child in active_children():
        if child.pid is not None:
            with suppress(OSError):
                os.kill(child.pid, signal.SIGINT)
    raise KeyboardInterrupt(signal.SIGTERM)
