"""The scorecard: phases, impact and conduct turned into five parts and one weighted score.

The rubric is published in docs/scoring.md; this module is its only implementation. Every
part is a fraction in [0, 1], the score is their weighted mean on a 0–100 scale. A milestone
that never happened scores 0 for its part, never "0 minutes, perfect". The three timed parts
use :data:`DEFAULT_WINDOWS` unless the scenario overrides them in ``scoring.windows``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.scenario.durations import format_duration
from sim.scoring._journal import (
    JournalLike,
    document,
    horizon,
    optional_float,
    responder,
    steps,
)
from sim.scoring.conduct import conduct, since_words
from sim.scoring.impact import impact
from sim.scoring.incidents import IncidentPhases, incident_phases
from sim.scoring.phases import Phase, phases

PARTS = ("detection", "mitigation", "resolution", "impact", "conduct")
TIMED = ("detection", "mitigation", "resolution")
DONE = {"detection": "detected", "mitigation": "mitigated", "resolution": "resolved"}
DEFAULT_WEIGHTS: Mapping[str, float] = {
    "detection": 15,
    "mitigation": 25,
    "resolution": 20,
    "impact": 20,
    "conduct": 20,
}

MINUTE = 60.0
# (full marks at or under, zero at or over), seconds since impact
DETECTION_WINDOW = (2 * MINUTE, 15 * MINUTE)
MITIGATION_WINDOW = (10 * MINUTE, 60 * MINUTE)
RESOLUTION_WINDOW = (20 * MINUTE, 120 * MINUTE)
DEFAULT_WINDOWS: Mapping[str, tuple[float, float]] = {
    "detection": DETECTION_WINDOW,
    "mitigation": MITIGATION_WINDOW,
    "resolution": RESOLUTION_WINDOW,
}

HARMFUL_PENALTY = 0.15
WRONG_PENALTY = 0.05
HERRING_PENALTY_PER_10_MIN = 0.10
# Never telling users (or stakeholders) costs 0.4 of conduct — 8 of 100 points at the default
# weights, clearly more than a hint's 5; telling them late, half that.
NOTIFY_PENALTY = 0.40
NOTIFY_WITHIN = 15 * MINUTE
STAKEHOLDER_PENALTY = 0.40
STAKEHOLDER_WITHIN = 30 * MINUTE
LATE = 0.5  # the share of a communication penalty a late message still costs
PREMATURE_PENALTY = 0.10
HINT_PENALTY = 5.0  # points off the final score per hint a drill trainee used


@dataclass(frozen=True)
class Scorecard:
    """A run's score and everything it was computed from.

    ``counterfactual`` compares the run with the same scenario and seed under the "none"
    responder (nobody acts) and the "oracle" responder (does the right thing at once); it is
    ``None`` when the journal carries no counterfactuals. Its keys, in minutes and currency,
    ``None`` where a side is missing or a figure is undefined::

        impact_minutes          this run's impact duration: (mitigated or horizon) - impact start
        none_impact_minutes     the same for the "none" run
        none_lost_revenue
        oracle_impact_minutes   the same for the "oracle" run
        oracle_lost_revenue
        saved_minutes           none_impact_minutes - impact_minutes
        saved_revenue           none_lost_revenue - lost_revenue
        oracle_gap_minutes      impact_minutes - oracle_impact_minutes
        oracle_gap_revenue      lost_revenue - oracle_lost_revenue
        resolve_gap_minutes     (resolution - oracle's resolved_at); None if either is unresolved
    """

    phases: dict[str, Phase]
    impact: dict[str, float]
    conduct: dict[str, Any]
    parts: dict[str, float]
    weights: dict[str, float]
    windows: dict[str, tuple[float, float]]
    score: float
    counterfactual: dict[str, Any] | None
    responder: str
    currency: str
    # a shift with more than one incident: each one's milestones (the timed parts are
    # scored on each and averaged); () for a run with one
    incidents: tuple[IncidentPhases, ...] = ()

    def points(self, part: str, fraction: float | None = None) -> float:
        """The points out of 100 ``fraction`` of ``part`` is worth (default: what it earned)."""
        share = self.weights.get(part, 0.0) / (sum(self.weights.values()) or 1.0)
        return 100 * share * (self.parts[part] if fraction is None else fraction)

    def explain(self) -> dict[str, str]:
        """Why each part earned its points, in a line each (the scorecard's last column)."""
        had_impact = self.phases["impact"].at is not None
        out: dict[str, str] = {}
        for name in TIMED:
            phase = self.phases[name]
            good, bad = (round(w / MINUTE) for w in self.windows[name])
            rule = f"full marks within {good} min of impact, none from {bad} min"
            if self.incidents:
                each = [
                    f"{i.name} never {DONE[name]}"
                    if (since := i.phases[name].since_impact) is None
                    else f"{i.name} {round(since / MINUTE)} min"
                    for i in self.incidents
                ]
                out[name] = f"averaged over the incidents: {', '.join(each)} ({rule})"
            elif not had_impact:
                out[name] = "no impact: full marks"
            elif phase.since_impact is None:
                out[name] = f"never {DONE[name]}: 0 ({rule})"
            else:
                out[name] = f"{round(phase.since_impact / MINUTE)} min after impact ({rule})"
        cf = self.counterfactual or {}
        none_lost = cf.get("none_lost_revenue")
        if none_lost:
            out["impact"] = (
                f"lost {self.impact['lost_revenue']:,.0f} of the {none_lost:,.0f} {self.currency} "
                "nobody responding would have lost"
            )
        else:
            out["impact"] = f"{self.impact['error_budget_spent']:.0%} of the error budget spent"
        penalties = conduct_penalties(self.conduct, had_impact)
        out["conduct"] = (
            "; ".join(f"−{self.points('conduct', p):.1f} {why}" for p, why in penalties)
            if penalties
            else "no penalties"
        )
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy with a stable key order."""
        return {
            "responder": self.responder,
            "score": self.score,
            "parts": dict(self.parts),
            "weights": dict(self.weights),
            "windows": {name: list(window) for name, window in self.windows.items()},
            "phases": {name: phase.to_dict() for name, phase in self.phases.items()},
            "impact": dict(self.impact),
            "conduct": {
                key: list(value) if isinstance(value, list) else value
                for key, value in self.conduct.items()
            },
            "currency": self.currency,
            "counterfactual": None if self.counterfactual is None else dict(self.counterfactual),
        } | ({"incidents": [i.to_dict() for i in self.incidents]} if self.incidents else {})


def resolve_weights(
    doc: Mapping[str, Any], weights: Mapping[str, float] | None = None
) -> dict[str, float]:
    """The weights to use: ``weights`` if given, else the journal's ``scoring.weights``.

    Keys left out take :data:`DEFAULT_WEIGHTS`. Unknown keys, negative or non-finite weights
    and weights that sum to zero raise :class:`ValueError`.
    """
    if weights is None:
        weights = (doc.get("scoring") or {}).get("weights") or {}
    unknown = sorted(set(weights) - set(PARTS))
    if unknown:
        raise ValueError(f"unknown scoring weight {unknown[0]!r}: allowed are {', '.join(PARTS)}")
    out: dict[str, float] = {}
    for name in PARTS:
        value = float(weights.get(name, DEFAULT_WEIGHTS[name]))
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"scoring weight {name!r} must be a finite number >= 0, got {value}")
        out[name] = value
    if sum(out.values()) <= 0:
        raise ValueError("scoring weights sum to zero: at least one part must count")
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def resolve_windows(doc: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """The time windows to use: the journal's ``scoring.windows``, else :data:`DEFAULT_WINDOWS`.

    Each window is ``[lo, hi]`` in seconds since impact: full marks at or under ``lo``, zero at
    or over ``hi``. Keys left out take their default. An unknown key, or a window that is not
    two finite numbers with ``0 <= lo < hi``, raises :class:`ValueError` naming the key.
    """
    given = (doc.get("scoring") or {}).get("windows") or {}
    if not isinstance(given, Mapping):
        raise ValueError(f"scoring windows must be a mapping of {', '.join(TIMED)}, got {given!r}")
    unknown = sorted(set(given) - set(TIMED), key=str)
    if unknown:
        raise ValueError(f"unknown scoring window {unknown[0]!r}: allowed are {', '.join(TIMED)}")
    out: dict[str, tuple[float, float]] = {}
    for name in TIMED:
        if name not in given:
            out[name] = DEFAULT_WINDOWS[name]
            continue
        window = given[name]
        if (
            not isinstance(window, (list, tuple))
            or len(window) != 2
            or not all(_is_number(bound) for bound in window)
        ):
            raise ValueError(
                f"scoring window {name!r} must be two finite numbers [lo, hi] in seconds, "
                f"got {window!r}"
            )
        lo, hi = float(window[0]), float(window[1])
        if not 0 <= lo < hi:
            raise ValueError(f"scoring window {name!r} needs 0 <= lo < hi, got [{lo:g}, {hi:g}]")
        out[name] = (lo, hi)
    return out


def linear(seconds: float | None, window: tuple[float, float]) -> float:
    """1 at or under ``window[0]``, 0 at or over ``window[1]``, linear between; 0 for ``None``."""
    if seconds is None:
        return 0.0
    good, bad = window
    if seconds <= good:
        return 1.0
    if seconds >= bad:
        return 0.0
    return (bad - seconds) / (bad - good)


def conduct_part(record: Mapping[str, Any], had_impact: bool) -> float:
    """1 minus the conduct penalties, floored at 0.

    Communication penalties apply only when users were affected: with no impact there was
    nothing to tell anyone.
    """
    return max(0.0, 1.0 - sum(p for p, _ in conduct_penalties(record, had_impact)))


def conduct_penalties(record: Mapping[str, Any], had_impact: bool) -> list[tuple[float, str]]:
    """Each conduct penalty (a share of the part) and what it was for."""
    out: list[tuple[float, str]] = []
    harmful, wrong = len(record["harmful_actions"]), len(record["wrong_actions"])
    if harmful:
        out.append((HARMFUL_PENALTY * harmful, f"{harmful} harmful action{_s(harmful)}"))
    if wrong:
        out.append((WRONG_PENALTY * wrong, f"{wrong} action{_s(wrong)} that remedied nothing"))
    chased = float(record["herring_seconds"])
    if chased:
        herrings = ", ".join(record["herrings"]) or "red herrings"
        out.append(
            (
                HERRING_PENALTY_PER_10_MIN * chased / (10 * MINUTE),
                f"{round(chased / MINUTE)} min chasing {herrings}",
            )
        )
    premature = int(record["premature_resolutions"])
    if premature:
        out.append((PREMATURE_PENALTY * premature, f"resolved too early {premature}×"))
    if had_impact:
        for key, weight, within, who in (
            ("notify_delay", NOTIFY_PENALTY, NOTIFY_WITHIN, "users"),
            ("stakeholder_delay", STAKEHOLDER_PENALTY, STAKEHOLDER_WITHIN, "stakeholders"),
        ):
            delay = record[key]
            if delay is None:
                out.append((weight, f"{who} never told"))
            elif delay > within:
                late = f"{who} told {format_duration(round(delay))} {since_words(record)}"
                out.append((weight * LATE, f"{late} (on time: within {format_duration(within)})"))
    return out


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def impact_part(cost: Mapping[str, float], doc: Mapping[str, Any]) -> float:
    """Revenue saved relative to doing nothing when that is known, else budget left."""
    none = (doc.get("counterfactuals") or {}).get("none")
    if none is not None and float(none.get("lost_revenue") or 0) > 0:
        return min(1.0, max(0.0, 1.0 - cost["lost_revenue"] / float(none["lost_revenue"])))
    return 1.0 - min(1.0, cost["error_budget_spent"])


def _impact_minutes(start: float | None, mitigated: float | None, end: float) -> float | None:
    if start is None:
        return None
    return round(((end if mitigated is None else mitigated) - start) / MINUTE, 2)


def _minus(a: float | None, b: float | None, digits: int = 2) -> float | None:
    return None if a is None or b is None else round(a - b, digits)


def counterfactual(
    doc: Mapping[str, Any], phase: Mapping[str, Phase], cost: Mapping[str, float]
) -> dict[str, Any] | None:
    """This run against the "none" and "oracle" runs; shape in :class:`Scorecard`."""
    found = doc.get("counterfactuals") or {}
    none, oracle = found.get("none"), found.get("oracle")
    if none is None and oracle is None:
        return None
    start = phase["impact"].at
    end = horizon(doc)
    mine = _impact_minutes(start, phase["mitigation"].at, end)
    lost = cost["lost_revenue"]

    def side(cf: Mapping[str, Any] | None) -> tuple[float | None, float | None]:
        if cf is None:
            return None, None
        stopped = optional_float(cf.get("errors_stopped"))
        return _impact_minutes(start, stopped, end), float(cf.get("lost_revenue") or 0.0)

    none_minutes, none_lost = side(none)
    oracle_minutes, oracle_lost = side(oracle)
    resolved = phase["resolution"].at
    oracle_resolved = None if oracle is None else optional_float(oracle.get("resolved_at"))
    gap = _minus(resolved, oracle_resolved, 6)
    return {
        "impact_minutes": mine,
        "none_impact_minutes": none_minutes,
        "none_lost_revenue": none_lost,
        "oracle_impact_minutes": oracle_minutes,
        "oracle_lost_revenue": oracle_lost,
        "saved_minutes": _minus(none_minutes, mine),
        "saved_revenue": _minus(none_lost, lost),
        "oracle_gap_minutes": _minus(mine, oracle_minutes),
        "oracle_gap_revenue": _minus(lost, oracle_lost),
        "resolve_gap_minutes": None if gap is None else round(gap / MINUTE, 2),
    }


def score(journal: JournalLike, weights: Mapping[str, float] | None = None) -> Scorecard:
    """Score a run by the published rubric (docs/scoring.md).

    ``weights`` overrides the scenario's ``scoring.weights``; either way missing keys take
    :data:`DEFAULT_WEIGHTS` and the weights are normalised, so they need not sum to 100. The
    time windows come from the scenario's ``scoring.windows``, missing keys taking
    :data:`DEFAULT_WINDOWS` (see :func:`resolve_windows`).
    """
    doc = document(journal)
    chosen = resolve_weights(doc, weights)
    windows = resolve_windows(doc)
    phase = phases(doc)
    cost = impact(doc)
    record = conduct(doc)
    had_impact = phase["impact"].at is not None
    several = incident_phases(doc)
    if several:  # each incident timed from its own impact: the gap between them counts for none
        timed = {name: _mean_timed(several, name, windows[name]) for name in TIMED}
    elif had_impact:
        timed = {name: linear(phase[name].since_impact, windows[name]) for name in TIMED}
    else:
        timed = dict.fromkeys(TIMED, 1.0)
    parts = {
        **timed,
        "impact": impact_part(cost, doc),
        "conduct": 1.0 if not had_impact and not steps(doc) else conduct_part(record, had_impact),
    }
    total = sum(chosen[name] * parts[name] for name in PARTS) / sum(chosen.values())
    return Scorecard(
        phases=phase,
        impact=cost,
        conduct=record,
        parts={name: round(parts[name], 6) for name in PARTS},
        weights=chosen,
        windows=windows,
        score=max(0.0, round(100 * total - HINT_PENALTY * record["hints_used"], 1)),
        counterfactual=counterfactual(doc, phase, cost),
        responder=responder(doc),
        currency=str(doc.get("currency") or ""),
        incidents=several,
    )


def _mean_timed(
    several: tuple[IncidentPhases, ...], name: str, window: tuple[float, float]
) -> float:
    """A timed part over the incidents of a shift: each one's, averaged (full marks for one
    without impact)."""
    parts = [
        linear(i.phases[name].since_impact, window) if i.phases["impact"].at is not None else 1.0
        for i in several
    ]
    return sum(parts) / len(parts)
