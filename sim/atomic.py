"""Atomic files and folders: written under a temporary name next to their target, then renamed.

A reader (or an interrupted writer) never sees half a journal, report or picture: the target
either keeps its old content or gets the whole new one. Files come out readable by all
(0644), like ones written with ``open`` — they are for sharing.

A command's output folder is written the same way (:func:`staged_folder`): its files go into
a fresh temporary folder and move into place together at the end, after the files an earlier
run left there under the same names are removed. A folder never holds the journal of one run
beside the report of another, and an interrupted command leaves no temporary file behind.
A write that fails raises :class:`WriteError`: one line naming the path and the reason the
operating system gave.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


class WriteError(OSError):
    """A file or folder that could not be written: ``PATH: cannot write: REASON``."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: cannot write: {reason}")
        self.path = path
        self.reason = reason


@contextmanager
def writing(path: str | Path, *, folder: bool = False) -> Iterator[None]:
    """Turn an ``OSError`` raised in the block into a :class:`WriteError` about ``path``.

    ``folder``: ``path`` is a folder to write into (else a file). When a folder on the way
    is a regular file, the reason says so instead of the bare "File exists" or "Not a
    directory".
    """
    target = Path(path)
    try:
        yield
    except WriteError:
        raise
    except OSError as exc:
        blocker = _file_in_the_way(target if folder else target.parent)
        if blocker is not None:
            reason = f"{blocker} is a file, not a folder"
        else:
            reason = exc.strerror or str(exc)
        raise WriteError(target, reason) from exc


def _file_in_the_way(folder: Path) -> Path | None:
    """The first of ``folder`` and its parents, from the root down, that is not a folder."""
    for place in (*reversed(folder.parents), folder):
        if not place.exists():
            return None
        if not place.is_dir():
            return place
    return None


@contextmanager
def atomic_file(path: str | Path, binary: bool = False) -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path``; on a clean exit it replaces ``path``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        fh: IO[Any] = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8")
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes files private (0600)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_file(path) as fh:
        fh.write(text)
    return Path(path)


def clear_outputs(folder: str | Path, names: Iterable[str]) -> None:
    """Remove the files ``names`` (a command's outputs, left by an earlier run) from ``folder``."""
    for name in names:
        (Path(folder) / name).unlink(missing_ok=True)


@contextmanager
def staged_folder(target: str | Path, names: Iterable[str]) -> Iterator[Path]:
    """A fresh temporary folder whose files move into ``target`` when the block ends cleanly.

    ``names`` are the files the command writes. Those of them that an earlier run left in
    ``target`` are removed first, then the new files move in, so ``target`` never holds files
    of two runs; other files in ``target`` are left alone. When ``target`` does not exist yet,
    the temporary folder is made beside it and renamed into place in one step; otherwise it
    is made inside it (on the same file system as the files it replaces). On an exception
    (Ctrl-C included) the temporary folder is removed and ``target`` is untouched. Every
    ``OSError`` comes out as a :class:`WriteError` about ``target``.
    """
    folder = Path(target)
    outputs = tuple(names)
    with writing(folder, folder=True):
        if folder.exists() and not folder.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))
        home = folder if folder.is_dir() else folder.parent
        home.mkdir(parents=True, exist_ok=True)
        stage = home / f".{folder.name or 'out'}.{secrets.token_hex(6)}.tmp"
        stage.mkdir()  # permissions as for any new folder (the umask's), unlike mkdtemp's 0700
        try:
            yield stage
            if folder.is_dir():
                clear_outputs(folder, outputs)
                for path in sorted(stage.iterdir()):
                    os.replace(path, folder / path.name)
            else:
                os.rename(stage, folder)
        finally:
            shutil.rmtree(stage, ignore_errors=True)


__all__ = [
    "WriteError",
    "atomic_file",
    "clear_outputs",
    "staged_folder",
    "write_text",
    "writing",
]
