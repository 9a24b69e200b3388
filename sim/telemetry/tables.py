"""Per-window tables that stay small in memory: recent rows in a list, older ones on disk.

A :class:`Rows` is one table of closed windows (the series, business or error rows) and
reads as one sequence in time order, from the first window to the last: ``len``, indexing
and slicing by absolute position, iteration. Only its recent rows are a list in memory;
:meth:`Rows.spill` moves older ones into a Parquet file in a :class:`Spool` (a temporary
folder), and reading a position that was spilled reads it back. Readers therefore never
notice where a row lives, and a long run's memory stays flat (docs/design.md, "Long runs
stream their windows to Parquet").

pyarrow is imported only when rows are spilled or read back, so ``import sim`` stays cheap.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import os
import shutil
import tempfile
import weakref
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:
    import pyarrow as pa  # type: ignore[import-untyped]

Row = tuple[Any, ...]
_TYPE = {"d": "double", "i": "int64", "s": "string"}  # a column's kind → its Arrow type
_KIND = {arrow: kind for kind, arrow in _TYPE.items()}
COMPRESSION = "zstd"


class Spool:
    """A temporary folder for one run's spilled rows (under ``$TMPDIR``).

    It is removed with everything in it when the last table that refers to it is garbage,
    when the interpreter exits, or on :meth:`remove`: whichever comes first, and only by the
    process that made it (a forked worker inherits the object, not the folder).
    """

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="chaosdrill-"))
        self._remove = weakref.finalize(self, _remove_folder, self.folder, os.getpid())
        self._files = itertools.count()

    def new_file(self, table: str) -> Path:
        """A fresh file name in the folder, for a part of ``table``."""
        return self.folder / f"{table}-{next(self._files):05d}.parquet"

    def remove(self) -> None:
        """Remove the folder now (tables spilled into it cannot be read any more)."""
        self._remove()


def _remove_folder(folder: Path, owner: int) -> None:
    if os.getpid() == owner:
        shutil.rmtree(folder, ignore_errors=True)


class Rows(Sequence[Row]):
    """One table's closed rows, oldest first: chunks in Parquet files, then a recent list.

    ``kinds`` gives each column's type, one letter per column: ``d`` a float, ``i`` an
    integer, ``s`` a string. A chunk is one row group of a Parquet file; rows read back are
    tuples of the same Python types they were written as.
    """

    def __init__(self, name: str, columns: Sequence[str], kinds: str) -> None:
        if len(kinds) != len(columns):
            raise ValueError(f"{name}: {len(columns)} columns but {len(kinds)} kinds")
        self.name = name
        self.columns = tuple(columns)
        self.kinds = kinds
        self.recent: list[Row] = []
        self.spool: Spool | None = None  # kept while the table may read from it
        self._file: Path | None = None  # the one file holding every chunk, once sealed
        self._chunks: list[tuple[Path, int]] = []  # (file, row group), oldest first
        self._ends: list[int] = []  # rows up to the end of each chunk

    # -- writing ---------------------------------------------------------------------------
    def append(self, row: Row) -> None:
        self.recent.append(row)

    def extend(self, rows: Iterable[Row]) -> None:
        self.recent.extend(rows)

    @property
    def spilled(self) -> int:
        """Rows on disk (the first ``spilled`` positions)."""
        return self._ends[-1] if self._ends else 0

    def spill(self, count: int, spool: Spool) -> None:
        """Move the oldest ``count`` recent rows into a new file of ``spool``."""
        if count <= 0:
            return
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        path = spool.new_file(self.name)
        pq.write_table(self._arrow(self.recent[:count]), path, compression=COMPRESSION)
        del self.recent[:count]
        self.spool = spool
        self._chunks.append((path, 0))
        self._ends.append(self.spilled + count)

    def seal(self, spool: Spool) -> None:
        """Gather every row into one Parquet file of ``spool``, ``<name>.parquet`` (a row
        group per chunk, then one for the recent rows), and remove the part files; the table
        then reads from that file (:attr:`sealed`). Call it once, when the table is complete.
        """
        import pyarrow.parquet as pq

        path = spool.folder / f"{self.name}.parquet"
        parts = self._chunks
        with pq.ParquetWriter(path, self._schema(), compression=COMPRESSION) as writer:
            for file, group in parts:
                writer.write_table(pq.ParquetFile(file).read_row_group(group))
            if self.recent:
                writer.write_table(self._arrow(self.recent))
                self._ends.append(len(self))
        self._chunks = [(path, group) for group in range(len(self._ends))]
        self.recent = []
        self._file = path
        self.spool = spool
        for file in {file for file, _ in parts}:
            file.unlink()

    @classmethod
    def stored(cls, name: str, path: Path) -> Rows:
        """The table in the Parquet file ``path``, as :meth:`seal` wrote it."""
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(path).metadata
        schema = meta.schema.to_arrow_schema()
        rows = cls(name, schema.names, "".join(_KIND[str(field.type)] for field in schema))
        rows._file = path
        for group in range(meta.num_row_groups):
            rows._chunks.append((path, group))
            rows._ends.append(rows.spilled + meta.row_group(group).num_rows)
        return rows

    @property
    def sealed(self) -> Path | None:
        """The one Parquet file holding every row (after :meth:`seal`, or :meth:`stored`)."""
        return None if self.recent else self._file

    def arrow(self) -> pa.Table:
        """The whole sealed table, read from its file as an Arrow table."""
        import pyarrow.parquet as pq

        if self.sealed is None:
            raise ValueError(f"the {self.name} table is not sealed in a file")
        return pq.read_table(self.sealed, memory_map=True)

    # -- reading -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.spilled + len(self.recent)

    def __iter__(self) -> Iterator[Row]:
        return self._from(0)

    def __reversed__(self) -> Iterator[Row]:
        yield from reversed(self.recent)
        for chunk in reversed(self._chunks):
            yield from reversed(self._read(chunk))

    @overload
    def __getitem__(self, index: int) -> Row: ...

    @overload
    def __getitem__(self, index: slice) -> list[Row]: ...

    def __getitem__(self, index: int | slice) -> Row | list[Row]:
        spilled = self.spilled
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if start >= spilled and step == 1:  # the usual case: recent rows
                return self.recent[start - spilled : max(start, stop) - spilled]
            wanted = range(start, stop, step)
            if not wanted:
                return []
            low = min(wanted)
            rows = list(itertools.islice(self._from(low), max(wanted) + 1 - low))
            return [rows[i - low] for i in wanted]
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            raise IndexError(f"{self.name} row {index} out of range")
        if position >= spilled:
            return self.recent[position - spilled]
        return next(self._from(position))

    def _from(self, position: int) -> Iterator[Row]:
        """Rows from ``position`` on, reading each chunk on the way once."""
        for c in range(bisect.bisect_right(self._ends, position), len(self._chunks)):
            begin = self._ends[c - 1] if c else 0
            yield from itertools.islice(self._read(self._chunks[c]), max(0, position - begin), None)
        yield from itertools.islice(self.recent, max(0, position - self.spilled), None)

    @staticmethod
    def _read(chunk: tuple[Path, int]) -> list[Row]:
        import pyarrow.parquet as pq

        path, group = chunk
        table = pq.ParquetFile(path).read_row_group(group)
        return list(zip(*(column.to_pylist() for column in table.columns), strict=True))

    # -- Arrow -------------------------------------------------------------------------------
    def _schema(self) -> pa.Schema:
        import pyarrow as pa

        kinds = zip(self.columns, self.kinds, strict=True)
        return pa.schema([(column, pa.type_for_alias(_TYPE[kind])) for column, kind in kinds])

    def _arrow(self, rows: Sequence[Row]) -> pa.Table:
        import pyarrow as pa

        schema = self._schema()
        columns = zip(*rows, strict=True)  # never empty: rows are spilled or sealed only if any
        return pa.Table.from_arrays(
            [pa.array(c, type=f.type) for c, f in zip(columns, schema, strict=True)],
            schema=schema,
        )


def file_sha256(path: Path) -> str:
    """SHA-256 of the file at ``path``, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


__all__ = ["COMPRESSION", "Row", "Rows", "Spool", "file_sha256"]
