"""Reading the parts of a journal that scoring needs, whatever its age.

Scoring accepts a :class:`~sim.journal.Journal` or the plain JSON document, and journals
written before the ``response`` section existed: every accessor here returns a neutral value
(no steps, responder ``"none"``) instead of failing on a missing key.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, TypeAlias

from sim.journal.record import Journal

JournalLike: TypeAlias = Journal | Mapping[str, Any]


def document(journal: JournalLike) -> Mapping[str, Any]:
    """The JSON document behind ``journal``."""
    if isinstance(journal, Journal):
        return journal.data
    if isinstance(journal, Mapping):
        return journal
    raise TypeError(f"expected a Journal or a journal mapping, got {type(journal).__name__}")


def summary(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    found: Mapping[str, Any] = doc.get("summary") or {}
    return found


def response(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    """The responder's record; empty for journals from runs without one."""
    found: Mapping[str, Any] = doc.get("response") or {}
    return found


def responder(doc: Mapping[str, Any]) -> str:
    return str(response(doc).get("responder") or "none")


def steps(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The responder's steps in time order (ties keep their recorded order)."""
    return sorted(response(doc).get("steps") or [], key=lambda s: float(s["t"]))


def step_index(step: Mapping[str, Any], position: int) -> int:
    """A step's ``i``, or its position when an older or hand-made record leaves it out."""
    return int(step.get("i", position))


def faults(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(summary(doc).get("faults") or [])


def fault_targets(doc: Mapping[str, Any]) -> set[str]:
    """Everything a correct diagnosis may name: the union of the faults' ``targets``."""
    return {str(t) for f in faults(doc) for t in f.get("targets") or []}


def optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def horizon(doc: Mapping[str, Any]) -> float:
    return float(doc.get("horizon") or 0.0)


def clock(doc: Mapping[str, Any], t: float) -> str:
    """Wall-clock ``HH:MM`` of simulated time ``t``, for notes people read."""
    start = doc.get("clock_start")
    if not start:
        return f"t={t:g}s"
    return (datetime.fromisoformat(str(start)) + timedelta(seconds=t)).strftime("%H:%M")


def minutes(seconds: float) -> str:
    """``"4.5 min"``: durations in notes, to the tenth of a minute."""
    return f"{seconds / 60:.1f} min"
