"""The invalid-scenario corpus: each file in tests/invalid/ has exactly one defect.

Every corpus file starts with ``# expect: <line> <substring>``: the line the defect must be
reported at and a distinctive part of the message. The rest of each file is a small valid
scenario with that one defect added.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.scenario import ScenarioError, load
from sim.scenario.errors import render_path

CORPUS_DIR = Path(__file__).parent / "invalid"
CORPUS = sorted(CORPUS_DIR.glob("*.yaml"))
EXPECT = re.compile(r"^# expect: (?P<line>\d+) (?P<substring>.+)$")


def expectation(path: Path) -> tuple[int, str]:
    """The ``(line, substring)`` promised by the first line of a corpus file."""
    first = path.read_bytes().split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    match = EXPECT.match(first)
    assert match, f"{path.name}: the first line must be '# expect: <line> <substring>'"
    return int(match["line"]), match["substring"]


def problem_line_pattern(file: str) -> re.Pattern[str]:
    """The shape of a rendered problem: ``FILE:LINE: PATH: MESSAGE`` on one line."""
    return re.compile(rf"^{re.escape(file)}:(?P<line>\d+): (?P<path>\S+): (?P<message>.+)$")


def test_corpus_is_large_enough() -> None:
    """The corpus holds at least 15 invalid scenarios, each named ``*.yaml``."""
    assert len(CORPUS) >= 15


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_invalid_scenario_reports_its_one_defect(path: Path) -> None:
    """Loading a corpus file raises one single-line problem at the expected line and message."""
    line, substring = expectation(path)
    with pytest.raises(ScenarioError) as excinfo:
        load(path)
    problems = excinfo.value.problems
    assert len(problems) == 1, "expected exactly one problem, got:\n" + "\n".join(
        str(p) for p in problems
    )
    (problem,) = problems
    text = str(problem)
    assert "\n" not in text
    match = problem_line_pattern(str(path)).match(text)
    assert match, f"not of the form FILE:LINE: PATH: MESSAGE: {text}"
    assert match["path"] == render_path(problem.path)
    assert match["message"] == problem.message
    assert problem.line == int(match["line"]) == line, text
    assert substring in problem.message, text
