"""Pass two's work checks: how many metrics windows, how many shoppers at the peak and how
many simulated calls a run of a well-shaped scenario would take (:mod:`sim.scenario.limits`).

Every number that drives work has its own bound in the schema; these bound their products.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from itertools import pairwise

from sim.scenario.durations import format_duration
from sim.scenario.limits import MAX_PEAK_RATE, MAX_WINDOWS, WORK_BUDGET
from sim.scenario.references import Finding
from sim.scenario.schema import Call, Scenario, Traffic


def check_work(s: Scenario) -> Iterator[Finding]:
    """Yield ``(path, message)`` for each product of bounded numbers that is still too much."""
    if s.window > s.horizon:
        yield (
            ("window",),
            f"expected at most the horizon ({format_duration(s.horizon)}), "
            f"got {format_duration(s.window)}",
        )
    elif s.horizon / s.window > MAX_WINDOWS:
        yield (
            ("window",),
            f"expected at most {MAX_WINDOWS:,} metrics windows in the horizon, got "
            f"{s.horizon / s.window:,.0f} ({format_duration(s.horizon)} of "
            f"{format_duration(s.window)}); lengthen the window or shorten the horizon",
        )
    t = s.traffic
    pieces = _surge_pieces(t, s.horizon)
    curve, surges = max(t.daily_curve), max(factor for _, factor in pieces) * _peaks_top(t)
    if t.arrival_rate * curve * surges > MAX_PEAK_RATE:
        yield (
            ("traffic", "arrival_rate"),
            f"expected at most {MAX_PEAK_RATE:g} sessions/s at the peak, got "
            f"{t.arrival_rate * curve * surges:g} (arrival_rate {t.arrival_rate:g} × daily-curve "
            f"peak {curve:g} × surges and peaks {surges:g}); lower the arrival rate, the daily "
            f"curve, the surges or the peaks",
        )
    estimate = estimated_calls(s)
    if estimate > WORK_BUDGET:
        yield (
            ("horizon",),
            f"expected at most {WORK_BUDGET:.0e} simulated calls (the work budget), got about "
            f"{estimate:.1e} (arrival_rate {t.arrival_rate:g} × daily-curve peak {curve:g} × "
            f"{format_duration(_surged(pieces))} of horizon, surges weighted × "
            f"{calls_per_session(s)} calls per session); lower the horizon, the arrival rate, "
            f"the daily curve, the surges or the calls of the funnel's endpoints",
        )


def _surge_pieces(t: Traffic, horizon: float) -> list[tuple[float, float]]:
    """The horizon in pieces, ``(seconds, factor)``: the surges on in a piece multiply."""
    edges = sorted(
        {0.0, horizon}
        | {min(max(at, 0.0), horizon) for u in t.surges for at in (u.start, u.start + u.duration)}
    )
    return [
        (b - a, math.prod(u.factor for u in t.surges if u.start <= a < u.start + u.duration))
        for a, b in pairwise(edges)
    ]


def _peaks_top(t: Traffic) -> float:
    """The most the recurring peaks multiply the rate by (all at once, if they can overlap)."""
    return math.prod(max(1.0, p.factor) for p in t.peaks)


def _peaks_mean(t: Traffic) -> float:
    """What the recurring peaks multiply the traffic by on average."""
    return math.prod(1 + (p.factor - 1) * p.duration / p.every for p in t.peaks)


def _surged(pieces: list[tuple[float, float]]) -> float:
    """Seconds of traffic at curve 1.0: each piece's seconds times its surge factor."""
    return sum(seconds * factor for seconds, factor in pieces)


def calls_per_session(s: Scenario) -> int:
    """Calls a shopper makes who goes through the whole funnel: every step's call tree."""
    return sum(
        _calls(s.endpoints[step.endpoint].call)
        for step in s.traffic.funnel
        if step.endpoint in s.endpoints
    )


def _calls(call: Call | str) -> int:
    return 1 if isinstance(call, str) else 1 + sum(_calls(child) for child in call.calls)


def estimated_calls(s: Scenario) -> float:
    """A run's work in simulated calls, an upper estimate: arrival rate × the daily curve's
    peak × the horizon with its surges × calls per session."""
    t = s.traffic
    return (
        t.arrival_rate
        * max(t.daily_curve)
        * _surged(_surge_pieces(t, s.horizon))
        * max(1.0, _peaks_mean(t))
        * calls_per_session(s)
    )
