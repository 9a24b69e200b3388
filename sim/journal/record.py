"""The journal: one immutable JSON record per run, read by reports, scoring and notebooks.

A long run's journal is *streamed*: its three metrics tables are Parquet files beside the
JSON (``journal.series.parquet``, ``journal.business.parquet``, ``journal.errors.parquet``),
and each table's ``rows`` in the JSON is a reference to its file —
``{"file": ..., "count": ..., "sha256": ...}``. In memory (``Journal.data``) such a table's
``rows`` is a :class:`~sim.telemetry.tables.Rows` that reads the file, so every reader of
``data``, of the frames and of the rows works alike on both layouts.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.telemetry.tables import Rows, file_sha256

if TYPE_CHECKING:
    import pandas as pd

FORMAT = "chaosdrill.journal/2"
TABLES = ("series", "business", "errors")
# A metrics table as plain values: its column names and its rows, oldest first.
Table = tuple[Sequence[str], Iterable[Sequence[Any]]]


def team_tempo(response: Mapping[str, Any]) -> str | None:
    """``team tempo × 2.31, evidence opaque`` when the run drew its team (``tempo:
    population``): its factor and what it saw first (docs/people.md), else None."""
    tempo = response.get("tempo")
    if tempo is None:
        return None
    seen = response.get("evidence")
    return f"team tempo × {float(tempo):.2f}" + ("" if seen is None else f", evidence {seen}")


def responder_text(response: Mapping[str, Any]) -> str:
    """``experienced``, or ``experienced (team tempo × 2.31, evidence opaque)`` when the run
    drew its team."""
    name = str(response.get("responder") or "none")
    team = team_tempo(response)
    return name if team is None else f"{name} ({team})"


def table_file(stem: str, table: str) -> str:
    """The file of a streamed journal's ``table`` beside the journal ``<stem>.json``."""
    return f"{stem}.{table}.parquet"


@dataclass(frozen=True)
class Journal:
    """A run's record. ``data`` is the JSON document; the properties are views of it."""

    data: Mapping[str, Any]

    # -- views ---------------------------------------------------------------------------
    @property
    def seed(self) -> int:
        return int(self.data["seed"])

    @property
    def scenario_name(self) -> str:
        return str(self.data["scenario"]["name"])

    @property
    def summary(self) -> Mapping[str, Any]:
        summary: Mapping[str, Any] = self.data["summary"]
        return summary

    @property
    def timeline(self) -> list[tuple[float, str]]:
        """``(time, kind)`` pairs in order: the shape tests assert on."""
        return [(e["t"], e["kind"]) for e in self.data["timeline"]]

    def events(self, kind: str | None = None) -> list[Mapping[str, Any]]:
        """Timeline events, optionally of one kind (``fault.start``, ``action.end`` …)."""
        return [e for e in self.data["timeline"] if kind is None or e["kind"] == kind]

    # -- tables (pandas is imported on first use) ----------------------------------------
    def _frame(self, table: str) -> pd.DataFrame:
        """A metrics table, with ``time`` — the window's start on the scenario's wall clock
        (UTC) — beside ``t``, its seconds of simulated time."""
        import pandas as pd

        columns, rows = self.table(table)
        frame: pd.DataFrame
        if isinstance(rows, Rows):  # the table's memory goes as its columns become the frame's
            frame = rows.arrow().to_pandas(self_destruct=True, split_blocks=True)
        else:
            frame = pd.DataFrame(rows, columns=list(columns))
        start = pd.Timestamp(self.data["clock_start"])
        frame.insert(1, "time", start + pd.to_timedelta(frame["t"], unit="s"))
        return frame

    def table(self, table: str) -> Table:
        """A metrics table's column names and its rows, oldest first, as plain values (no
        pandas: what the report's pictures read, so that ``run`` and the drill do not
        import it for them)."""
        block = self.data["metrics"][table]
        rows = block["rows"]
        if isinstance(rows, Rows):
            return rows.columns, rows
        return block["columns"], rows

    def stored_tables(self) -> Iterator[Rows]:
        """The tables kept in files (a streamed journal's three; none for an inline one)."""
        for table in (self.data.get("metrics") or {}).values():
            if isinstance(table.get("rows"), Rows):
                yield table["rows"]

    def metrics_frame(self) -> pd.DataFrame:
        """Per-window metrics of every component and endpoint, counts scaled by ``represents``."""
        return self._frame("series")

    def business_frame(self) -> pd.DataFrame:
        """Per-window sessions, orders, revenue, checkouts and losses (scaled)."""
        return self._frame("business")

    def errors_frame(self) -> pd.DataFrame:
        """Per-window error counts by class, per component and endpoint (scaled)."""
        return self._frame("errors")

    def timeline_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "t": e["t"],
                    "kind": e["kind"],
                    **{k: v for k, v in e.items() if k not in ("t", "kind")},
                }
                for e in self.data["timeline"]
            ]
        )

    # -- notebooks -----------------------------------------------------------------------
    def __repr__(self) -> str:
        """Short: a journal's document runs to megabytes (``data`` holds it all)."""
        d = self.data
        return (
            f"Journal(scenario={d['scenario']['name']!r}, seed={d['seed']}, "
            f"engine={d.get('engine')!r}, horizon={d['horizon']})"
        )

    def _repr_html_(self) -> str:
        """A compact card for Jupyter: the run, its milestones and what it cost.

        Only what the journal records; the score is ``sim.scoring.score(journal)``.
        """
        from html import escape

        d = self.data
        s = self.summary
        currency = str(d.get("currency") or "")
        scenario = d.get("scenario") or {}
        response = d.get("response") or {}
        started = s.get("errors_started")

        def after(t: float | None, missing: str) -> str:
            if started is None:
                return "— (no errors)"
            if t is None:
                return missing
            return f"{(t - started) / 60:.1f} min after errors started"

        rows = [
            ("scenario", str(scenario.get("name", "?"))),
            ("seed", str(d.get("seed", "?"))),
            ("engine", str(d.get("engine", "request"))),
            ("responder", responder_text(response)),
            ("detected", after(s.get("detected_at"), "not within the horizon")),
            ("errors stopped", after(s.get("errors_stopped"), "not within the horizon")),
            ("declared resolved", after(response.get("resolved_at"), "not within the horizon")),
            ("failed checkouts", f"{int(s.get('failed_checkouts') or 0):,}"),
            ("lost revenue", f"{float(s.get('lost_revenue') or 0.0):,.0f} {currency}".strip()),
        ]
        cells = "".join(
            f'<tr><th style="text-align:left;padding-right:1em">{escape(k)}</th>'
            f'<td style="text-align:left">{escape(v)}</td></tr>'
            for k, v in rows
        )
        return (
            '<div class="chaosdrill-journal">'
            f"<strong>chaosdrill journal</strong> — {escape(str(scenario.get('description', '')))}"
            f"<table>{cells}</table></div>"
        )

    # -- files ---------------------------------------------------------------------------
    def to_json(self, stem: str = "journal") -> str:
        """Canonical JSON: sorted keys, fixed separators — equal runs give equal bytes.

        A stored table is written as a reference to its file, named for a journal file
        ``<stem>.json``.
        """
        return json.dumps(self.data, default=_reference(stem), **_CANONICAL) + "\n"

    def write(self, path: str | Path) -> Path:
        """Write atomically: a temporary file in the same folder, then a rename.

        A streamed journal's table files are written first, beside it, so that the journal
        never refers to a file that is not there yet.
        """
        from sim.atomic import atomic_file

        target = Path(path)
        for rows in self.stored_tables():
            source, copy = _sealed(rows), target.with_name(table_file(target.stem, rows.name))
            if copy.exists() and copy.samefile(source):  # the journal's own files
                continue
            with source.open("rb") as src, atomic_file(copy, binary=True) as dst:
                shutil.copyfileobj(src, dst)
        with atomic_file(target) as fh:  # a piece at a time: no whole copy of the text
            json.dump(self.data, fh, default=_reference(target.stem), **_CANONICAL)
            fh.write("\n")
        return target

    @classmethod
    def read(cls, path: str | Path) -> Journal:
        """Load a journal file (and, for a streamed journal, the table files beside it)."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"{path}: not a chaosdrill journal (format {data.get('format')!r})")
        return cls.from_document(data, Path(path).parent)

    @classmethod
    def from_document(cls, data: Mapping[str, Any], folder: Path) -> Journal:
        """The journal of the JSON document ``data``, read from ``folder``: each table that
        refers to a file there reads that file, checked against its SHA-256 and row count."""
        metrics = dict(data.get("metrics") or {})
        for name, block in metrics.items():
            ref = block.get("rows") if isinstance(block, Mapping) else None
            if not isinstance(ref, Mapping):
                continue
            path = folder / str(ref.get("file"))
            if not path.is_file():
                raise ValueError(f"{path}: missing (the journal's {name} table is stored there)")
            if file_sha256(path) != ref.get("sha256"):
                raise ValueError(f"{path}: not the {name} table of this journal (SHA-256 differs)")
            rows = Rows.stored(name, path)
            if len(rows) != ref.get("count"):
                raise ValueError(
                    f"{path}: {len(rows)} rows where the journal says {ref.get('count')}"
                )
            metrics[name] = {**block, "rows": rows}
        return cls({**data, "metrics": metrics} if metrics else data)


_CANONICAL: dict[str, Any] = {"sort_keys": True, "ensure_ascii": False, "indent": 1}


def _sealed(rows: Rows) -> Path:
    if rows.sealed is None:
        raise TypeError(f"the {rows.name} table is not stored in a file")
    return rows.sealed


def _reference(stem: str) -> Callable[[object], dict[str, Any]]:
    """The JSON of a stored table: its file's name beside the journal, rows and SHA-256."""

    def reference(rows: object) -> dict[str, Any]:
        if not isinstance(rows, Rows):
            raise TypeError(f"Object of type {type(rows).__name__} is not JSON serializable")
        return {
            "file": table_file(stem, rows.name),
            "count": len(rows),
            "sha256": file_sha256(_sealed(rows)),
        }

    return reference
