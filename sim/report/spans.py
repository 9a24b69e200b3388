"""The journal as things in time: faults, actions, alerts, red herrings and the detection.

Pure data, no drawing: the timeline turns these into spans and lines, tests check them
directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.journal.record import Journal

MAX_ALERT_LANES = 12
HERRING_KINDS = {"latency_blip": "latency blip", "slow_component": "slow component"}


@dataclass(frozen=True)
class Span:
    """Something with a start and an end in simulated seconds, and a label."""

    start: float
    end: float
    label: str
    key: str = ""


@dataclass(frozen=True)
class AlertLane:
    """One monitor on one target: every time it fired, and its worst severity."""

    label: str  # "monitor/target"
    severity: str
    spans: tuple[Span, ...]


def fault_spans(journal: Journal, horizon: float) -> list[Span]:
    """Faults as spans: each ``fault.start`` to the ``fault.end`` of its id, or the run's end."""
    ends: dict[str, list[float]] = {}
    for e in journal.events("fault.end"):
        ends.setdefault(str(e["id"]), []).append(float(e["t"]))
    spans = []
    for e in journal.events("fault.start"):
        t0, fid = float(e["t"]), str(e["id"])
        later = [t for t in ends.get(fid, []) if t >= t0]
        end = min(later) if later else horizon
        if later:
            ends[fid].remove(end)
        spans.append(Span(t0, end, fid, fid))
    return spans


def action_spans(journal: Journal, horizon: float) -> list[Span]:
    """Actions as spans: ``action.start`` to the next ``action.end`` of the same action+target."""
    ends: dict[tuple[str, str], list[float]] = {}
    for e in journal.events("action.end"):
        ends.setdefault((str(e["action"]), str(e["target"])), []).append(float(e["t"]))
    spans = []
    for e in journal.events("action.start"):
        key = (str(e["action"]), str(e["target"]))
        t0 = float(e["t"])
        later = [t for t in ends.get(key, []) if t >= t0]
        end = min(later) if later else horizon
        if later:
            ends[key].remove(end)
        spans.append(Span(t0, end, f"{key[0]} {key[1]}", key[0]))
    return spans


def alert_lanes(
    journal: Journal, horizon: float, cap: int = MAX_ALERT_LANES
) -> tuple[list[AlertLane], int]:
    """The journal's alerts as lanes, one per ``monitor/target``, and how many were left out.

    A lane holds every firing of its monitor on its target (an alert still firing at the end
    runs to ``horizon``) and takes its worst severity. At most ``cap`` lanes are kept, critical
    ones first, then by first firing; the kept lanes are in order of first firing. Journals
    from before alerting have no ``alerts``: no lanes.
    """
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for record in journal.data.get("alerts") or []:
        if record.get("starts_at") is None or float(record["starts_at"]) > horizon:
            continue
        key = f"{record.get('monitor', '?')}/{record.get('target', '?')}"
        groups.setdefault(key, []).append(record)
    lanes = []
    for key, records in groups.items():
        spans = []
        for r in sorted(records, key=lambda r: float(r["starts_at"])):
            t0 = max(0.0, float(r["starts_at"]))
            t1 = horizon if r.get("ends_at") is None else min(horizon, float(r["ends_at"]))
            spans.append(Span(t0, max(t0, t1), str(r.get("id", key)), key))
        severity = min((str(r.get("severity", "info")) for r in records), key=severity_rank)
        lanes.append(AlertLane(key, severity, tuple(spans)))
    ranked = sorted(lanes, key=lambda a: (severity_rank(a.severity), a.spans[0].start))
    kept = sorted(ranked[:cap], key=lambda a: (a.spans[0].start, severity_rank(a.severity)))
    return kept, len(ranked) - len(kept)


def red_herring_spans(journal: Journal, horizon: float) -> list[Span]:
    """Red herrings that show as something over time (not ``change`` ones), by start.

    ``key`` is the kind; a log burst's label says so, because nothing on the plot shows logs.
    """
    spans = []
    for r in journal.data.get("red_herrings") or []:
        kind = str(r.get("kind", ""))
        if kind == "change" or r.get("start") is None or float(r["start"]) > horizon:
            continue
        t0 = max(0.0, float(r["start"]))
        t1 = horizon if r.get("end") is None else min(horizon, float(r["end"]))
        label = str(r.get("id", kind))
        if kind not in HERRING_KINDS:
            label += f" ({kind.replace('_', ' ')})"
        spans.append(Span(t0, max(t0, t1), label, kind))
    return sorted(spans, key=lambda s: s.start)


def detection(journal: Journal) -> tuple[float, str] | None:
    """When the outage was detected and through which channel, or ``None``."""
    found = journal.data.get("detection") or {}
    if found.get("detected_at") is None:
        return None
    channel = found.get("channel")
    return float(found["detected_at"]), str(channel) if channel else "?"


def severity_rank(severity: str) -> int:
    """Sort key for severities: critical first, unknown ones last."""
    ranks = {"critical": 0, "warning": 1, "info": 2}
    return ranks.get(severity, len(ranks))
