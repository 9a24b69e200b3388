"""Scenario errors that name the file, the line, the field and what was expected."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PathPart = str | int


def render_path(path: Sequence[PathPart]) -> str:
    """``("faults", 0, "breaks")`` → ``faults[0].breaks``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "scenario"


@dataclass(frozen=True)
class Problem:
    """One defect in a scenario file."""

    file: str
    line: int
    path: tuple[PathPart, ...]
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {render_path(self.path)}: {self.message}"


class ScenarioError(Exception):
    """A scenario file could not be loaded; ``problems`` holds every defect found, in file order."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(sorted(problems, key=lambda p: (p.file, p.line)))
        super().__init__("\n".join(str(p) for p in self.problems))
