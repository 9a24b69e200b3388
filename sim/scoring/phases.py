"""The incident's phases: when each milestone of the response happened, measured from impact.

Every phase is read from the journal, never re-derived from metrics, so a scorecard always
agrees with the summary and the response record it came from. A milestone that never happened
is kept with ``at=None`` and status ``"unresolved"``: it must never read as "0 minutes".
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sim.scoring._journal import (
    JournalLike,
    clock,
    document,
    fault_targets,
    faults,
    horizon,
    minutes,
    optional_float,
    response,
    steps,
    summary,
)

PHASES = ("impact", "detection", "acknowledgement", "diagnosis", "mitigation", "resolution")

Status = Literal["ok", "unresolved", "n/a"]


@dataclass(frozen=True)
class Phase:
    """One milestone of the incident.

    ``at`` is absolute simulated seconds (``None`` when it did not happen), ``since_impact``
    is ``at`` minus the start of user-facing impact. ``status`` is ``"n/a"`` when there was no
    impact at all and ``"unresolved"`` when the milestone was not reached within the horizon.
    ``note`` is one line for people.
    """

    name: str
    at: float | None
    since_impact: float | None
    status: Status
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "at": self.at,
            "since_impact": self.since_impact,
            "status": self.status,
            "note": self.note,
        }


@dataclass(frozen=True)
class Declarations:
    """The responder's "resolved" declarations, judged against the faults.

    ``valid`` is the time of the first declaration made when every fault had ended;
    ``premature`` lists the earlier ones as ``(time, ids of faults still active)``.
    """

    valid: float | None
    premature: tuple[tuple[float, tuple[str, ...]], ...]


def active_faults(doc: Mapping[str, Any], t: float, begun: bool = False) -> tuple[str, ...]:
    """Ids of faults that had not ended by ``t`` (never ended counts as not ended); with
    ``begun``, only those that had begun by then."""
    out = []
    for fault in faults(doc):
        if begun and float(fault.get("start") or 0.0) > t:
            continue
        ended = fault.get("ended")
        if ended is None or float(ended) > t:
            out.append(str(fault.get("id", "?")))
    return tuple(out)


def declarations(journal: JournalLike) -> Declarations:
    """Split the "resolved" declarations into premature ones and the first valid one.

    A declaration is valid when every fault in the summary had ended by then. Faults only
    end, so every declaration after the first valid one is valid too: the premature ones are
    exactly those before it. A refused declaration (``ok`` false) is not a declaration. In a
    shift of several incidents, one made while only faults that had not begun were left (an
    earlier incident over) is neither.
    """
    doc = document(journal)
    several = bool(summary(doc).get("incidents"))
    premature: list[tuple[float, tuple[str, ...]]] = []
    for step in steps(doc):
        if step.get("call") != "resolved" or not step.get("ok", True):
            continue
        t = float(step["t"])
        active = active_faults(doc, t)
        if not active:
            return Declarations(t, tuple(premature))
        if several:  # one incident of the shift over, the next not begun: not premature
            active = active_faults(doc, t, begun=True)
            if not active:
                continue
        premature.append((t, active))
    return Declarations(None, tuple(premature))


def _since(at: float | None, start: float | None) -> float | None:
    return None if at is None or start is None else round(at - start, 6)


def _after(since: float) -> str:
    if since < 0:
        return f"{minutes(-since)} before impact"
    return f"{minutes(since)} after impact"


def _premature_text(
    doc: Mapping[str, Any], premature: tuple[tuple[float, tuple[str, ...]], ...]
) -> str:
    parts = []
    for t, active in premature:
        verb = "was" if len(active) == 1 else "were"
        parts.append(
            f"declared resolved at {clock(doc, t)} while {', '.join(active)} {verb} still active (premature)"
        )
    return "; ".join(parts)


def phases(journal: JournalLike) -> dict[str, Phase]:
    """The six phases, in order: impact, detection, acknowledgement, diagnosis, mitigation, resolution."""
    doc = document(journal)
    summ = summary(doc)
    start = optional_float(summ.get("errors_started"))
    notes = _notes(doc, start)
    diagnosis_at, notes["diagnosis"] = _diagnosis(doc, start)
    timings = milestone_times(summ, diagnosis_at, declarations(doc).valid)
    return {name: make_phase(name, timings[name], start, notes.get(name, "")) for name in PHASES}


def milestone_times(
    episode: Mapping[str, Any], diagnosis: float | None, resolution: float | None
) -> dict[str, float | None]:
    """Each phase's time: impact, detection, acknowledgement and mitigation as ``episode``
    (the journal's summary, or one incident's entry in it) records them; the diagnosis and
    resolution, which the response decides, as given."""
    return {
        "impact": optional_float(episode.get("errors_started")),
        "detection": optional_float(episode.get("detected_at")),
        "acknowledgement": optional_float(episode.get("acknowledged_at")),
        "diagnosis": diagnosis,
        "mitigation": optional_float(episode.get("errors_stopped")),
        "resolution": resolution,
    }


def make_phase(name: str, at: float | None, start: float | None, note: str) -> Phase:
    """A milestone at ``at`` of an impact that began at ``start``: ``n/a`` without impact,
    ``unresolved`` (with ``note`` saying why) when it never came, else ``ok``."""
    if start is None:
        return Phase(name, at, None, "n/a", "no user-facing impact")
    if at is None:
        return Phase(name, None, None, "unresolved", note)
    return Phase(name, at, _since(at, start), "ok", note)


def _notes(doc: Mapping[str, Any], start: float | None) -> dict[str, str]:
    """The one-line notes of every phase but diagnosis, for a run with impact."""
    if start is None:
        return {}
    summ = summary(doc)
    resp = response(doc)
    notes: dict[str, str] = {}
    threshold = summ.get("error_threshold")
    above = (
        f"above {float(threshold) * 100:g} %"
        if threshold is not None
        else "above the SLO threshold"
    )
    notes["impact"] = f"user-facing error ratio {above} from {clock(doc, start)}"

    detected = optional_float(summ.get("detected_at"))
    if detected is None:
        notes["detection"] = "not detected within the horizon"
    else:
        channel = summ.get("detection_channel")
        via = f" by {channel}" if channel else ""
        notes["detection"] = f"detected{via} at {clock(doc, detected)}, {_after(detected - start)}"

    acked = optional_float(summ.get("acknowledged_at"))
    if acked is None:
        notes["acknowledgement"] = "never acknowledged"
    else:
        notes["acknowledgement"] = f"acknowledged at {clock(doc, acked)}, {_after(acked - start)}"

    stopped = optional_float(summ.get("errors_stopped"))
    declared = optional_float(resp.get("mitigated_at"))
    said = f"; declared mitigated at {clock(doc, declared)}" if declared is not None else ""
    if stopped is None:
        notes["mitigation"] = (
            f"users still failing at the horizon ({clock(doc, horizon(doc))}){said}"
        )
    else:
        notes["mitigation"] = (
            f"error ratio back under the threshold for good at {clock(doc, stopped)}, {_after(stopped - start)}{said}"
        )

    notes["resolution"] = _resolution_note(doc, start)
    return notes


def _resolution_note(doc: Mapping[str, Any], start: float) -> str:
    decl = declarations(doc)
    early = _premature_text(doc, decl.premature)
    if decl.valid is not None:
        note = f"declared resolved at {clock(doc, decl.valid)}, {_after(decl.valid - start)}, every fault over"
        return f"{note}; earlier, {early}" if early else note
    still = active_faults(doc, horizon(doc))
    if early:
        reason = f"only premature declarations: {early}"
        if still:
            reason += f"; {', '.join(still)} still active at the horizon"
        return reason
    if still:
        return f"{', '.join(still)} still active at the horizon; never declared resolved"
    return "cause removed but never verified: never declared resolved"


def first_diagnosis(
    doc: Mapping[str, Any],
    targets: Collection[str],
    since: float = float("-inf"),
    until: float = float("inf"),
) -> tuple[float | None, str | None, list[str]]:
    """The first diagnosis in ``[since, until)`` that names one of ``targets``: its time and
    the target it named (``None``, ``None`` if none does), and the wrong ones declared before
    it ("web at 09:12")."""
    wrong: list[str] = []
    for step in steps(doc):
        if step.get("call") != "diagnose" or not step.get("ok", True):
            continue
        t = float(step["t"])
        if not since <= t < until:
            continue
        cause = str(step.get("target"))
        if cause in targets:
            return t, cause, wrong
        wrong.append(f"{cause} at {clock(doc, t)}")
    return None, None, wrong


def _diagnosis(doc: Mapping[str, Any], start: float | None) -> tuple[float | None, str]:
    """The first correct diagnosis and a note that also names the wrong ones before it."""
    t, cause, wrong = first_diagnosis(doc, fault_targets(doc))
    if t is not None:
        note = f"diagnosed {cause} at {clock(doc, t)}"
        if start is not None:
            note += f", {_after(t - start)}"
        if wrong:
            note += f"; after wrong diagnosis {', '.join(wrong)}"
        return t, note
    if wrong:
        return None, f"never correctly diagnosed (wrong: {', '.join(wrong)})"
    return None, "never diagnosed"
