"""Checking a run against a bound of ``expect:``: what each bound measures, whether a run
meets it, which run is the p50 or p90, and how to say it in human units."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sim.scoring.incidents import slowest

if TYPE_CHECKING:
    from sim.journal import Journal
    from sim.scenario.schema import RunBounds
    from sim.scoring import Scorecard


@dataclass(frozen=True)
class Check:
    """One kind of bound: its key under ``expect``, its words and where its value comes from."""

    key: str
    words: str  # "resolved within"
    kind: str  # time | count | money | budget | score
    source: str  # a phase, an impact key, or pages/alerts/critical_alerts/tickets/score
    verb: str = ""  # for a milestone that never came: "not resolved within the horizon"

    @property
    def at_least(self) -> bool:
        return self.kind == "score"


CHECKS: tuple[Check, ...] = (
    Check("detected_within", "detected within", "time", "detection", "detected"),
    Check("acknowledged_within", "acknowledged within", "time", "acknowledgement", "acknowledged"),
    Check("diagnosed_within", "diagnosed within", "time", "diagnosis", "diagnosed"),
    Check("mitigated_within", "mitigated within", "time", "mitigation", "mitigated"),
    Check("resolved_within", "resolved within", "time", "resolution", "resolved"),
    Check("failed_requests_at_most", "failed requests at most", "count", "failed_requests"),
    Check("failed_checkouts_at_most", "failed checkouts at most", "count", "failed_checkouts"),
    Check("affected_users_at_most", "affected users at most", "count", "affected_users"),
    Check("lost_revenue_at_most", "lost revenue at most", "money", "lost_revenue"),
    Check(
        "error_budget_spent_at_most", "error budget spent at most", "budget", "error_budget_spent"
    ),
    Check("pages_at_most", "pages at most", "count", "pages"),
    Check("alerts_at_most", "alerts at most", "count", "alerts"),
    Check("critical_alerts_at_most", "critical alerts at most", "count", "critical_alerts"),
    Check("tickets_at_most", "support tickets at most", "count", "tickets"),
    Check("score_at_least", "score at least", "score", "score"),
)


def given_bounds(bounds: RunBounds) -> list[tuple[Check, float]]:
    """The checks ``bounds`` sets, in the order of :data:`CHECKS`."""
    return [
        (check, float(getattr(bounds, check.key)))
        for check in CHECKS
        if getattr(bounds, check.key, None) is not None
    ]


# -- measuring a run and judging it ------------------------------------------------------
@dataclass(frozen=True)
class Measure:
    """A run's value for one check: ``value`` None = the milestone never came (a miss);
    ``no_impact`` = there was no user-facing impact, so no milestone to time (met)."""

    value: float | None
    no_impact: bool = False


def measure(check: Check, journal: Journal, card: Scorecard) -> Measure:
    """The run's value for ``check``, from its journal and scorecard. In a shift of several
    incidents a time bound holds for each, timed from its own impact: the value is the
    slowest incident's (a miss if any with impact never got there)."""
    if check.kind == "time" and card.incidents:
        value, no_impact = slowest(card.incidents, check.source)
        return Measure(value, no_impact=no_impact)
    if check.kind == "time":
        phase = card.phases[check.source]
        if phase.status == "n/a":
            return Measure(None, no_impact=True)
        return Measure(phase.since_impact)
    if check.source in card.impact:
        return Measure(float(card.impact[check.source]))
    if check.source == "score":
        return Measure(float(card.score))
    alerts = journal.data.get("alerts") or []
    if check.source == "alerts":
        return Measure(float(len(alerts)))
    if check.source == "critical_alerts":
        return Measure(float(sum(a.get("severity") == "critical" for a in alerts)))
    return Measure(float(journal.summary.get(check.source) or 0))


def meets(check: Check, bound: float, m: Measure) -> bool:
    """Whether a run's value meets ``bound`` (a run without impact meets every bound)."""
    if m.no_impact:
        return True
    if m.value is None:
        return False
    slack = 1e-9 * max(1.0, abs(bound))
    return m.value >= bound - slack if check.at_least else m.value <= bound + slack


def badness(check: Check, m: Measure) -> float:
    """Orders runs from best to worst for a check (a milestone never reached is worst)."""
    if m.no_impact:
        return -math.inf
    if m.value is None:
        return math.inf
    return -m.value if check.at_least else m.value


def nearest_rank(q: float, n: int) -> int:
    """The 0-based index of the ``q`` quantile of ``n`` sorted values (nearest rank)."""
    return max(0, min(n - 1, math.ceil(q * n - 1e-9) - 1))


def quantile_run(check: Check, measures: Sequence[Measure], q: float) -> int:
    """The index in ``measures`` of the run at the ``q`` quantile, from best to worst."""
    order = sorted(range(len(measures)), key=lambda i: badness(check, measures[i]))
    return order[nearest_rank(q, len(measures))]


# -- saying it in human units ------------------------------------------------------------
def human(check: Check, value: float, currency: str) -> str:
    """A value in the units a person reads: 52m10s, 1,234, 250,000 USD, 31.5 %, 48.2."""
    from sim.scenario.durations import format_duration

    if check.kind == "time":
        if value < 0:
            return f"{format_duration(-value)} before impact"
        return format_duration(value)
    if check.kind == "money":
        return f"{value:,.0f} {currency}".rstrip()
    if check.kind == "budget":
        return f"{value * 100:.3g} %"
    if check.kind == "score":
        return f"{value:.1f}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def bound_text(check: Check, bound: float, currency: str) -> str:
    """``resolved within 45m``, ``score at least 60``."""
    if check.kind == "score":
        return f"{check.words} {bound:g}"
    return f"{check.words} {human(check, bound, currency)}"


def outcome_text(check: Check, m: Measure, journal: Journal, currency: str) -> str:
    """``got 52m10s`` or ``but not resolved within the horizon (2h)``."""
    from sim.scenario.durations import format_duration

    if m.value is None:
        horizon = format_duration(float(journal.data["horizon"]))
        return f"but not {check.verb} within the horizon ({horizon})"
    return f"got {human(check, m.value, currency)}"


def short_text(check: Check, m: Measure, currency: str) -> str:
    """A run's value in a list of seeds: ``52m10s``, ``no impact``, ``not resolved``."""
    if m.no_impact:
        return "no impact"
    if m.value is None:
        return f"not {check.verb}"
    return human(check, m.value, currency)


def phase_note(check: Check, card: Scorecard) -> str:
    """For a time bound, the scorecard's note on its phase (``mitigation: …``), else ``""``."""
    if check.kind != "time":
        return ""
    if card.incidents:
        return "; ".join(
            f"{i.name} {check.source}: {i.phases[check.source].note}" for i in card.incidents
        )
    phase = card.phases[check.source]
    return f"{phase.name}: {phase.note}" if phase.note else ""
