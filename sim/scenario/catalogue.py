"""The scenario catalogue: finding scenario files by name.

A name such as ``bad-schema-migration`` is looked up, in order, in ``$CHAOSDRILL_SCENARIOS``,
``./scenarios`` and the catalogue that comes with chaosdrill. The first folder that has the
name wins, so a team's own folder can shadow a shipped scenario. Commands, notebooks, sweeps
and the pytest plugin all find scenarios here.

The shipped catalogue is the package data of :data:`~sim.scenario.shipped.SHIPPED`, found with
:mod:`importlib.resources`: in the source tree ``sim/catalogue_files`` is a link to the
top-level ``scenarios/`` folder (the one source of the scenarios), and a wheel carries copies
of its files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.loader import load
from sim.scenario.schema import Scenario
from sim.scenario.shipped import SHIPPED, shipped

DEFAULT = "bad-schema-migration"
SUFFIXES = (".yaml", ".yml")


def folders() -> list[Path]:
    """Where names are looked up: $CHAOSDRILL_SCENARIOS, ./scenarios, the shipped catalogue."""
    dirs: list[Path | None] = []
    if os.environ.get("CHAOSDRILL_SCENARIOS"):
        dirs.append(Path(os.environ["CHAOSDRILL_SCENARIOS"]))
    dirs.append(Path.cwd() / "scenarios")
    dirs.append(shipped())
    seen: set[Path] = set()
    out = []
    for d in dirs:
        if d is not None and d.is_dir() and d.resolve() not in seen:
            seen.add(d.resolve())
            out.append(d)
    return out


def entries() -> dict[str, Path]:
    """Every scenario file by name (file stem), earlier folders shadowing later ones, sorted.

    This is ``sim.catalogue()``: the names ``chaosdrill run NAME`` and
    ``sim.load_scenario(NAME)`` take, and the files they stand for.
    """
    found: dict[str, Path] = {}
    for folder in reversed(folders()):
        for path in folder.iterdir():
            if path.suffix in SUFFIXES and path.is_file():
                found[path.stem] = path
    return dict(sorted(found.items()))


@dataclass(frozen=True)
class UnknownName(Problem):
    """A name found in no catalogue folder: there is no file or line to point at."""

    def __str__(self) -> str:
        return self.message


def is_path(given: str) -> bool:
    """Whether ``given`` is a path rather than a catalogue name: it has a scenario suffix or
    a folder in it, or a file or folder of that name exists."""
    separators = [os.sep, os.altsep] if os.altsep else [os.sep]
    path = Path(given)
    return path.suffix in SUFFIXES or any(s in given for s in separators) or path.exists()


def resolve(name: str | os.PathLike[str] | None) -> Path:
    """A path as given, or a catalogue name → its file (default: the seed incident).

    A path is returned as it is (loading a missing one reports "cannot read the file"); a
    name in no catalogue folder raises :class:`ScenarioError` (``no scenario named 'X'``,
    with a did-you-mean when a name is close).
    """
    given = os.fspath(name) if name is not None else DEFAULT
    if is_path(given):
        return Path(given)
    for folder in folders():
        for suffix in SUFFIXES:
            candidate = folder / f"{given}{suffix}"
            if candidate.is_file():
                return candidate
    from sim.scenario.messages import did_you_mean

    known = list(entries())
    hint = did_you_mean(given, known) or (
        f" (known: {', '.join(known)})"
        if known
        else " (looked in $CHAOSDRILL_SCENARIOS, ./scenarios and the shipped catalogue)"
    )
    raise ScenarioError([UnknownName(given, 1, (), f"no scenario named {given!r}{hint}")])


def load_scenario(name: str | os.PathLike[str]) -> Scenario:
    """The scenario of a file or a catalogue name: ``sim.load_scenario``."""
    return load(resolve(name)).scenario


__all__ = [
    "DEFAULT",
    "SHIPPED",
    "UnknownName",
    "entries",
    "folders",
    "is_path",
    "load_scenario",
    "resolve",
    "shipped",
]
