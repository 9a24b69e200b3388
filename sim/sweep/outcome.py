"""The outcome of one run as one flat row: when each milestone came, what it cost, the score.

A pure function of the journal, like scoring: the times come from :func:`sim.scoring.phases`
(so a sweep agrees with every scorecard), the costs from :func:`sim.scoring.impact` and the
journal's summary, the conduct from :func:`sim.scoring.conduct`. A milestone that was not
reached is ``None`` here and NaN in the table, with its boolean column ``False``; it is never
0. Times are seconds of simulated time, like the journal's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from sim.journal.record import Journal

if TYPE_CHECKING:
    import pandas as pd

Kind = Literal["bool", "int", "float", "str"]

# (phase in sim.scoring, column stem): <stem> bool, <stem>_at absolute, time_to_<verb> since impact
MILESTONES: tuple[tuple[str, str, str], ...] = (
    ("detection", "detected", "detect"),
    ("acknowledgement", "acknowledged", "acknowledge"),
    ("diagnosis", "diagnosed", "diagnose"),
    ("mitigation", "mitigated", "mitigate"),
    ("resolution", "resolved", "resolve"),
)


def _milestone_columns() -> list[tuple[str, Kind]]:
    cols: list[tuple[str, Kind]] = []
    for _, stem, verb in MILESTONES:
        cols += [(stem, "bool"), (f"{stem}_at", "float"), (f"time_to_{verb}", "float")]
    return cols


# Every outcome column and its type, in table order.
COLUMNS: tuple[tuple[str, Kind], ...] = (
    ("had_impact", "bool"),
    ("errors_started", "float"),
    *_milestone_columns(),
    ("detection_channel", "str"),
    ("requests", "int"),
    ("failed_requests", "int"),
    ("error_ratio", "float"),
    ("peak_error_ratio", "float"),
    ("checkout_attempts", "int"),
    ("failed_checkouts", "int"),
    ("affected_users", "int"),
    ("orders", "int"),
    ("revenue", "float"),
    ("lost_revenue", "float"),
    ("error_budget_spent", "float"),
    ("alerts", "int"),
    ("critical_alerts", "int"),
    ("pages", "int"),
    ("tickets", "int"),
    ("steps", "int"),
    ("herring_time", "float"),
    ("herrings", "int"),
    ("wrong_actions", "int"),
    ("harmful_actions", "int"),
    ("premature_resolutions", "int"),
    ("notify_delay", "float"),
    ("stakeholder_delay", "float"),
    ("score", "float"),
)
COLUMN_NAMES = tuple(name for name, _ in COLUMNS)
# The columns that are times of the run: a sweep's table has each also as ``<name>_clock``, the
# moment on the scenario's wall clock (UTC).
CLOCKED = ("errors_started", *(f"{stem}_at" for _, stem, _ in MILESTONES))


def outcome_columns(
    rows: Sequence[Mapping[str, Any]], clock_starts: Sequence[str]
) -> dict[str, pd.Series]:
    """The outcome columns of a table of ``rows`` (in table order), typed — ``NaN`` for a
    milestone not reached — and, for each of :data:`CLOCKED`, ``<name>_clock``: the moment on
    the scenario's wall clock (UTC), ``clock_starts[i]`` being row ``i``'s ``clock_start``."""
    import pandas as pd

    dtypes: dict[str, Any] = {"float": "float64", "int": "int64", "bool": "bool", "str": object}
    data: dict[str, pd.Series] = {}
    for name, kind in COLUMNS:
        values = [r[name] for r in rows]
        if kind == "float":
            values = [float("nan") if v is None else v for v in values]
        data[name] = pd.Series(values, dtype=dtypes[kind])
    starts = pd.Series(pd.to_datetime(list(clock_starts), utc=True), dtype="datetime64[us, UTC]")
    for name in CLOCKED:
        data[f"{name}_clock"] = starts + pd.to_timedelta(data[name], unit="s")
    return data


def outcome(journal: Journal | Mapping[str, Any]) -> dict[str, Any]:
    """One run's figures, keyed by :data:`COLUMN_NAMES` (``None`` for what did not happen)."""
    from sim.scoring import score

    doc = journal.data if isinstance(journal, Journal) else journal
    summ = doc["summary"]
    card = score(doc)
    phase, cost, record = card.phases, card.impact, card.conduct
    alerts = doc.get("alerts") or []
    row: dict[str, Any] = {
        "had_impact": phase["impact"].at is not None,
        "errors_started": phase["impact"].at,
    }
    for name, stem, verb in MILESTONES:
        at = phase[name].at
        row[stem] = at is not None
        row[f"{stem}_at"] = at
        row[f"time_to_{verb}"] = phase[name].since_impact
    row.update(
        {
            "detection_channel": summ.get("detection_channel"),
            "requests": int(summ["requests"]),
            "failed_requests": int(summ["failed_requests"]),
            "error_ratio": float(summ["error_ratio"]),
            "peak_error_ratio": float(summ["peak_error_ratio"]),
            "checkout_attempts": int(summ["checkout_attempts"]),
            "failed_checkouts": int(summ["failed_checkouts"]),
            "affected_users": int(cost["affected_users"]),
            "orders": int(summ["orders"]),
            "revenue": float(summ["revenue"]),
            "lost_revenue": cost["lost_revenue"],
            "error_budget_spent": cost["error_budget_spent"],
            "alerts": len(alerts),
            "critical_alerts": sum(a.get("severity") == "critical" for a in alerts),
            "pages": int(summ.get("pages") or 0),
            "tickets": int(summ.get("tickets") or 0),
            "steps": len((doc.get("response") or {}).get("steps") or []),
            "herring_time": float(record["herring_seconds"]),
            "herrings": len(record["herrings"]),
            "wrong_actions": len(record["wrong_actions"]),
            "harmful_actions": len(record["harmful_actions"]),
            "premature_resolutions": int(record["premature_resolutions"]),
            "notify_delay": record["notify_delay"],
            "stakeholder_delay": record["stakeholder_delay"],
            "score": card.score,
        }
    )
    return row
