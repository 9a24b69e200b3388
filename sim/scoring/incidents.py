"""Each incident of a shift that had more than one: its own six milestones.

A scenario whose faults name their incidents (``incident:``, docs/scenarios.md) has one entry
per incident in the journal's ``summary.incidents``: its faults, when its first fault began,
its own error episode, and the first detection signal and page in its stretch of the run (from
its beginning to the next incident's, ``sim.faults.incidents``). The milestones here are read
from that entry and the response record, as the run's are (:mod:`sim.scoring.phases`):

- impact, detection, acknowledgement and mitigation are the entry's;
- diagnosis is the first declared cause in the incident's stretch that names one of its
  faults' targets;
- resolution is the first "resolved" declaration from its beginning on by which every one of
  its faults had ended.

The scorecard scores each incident's timed parts and averages them (docs/scoring.md), so that
the time between two incidents counts against neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.scoring._journal import (
    JournalLike,
    clock,
    document,
    faults,
    optional_float,
    steps,
    summary,
)
from sim.scoring.phases import PHASES, Phase, first_diagnosis, make_phase, milestone_times


@dataclass(frozen=True)
class IncidentPhases:
    """One incident of the shift and its milestones (``phases``, as the run's are)."""

    name: str
    faults: tuple[str, ...]
    phases: dict[str, Phase]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "faults": list(self.faults),
            "phases": {name: phase.to_dict() for name, phase in self.phases.items()},
        }


def incident_phases(journal: JournalLike) -> tuple[IncidentPhases, ...]:
    """The milestones of each incident, in the order they began; ``()`` for a run with one."""
    doc = document(journal)
    entries = list(summary(doc).get("incidents") or [])
    out = []
    for k, entry in enumerate(entries):
        end = float(entries[k + 1]["start"]) if k + 1 < len(entries) else float("inf")
        out.append(_one(doc, entry, end, last=k + 1 == len(entries)))
    return tuple(out)


def _one(
    doc: Mapping[str, Any], entry: Mapping[str, Any], end: float, last: bool
) -> IncidentPhases:
    begun = float(entry["start"])
    ids = {str(f) for f in entry.get("faults") or []}
    mine = [f for f in faults(doc) if str(f.get("id")) in ids]
    targets = {str(t) for f in mine for t in f.get("targets") or []}
    start = optional_float(entry.get("errors_started"))
    diagnosed, _, wrong = first_diagnosis(doc, targets, since=begun, until=end)
    resolved = next(
        (
            float(s["t"])
            for s in steps(doc)
            if s.get("call") == "resolved"
            and s.get("ok", True)
            and float(s["t"]) >= begun
            and all(f.get("ended") is not None and float(f["ended"]) <= float(s["t"]) for f in mine)
        ),
        None,
    )
    timings = milestone_times(entry, diagnosed, resolved)
    missing = {
        "impact": "no user-facing impact",
        "detection": "no page, alert or escalation in its stretch of the shift",
        "acknowledgement": "no page of its own acknowledged",
        "diagnosis": "none of its faults named",
        "mitigation": "users still failing at the horizon"
        if last
        else "users still failing when the next incident began",
        "resolution": "never declared resolved with every one of its faults over",
    }
    phases: dict[str, Phase] = {}
    for name in PHASES:
        at = timings[name]
        via = f" ({entry['page']})" if name == "detection" and entry.get("page") else ""
        note = missing[name] if at is None else f"at {clock(doc, at)}{via}"
        if name == "diagnosis" and wrong:
            note += f"; after wrong diagnosis {', '.join(wrong)}"
        phases[name] = make_phase(name, at, start, note)
    return IncidentPhases(str(entry["name"]), tuple(str(f) for f in entry["faults"]), phases)


def slowest(incidents: tuple[IncidentPhases, ...], phase: str) -> tuple[float | None, bool]:
    """A milestone over the incidents of a shift, as a bound on each reads it: the slowest
    incident's time since its own impact (``None`` if one with impact never got there), and
    whether none of them had impact."""
    timed = [i.phases[phase] for i in incidents if i.phases[phase].status != "n/a"]
    if not timed:
        return None, True
    times = [p.since_impact for p in timed]
    if any(t is None for t in times):
        return None, False
    return max(float(t) for t in times if t is not None), False


__all__ = ["IncidentPhases", "incident_phases", "slowest"]
