"""Scenario errors that name the file, the line, the field and what was expected."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

PathPart = str | int


def escape(char: str) -> str:
    """``char`` itself if it is printable and not a space, else a Python/YAML escape."""
    if char.isprintable() and not char.isspace():
        return char
    code = ord(char)
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )


def render_path(path: Sequence[PathPart]) -> str:
    """``("faults", 0, "breaks")`` → ``faults[0].breaks``; a key that is empty or holds
    spaces or control characters is quoted and escaped (``components['we\\x20b']``), so that
    a path is one word on one line."""
    text = ""
    for part in path:
        word = str(part)
        escaped = "".join(escape(c) for c in word)
        if isinstance(part, int):
            text += f"[{part}]"
        elif not word or escaped != word:
            text += f"['{escaped}']"
        else:
            text += f".{word}" if text else word
    return text or "scenario"


def describe(value: Any) -> str:
    """A short, readable rendering of a received value."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, int) and abs(value) >= 10**57:  # repr of a huge int is slow or refused
        return f"a number of about {abs(value).bit_length() * 30103 // 100_000 + 1} digits"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


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
