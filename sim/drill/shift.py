"""A random drill's shift: the same whatever was drawn.

Each catalogue scenario has its own morning (``clock_start``) and length (``horizon``); shown
as they are, the first line of ``chaosdrill drill --random`` — "your shift starts at 12:30
and lasts 2h30m" — would name the scenario to anyone who knows the catalogue. A random drill
therefore runs the scenario on a normalised clock: the shift starts on :data:`SHIFT_DATE` at
:data:`SHIFT_HOUR` (keeping the scenario's minutes, so that what happens at the top of an
hour still does) and lasts at least :data:`SHIFT_LENGTH`; the drill does not say how long
(one catalogue scenario, a restore that takes most of a day, runs longer).

The world is the same: the daily curve is turned by the hours the clock moved and the peaks
that recur on the clock are moved with it, so that shoppers arrive at each simulated second as
they would have on the scenario's own morning. Only the labels change — every time the trainee
sees, the journal and the report are on the normalised clock. A replay of a random drill
normalises it again (``random`` in ``session.json``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sim.scenario.schema import Scenario

SHIFT_DATE = date(2026, 3, 16)
SHIFT_HOUR = 9
SHIFT_LENGTH = 3 * 3600.0  # longer than every catalogue scenario's horizon


def random_shift(scenario: Scenario) -> Scenario:
    """``scenario`` on the normalised clock of a random drill (the same world)."""
    start = scenario.clock_start.astimezone(UTC)
    moved = start.hour - SHIFT_HOUR  # hours the clock moves back (negative: forward)
    traffic = scenario.traffic
    curve = traffic.daily_curve
    peaks = tuple(
        p.model_copy(update={"at": (p.at - moved * 3600.0) % p.every}) for p in traffic.peaks
    )
    return scenario.model_copy(
        update={
            "clock_start": datetime.combine(
                SHIFT_DATE, start.time().replace(hour=SHIFT_HOUR), tzinfo=UTC
            ),
            "horizon": max(scenario.horizon, SHIFT_LENGTH),
            "traffic": traffic.model_copy(
                update={
                    "daily_curve": tuple(curve[(h + moved) % 24] for h in range(24)),
                    "peaks": peaks,
                }
            ),
        }
    )


def drill_scenario(scenario: Scenario, random_pick: bool) -> Scenario:
    """The scenario a drill runs: normalised when it was drawn at random."""
    return random_shift(scenario) if random_pick else scenario
