"""Multiwindow burn-rate alerts (monitor kind ``burn_rate``, docs/signals.md): the error
budget must burn faster than the threshold over the long window *and* the short one, so a
total outage pages in under a minute, a partial one later in proportion, and one too small to
threaten the budget never; a burst that has stopped does not page on the long window alone."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import sim
from sim.expect.overrides import overridden
from sim.model.world import Event, World
from sim.scenario import Scenario
from sim.scenario.schema import Monitor
from sim.scoring.phases import phases
from sim.telemetry.metrics import SERIES_COLUMNS
from sim.telemetry.monitors import Monitors

SEED = sim.load_scenario("bad-schema-migration")
WINDOW = 10.0
BUSINESS = (0.0, 100, 10, 500.0, 10, 0, 0, 0.0)
REQUESTS = 100  # an endpoint's requests in a window
FAST = {  # the SRE workbook's fast-burn page for a 99.9 % objective: 2 % of a month in 1 h
    "name": "budget-burn",
    "kind": "burn_rate",
    "scope": "endpoint",
    "threshold": 14.4,
    "over": "1h",
    "for": "0s",
    "objective": 0.999,
    "severity": "critical",
}


def row(failed: int, requests: int = REQUESTS) -> tuple[object, ...]:
    values = dict.fromkeys(SERIES_COLUMNS, 0.0)
    values |= {"scope": "endpoint", "name": "checkout", "requests": requests, "errors": failed}
    values["ok"] = requests - failed
    return tuple(values[c] for c in SERIES_COLUMNS)


def make(scenario: Scenario, **kw: object) -> tuple[Monitors, list[Event]]:
    world = World(scenario)
    events: list[Event] = []
    world.subscribe(events.append)
    rule = Monitor.model_validate({**FAST, **kw})
    return Monitors(world, (rule,), WINDOW, lambda name: 64, lambda a, b: 100.0), events


def feed(monitors: Monitors, failed: list[int]) -> None:
    for i, n in enumerate(failed):
        monitors.on_window(i * WINDOW, [row(n)], BUSINESS)


def first_firing(events: list[Event]) -> float | None:
    return next((e.t for e in events if e.kind == "alert.firing"), None)


@pytest.mark.parametrize("share", [1.0, 0.5, 0.25, 0.05])
def test_an_outage_pages_when_the_long_window_has_burnt_its_share(
    seed_scenario: Scenario, share: float
) -> None:
    """An hour of clean traffic, then a steady share failing: the long window's ratio reaches
    14.4 × 0.1 % after 0.0144 × 3600 ÷ share seconds (52 s for a total outage), the short one
    long before; it fires at the end of the window that gets it there."""
    monitors, events = make(seed_scenario)
    clean = int(3600 / WINDOW)
    feed(monitors, [0] * clean + [round(share * REQUESTS)] * 360)
    expected = 14.4 * 0.001 * 3600 / share  # seconds of the outage
    fired = first_firing(events)
    assert fired is not None
    after = fired - 3600.0
    assert expected <= after < expected + WINDOW + 1e-6


def test_a_trickle_below_the_budgets_pace_never_pages(seed_scenario: Scenario) -> None:
    """1 % failing burns at 10×, under 14.4: no page, however long it lasts."""
    monitors, events = make(seed_scenario)
    feed(monitors, [0] * 360 + [1] * 720)
    assert first_firing(events) is None


def test_a_burst_that_stopped_does_not_page_on_the_long_window_alone(
    seed_scenario: Scenario,
) -> None:
    """Two minutes of total outage put the long window over 14.4× only after they ended (52 s
    in, it is over); with the short window required, an outage that stopped five minutes ago
    no longer pages, and a firing alert resolves once the short window is clean."""
    monitors, events = make(seed_scenario)
    feed(monitors, [0] * 360 + [REQUESTS] * 12 + [0] * 60)
    fired = first_firing(events)
    assert fired is not None
    assert fired - 3600 < 120  # during the burst
    resolved = [e.t for e in events if e.kind == "alert.resolved"]
    assert resolved
    assert resolved[0] - (3600 + 120) <= 300 + WINDOW  # within the short window of its end


def reference_firing(failed: list[int], short: float, over: float, limit: float) -> list[bool]:
    """Whether the rule holds after each window, straight from its definition."""
    out = []
    for i in range(len(failed)):

        def ratio(span: float, i: int = i) -> float:
            n = max(1, round(span / WINDOW))
            part = failed[max(0, i - n + 1) : i + 1]
            return sum(part) / (len(part) * REQUESTS)

        out.append(min(ratio(over), ratio(short)) > limit)
    return out


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, REQUESTS), min_size=1, max_size=80))
def test_the_alert_fires_exactly_when_both_windows_burn(failed: list[int]) -> None:
    """Any stream of windows: with no hold time the alert is firing after a window exactly
    when both windows' failed share exceeds threshold × (1 − objective)."""
    monitors, _ = make(SEED, over="5m", short="1m", threshold=10, objective=0.99)
    expected = reference_firing(failed, 60.0, 300.0, 10 * 0.01)
    state = []
    for i, n in enumerate(failed):
        monitors.on_window(i * WINDOW, [row(n)], BUSINESS)
        state.append(monitors.alerts["budget-burn/checkout"].state == "firing")
    assert state == expected


def test_the_short_window_is_checked() -> None:
    with pytest.raises(ValidationError, match="must be shorter than over"):
        Monitor.model_validate({**FAST, "short": "1h"})
    with pytest.raises(ValidationError, match="only a burn_rate rule has a short window"):
        Monitor.model_validate({**FAST, "kind": "error_ratio", "threshold": 0.05, "short": "1m"})
    assert Monitor.model_validate(FAST).short_window == 300.0


@pytest.mark.slow
def test_in_the_seed_incident_a_partial_break_pages_later_than_a_total_one() -> None:
    """The seed shop paged by budget burn instead of the 5 % rule: the seed incident pages;
    the same migration breaking 5 % of the queries pages later — the threshold rule's hold
    time pages both at the same time (notebooks/alert-threshold.ipynb)."""
    base = SEED
    rules = [FAST | {"min_requests": 20}]

    def detected(share: float) -> float:
        overrides = {"monitors": rules, "faults.0.share": share}
        scenario = overridden(base, overrides)
        journal = sim.run(scenario, 1, responder="none", engine="flow", horizon=5400)
        found = phases(journal)["detection"].since_impact
        assert found is not None, share
        return found

    total, partial = detected(1.0), detected(0.05)
    assert total < 120
    assert partial > total + 120
