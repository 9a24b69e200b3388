"""The journal: one immutable JSON record per run, read by reports, scoring and notebooks."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

FORMAT = "chaosdrill.journal/2"


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
        import pandas as pd

        block = self.data["metrics"][table]
        return pd.DataFrame(block["rows"], columns=block["columns"])

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
            ("responder", str(response.get("responder") or "none")),
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
    def to_json(self) -> str:
        """Canonical JSON: sorted keys, fixed separators — equal runs give equal bytes."""
        return json.dumps(self.data, sort_keys=True, ensure_ascii=False, indent=1) + "\n"

    def write(self, path: str | Path) -> Path:
        """Write atomically: a temporary file in the same folder, then a rename."""
        from sim.atomic import write_text

        return write_text(path, self.to_json())

    @classmethod
    def read(cls, path: str | Path) -> Journal:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"{path}: not a chaosdrill journal (format {data.get('format')!r})")
        return cls(data)
