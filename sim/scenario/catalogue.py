"""The scenario catalogue: finding scenario files by name.

A name such as ``bad-schema-migration`` is looked up, in order, in ``$CHAOSDRILL_SCENARIOS``,
``./scenarios`` and the catalogue that comes with chaosdrill. The first folder that has the
name wins, so a team's own folder can shadow a shipped scenario. Commands, notebooks, sweeps
and the pytest plugin all find scenarios here.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT = "bad-schema-migration"
SUFFIXES = (".yaml", ".yml")


def folders() -> list[Path]:
    """Where names are looked up: $CHAOSDRILL_SCENARIOS, ./scenarios, the shipped catalogue."""
    dirs = []
    if os.environ.get("CHAOSDRILL_SCENARIOS"):
        dirs.append(Path(os.environ["CHAOSDRILL_SCENARIOS"]))
    dirs.append(Path.cwd() / "scenarios")
    dirs.append(Path(__file__).resolve().parents[2] / "scenarios")
    seen: set[Path] = set()
    out = []
    for d in dirs:
        if d.is_dir() and d.resolve() not in seen:
            seen.add(d.resolve())
            out.append(d)
    return out


def entries() -> dict[str, Path]:
    """Every scenario file by name (file stem), earlier folders shadowing later ones, sorted."""
    found: dict[str, Path] = {}
    for folder in reversed(folders()):
        for path in folder.iterdir():
            if path.suffix in SUFFIXES and path.is_file():
                found[path.stem] = path
    return dict(sorted(found.items()))


def resolve(name: str | os.PathLike[str] | None) -> Path:
    """A path as given, or a catalogue name → its file (default: the seed incident).

    A name that is not in the catalogue comes back as a path, so that loading it reports
    "cannot read the file".
    """
    given = os.fspath(name) if name is not None else DEFAULT
    path = Path(given)
    if path.suffix in SUFFIXES or path.exists():
        return path
    for folder in folders():
        for suffix in SUFFIXES:
            candidate = folder / f"{given}{suffix}"
            if candidate.is_file():
                return candidate
    return path


__all__ = ["DEFAULT", "entries", "folders", "resolve"]
