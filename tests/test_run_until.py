"""The engines' inlined step loop (``run_until``) runs exactly what ``simpy`` would."""

from __future__ import annotations

from typing import Any

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st
from simpy.events import NORMAL, URGENT

from sim.engine.common.base import run_until
from sim.engine.request.calls import wake

# (delay, urgent?, delay of a follow-up it schedules when it runs or None, a timer?)
EVENTS = st.lists(
    st.tuples(
        st.sampled_from([0.0, 0.5, 1.0, 2.0, 2.5, 3.0, 4.0]),
        st.booleans(),
        st.none() | st.sampled_from([0.0, 0.5, 1.0, 1.5]),
        st.booleans(),
    ),
    max_size=25,
)
STOPS = st.lists(st.sampled_from([0.5, 1.0, 2.0, 2.5, 3.0, 5.0]), min_size=1, max_size=4)


def play(
    events: list[tuple[float, bool, float | None, bool]], stops: list[float], mine: bool
) -> Any:
    """Schedule ``events`` and run to each stop. A timer is the request engine's queue entry
    (``wake``: no event object) under ``run_until``, and a plain SimPy event under SimPy's
    own loop — the same thing at the same place in the queue."""
    env = simpy.Environment()
    seen: list[tuple[float, int]] = []

    def schedule(i: int, delay: float, urgent: bool, then: float | None, timer: bool) -> None:
        def fired(_: Any) -> None:
            seen.append((env.now, i))
            if then is not None:  # a follow-up scheduled from inside the loop
                schedule(1000 + i, then, urgent, None, timer)

        if timer and mine:
            wake(env, delay, fired, None)
            return
        ev = simpy.Event(env)
        ev._ok, ev._value = True, None
        ev.callbacks.append(fired)
        env.schedule(ev, NORMAL if timer or not urgent else URGENT, delay)

    for i, (delay, urgent, then, timer) in enumerate(events):
        schedule(i, delay, urgent, then, timer)
    marks = []
    for at in sorted(set(stops)):
        if mine:
            run_until(env, at)
        else:
            env.run(until=at)
        marks.append((env.now, len(seen)))
    return seen, marks


@settings(max_examples=200, deadline=None)
@given(EVENTS, STOPS)
def test_run_until_processes_what_simpy_would(events: Any, stops: Any) -> None:
    """Same events, same order, same clock at every stop — including events at the stop
    time itself, urgent or not, timers among SimPy's events, and events scheduled while
    running."""
    assert play(events, stops, mine=True) == play(events, stops, mine=False)


def test_run_until_refuses_to_go_back() -> None:
    env = simpy.Environment()
    run_until(env, 2.0)
    with pytest.raises(ValueError, match="must be greater than the current simulation time"):
        run_until(env, 1.0)


def test_a_failed_event_crashes_the_run_as_in_simpy() -> None:
    env = simpy.Environment()
    env.timeout(1.0).callbacks.append(lambda _: None)
    bad = simpy.Event(env)
    bad.fail(RuntimeError("boom"))
    with pytest.raises(RuntimeError, match=r"^boom$") as crash:
        run_until(env, 5.0)
    assert isinstance(crash.value.__cause__, RuntimeError)
