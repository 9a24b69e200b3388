"""Where the catalogue that comes with chaosdrill is: its scenarios and the shops they extend.

It is the package data of :data:`SHIPPED`, found with :mod:`importlib.resources`: in the
source tree ``sim/catalogue_files`` is a link to the top-level ``scenarios/`` folder, and a
wheel carries copies of its files.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

SHIPPED = "sim.catalogue_files"


def shipped() -> Path | None:
    """The folder of the catalogue that comes with chaosdrill (``None`` if it is missing)."""
    try:
        root = resources.files(SHIPPED)
    except ModuleNotFoundError:
        return None
    # A namespace package has no file of its own: its folder is the one its files are in.
    for entry in root.iterdir():
        if isinstance(entry, Path):
            return entry.parent
    return None
