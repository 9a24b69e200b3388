"""The flow engine: its queues, its call model, its funnel, and whole runs on top of it."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.engine.flow.calls import CallModel
from sim.engine.flow.engine import flow_lacks
from sim.engine.flow.funnel import Funnel, delay_kernel, time_cdf
from sim.engine.flow.queues import Backlog, Cond, Wait, erlang_c
from sim.model.state import Effect
from sim.scenario import Scenario
from sim.simulation import Simulation
from sim.telemetry.metrics import ERROR, OK, TIMEOUT
from tests.conftest import SCENARIOS

CATALOGUE = sorted(SCENARIOS.glob("*.yaml"))

ROOT = Path(__file__).resolve().parents[1]


# -- queues --------------------------------------------------------------------------------
def test_erlang_c_matches_closed_forms() -> None:
    """M/M/1 waits with probability ρ; M/M/2 with 2ρ²/(1+ρ)."""
    assert erlang_c(1, 0.6) == pytest.approx(0.6)
    rho = 0.7
    assert erlang_c(2, 2 * rho) == pytest.approx(2 * rho**2 / (1 + rho))


@settings(max_examples=60, deadline=None)
@given(
    over=st.floats(1.1, 4.0),
    slots=st.integers(4, 200),
    hold=st.floats(0.005, 2.0),
    patience=st.floats(0.5, 30.0),
)
def test_an_overloaded_queue_settles_where_the_slots_keep_up(
    over: float, slots: int, hold: float, patience: float
) -> None:
    """Above saturation, the arrivals still waiting when served match what the slots complete."""
    mu = slots / hold
    offered = over * mu
    queue = Backlog()
    wait = Wait()
    for _ in range(200):  # it fills no faster than arrivals outpace the slots
        queue.step(
            offered,
            mu,
            hold,
            slots,
            math.inf,
            patience,
            wait,
            slots,
            classes=[(offered, patience, hold)],
            dt=5.0,
        )
        queue.commit()
    served = 1.0 - wait.late_within(patience)
    assert served * offered == pytest.approx(mu, rel=0.05)
    assert 0 < wait.backlog <= 4 * patience


def test_callers_with_the_least_time_left_give_up_first() -> None:
    """Two kinds of callers, 1 s and 10 s left: the queue sheds the hurried ones."""
    queue, wait = Backlog(), Wait()
    slots, hold = 10, 0.1  # 100 calls/s
    classes = [(80.0, 1.0, hold), (80.0, 10.0, hold)]
    for _ in range(100):
        queue.step(160.0, 100.0, hold, slots, math.inf, 5.5, wait, slots, classes=classes, dt=5.0)
        queue.commit()
    # 160 arrive, 100 can be served: all 60 shed are hurried ones (60 of their 80).
    assert 1.0 < wait.backlog < 10.0
    assert wait.late_within(1.0) == pytest.approx(0.75, abs=0.06)
    assert wait.late_within(10.0) < 0.01


def test_a_quiet_queue_does_not_wait_and_a_queue_limit_rejects() -> None:
    """Light load: no wait at all; overload past the queue limit: the excess is rejected."""
    queue, wait = Backlog(), Wait()
    queue.step(10.0, 10.0, 0.01, 32, 1000, 2.0, wait, per=32)
    assert (wait.backlog, wait.p_wait, wait.full) == (0.0, 0.0, 0.0)
    for _ in range(40):
        queue.step(1000.0, 100.0, 0.1, 10, 5, 30.0, wait, per=10, dt=5.0)
        queue.commit()
    assert wait.full == pytest.approx(0.9)
    assert queue.length == pytest.approx(5, rel=1e-3)


# -- the call model ------------------------------------------------------------------------
def _model(scenario: Scenario, **states: Effect) -> tuple[Simulation, CallModel]:
    simulation = Simulation(scenario, 1, engine="flow")
    for name, effect in states.items():
        simulation.world.states[name].add(effect)
    engine = simulation.engine
    conds = {}
    for name, rt in engine.runtimes.items():
        cond = Cond()
        from sim.engine.flow.queues import component_cond

        conds[name] = component_cond(rt, Backlog(), 0.0, 0.0, 0.0, 0.0, cond)
    return simulation, CallModel(conds, {}, frozenset())


def test_a_broken_table_fails_every_request_that_touches_it(seed_scenario: Scenario) -> None:
    """Logins query users: with users broken every login fails with the table's error."""
    effect = Effect(source="t", broken_tables={"users": "column gone"}, table_error_class="X")
    simulation, model = _model(seed_scenario, db=effect)
    root = simulation.engine.roots["login"]
    profile = model.profile(root, 60.0)
    assert profile.ok == pytest.approx(0.0, abs=1e-9)
    assert {(f[1], f[2]) for f in profile.fails} == {(ERROR, "X")}
    home = model.profile(simulation.engine.roots["home"], 60.0)
    assert home.ok == pytest.approx(1.0, abs=1e-6)


def test_retries_square_an_independent_failure(seed_scenario: Scenario) -> None:
    """web → auth retries once: an auth failing 30 % fails a login 9 % of the time."""
    effect = Effect(source="t", error_probability=0.3)
    simulation, model = _model(seed_scenario, auth=effect)
    profile = model.profile(simulation.engine.roots["login"], 60.0)
    assert 1.0 - profile.ok == pytest.approx(0.09, rel=1e-6)
    auth = next(n for n, t in profile.tallies.items() if n.comp.name == "auth")
    assert profile.tallies[auth].calls == pytest.approx(1.3)  # 1 + 0.3 retries per login


def test_a_hang_times_out_at_the_deadline_and_an_optional_call_falls_back(
    seed_scenario: Scenario,
) -> None:
    """The e-mail provider hanging costs /pay its 2 s timeout, not the payment."""
    simulation, model = _model(seed_scenario, **{"email-provider": Effect(source="t", hang=True)})
    profile = model.profile(simulation.engine.roots["pay"], 60.0)
    assert profile.ok == pytest.approx(1.0, abs=1e-6)
    assert profile.ok_latency > 2.0
    email = next(n for n in profile.tallies if n.comp.name == "email-provider")
    assert profile.tallies[email].counts[TIMEOUT] == pytest.approx(1.0)
    web = next(n for n in profile.tallies if n.comp.name == "web")
    assert profile.tallies[web].fallbacks == pytest.approx(1.0)
    assert profile.tallies[web].counts[OK] == pytest.approx(1.0)


def test_an_open_breaker_fails_fast(seed_scenario: Scenario) -> None:
    """payments → payment-provider open: every /pay fails at once with CircuitOpen."""
    simulation = Simulation(seed_scenario, 1, engine="flow")
    engine = simulation.engine
    breaker = next(iter(engine.breakers.values()))
    conds = {n: Cond() for n in engine.runtimes}
    for name, rt in engine.runtimes.items():
        from sim.engine.flow.queues import component_cond

        component_cond(rt, Backlog(), 0.0, 0.0, 0.0, 0.0, conds[name])
    profile = CallModel(conds, {}, frozenset({breaker})).profile(engine.roots["pay"], 60.0)
    assert profile.ok == pytest.approx(0.0, abs=1e-9)
    assert {f[2] for f in profile.fails} == {"CircuitOpen"}


# -- the funnel ----------------------------------------------------------------------------
@pytest.mark.parametrize("dt", [1.0, 5.0, 10.0])
def test_delay_kernels_keep_every_session(seed_scenario: Scenario, dt: float) -> None:
    """Think-time and reload kernels are distributions over later steps (nothing lost)."""
    think = seed_scenario.traffic.think_time
    kernel = delay_kernel(time_cdf(think), dt, 200.0)
    assert kernel.sum() == pytest.approx(1.0)
    # A request sent at a uniform point of its step lands floor(u + d/dt) steps later: on
    # average d/dt, plus a little for the delays too short to leave their own step.
    mean_steps = sum((j + 1) * p for j, p in enumerate(kernel))
    assert mean_steps * dt == pytest.approx(think.mean, rel=0.1)


def test_a_healthy_funnel_converts_as_the_proceed_shares_say(seed_scenario: Scenario) -> None:
    """With every request succeeding, checkouts reach arrivals × the proceed shares."""
    funnel = Funnel(seed_scenario.traffic, 5.0)
    ok_last = arrived = 0.0
    for step in range(4000):
        due = funnel.take(step, 1.0 if step < 3000 else 0.0)
        arrived += 1.0 if step < 3000 else 0.0
        ok, leaving = funnel.move(step, due, np.ones(funnel.k))
        ok_last += ok[-1]
        assert leaving.sum() == pytest.approx(0.0)
    expect = math.prod(s.proceed for s in seed_scenario.traffic.funnel[:-1])
    assert ok_last / arrived == pytest.approx(expect, rel=1e-6)


# -- whole runs ----------------------------------------------------------------------------
def test_the_seed_incident_on_the_flow_engine(seed_scenario: Scenario) -> None:
    """Logins fail from the migration (40 m), the seed responder pages and rolls it back."""
    journal = sim.run(seed_scenario, 3, engine="flow")
    summary = journal.summary
    assert journal.data["engine"] == "flow"
    assert summary["errors_started"] == 2400.0
    assert summary["time_to_detect"] is not None
    assert summary["time_to_detect"] <= 300
    classes = {(e["endpoint"], e["error_class"]) for e in summary["first_errors"]}
    assert ("login", "UndefinedColumn") in classes
    assert summary["failed_checkouts"] > 0
    kinds = [kind for _, kind in journal.timeline]
    assert "fault.start" in kinds
    assert "fault.end" in kinds
    assert journal.data["response"]["resolved_at"] is not None
    ended = next(e for e in journal.events("fault.end"))
    # After the fault ends, the last errors drain within a couple of windows.
    assert summary["errors_stopped"] <= ended["t"] + 60


def test_a_canary_migration_fails_its_share(seed_scenario: Scenario) -> None:
    """share 0.05: about one checkout in twenty fails (no retries there), on both engines."""
    doc = seed_scenario.model_dump(mode="json", by_alias=True)
    doc["faults"][0]["share"] = 0.05
    canary = Scenario.model_validate(doc)
    for engine in ("flow", "request"):
        simulation = Simulation(canary, 2, engine=engine)
        simulation.advance(3300)
        simulation.finish()
        rows = [
            r
            for r in simulation.engine.metrics.rows
            if r[1] == "endpoint" and r[2] in ("checkout", "pay") and r[0] >= 2400
        ]
        requests = sum(r[3] for r in rows)
        errors = sum(r[5] for r in rows)
        assert 0.02 < errors / requests < 0.12, engine


@pytest.mark.parametrize("path", CATALOGUE, ids=[p.stem for p in CATALOGUE])
def test_every_scenario_runs_on_the_flow_engine_or_is_refused(path: Path) -> None:
    """Each catalogue scenario runs to its horizon, its windows adding up like the request's —
    or, if it uses a mechanism the flow engine does not model, is refused naming it."""
    scenario = sim.load_scenario(path)
    lacks = flow_lacks(scenario)
    if lacks:
        with pytest.raises(
            ValueError, match=f"the flow engine does not model {re.escape(lacks[0][:20])}"
        ):
            sim.run(scenario, 1, engine="flow", horizon=60)
        return
    journal = sim.run(scenario, 1, engine="flow", horizon=min(scenario.horizon, 2700))
    table = journal.data["metrics"]["series"]
    for row in table["rows"]:
        assert row[3] == row[4] + row[5] + row[6] + row[7]
    business = journal.data["metrics"]["business"]["rows"]
    assert all(r[5] <= r[4] for r in business)  # failed checkouts ≤ checkout attempts
    assert sum(r[2] for r in business) > 0


def _journal_hash(seed: int, hashseed: str) -> str:
    code = (
        "import hashlib, json, sim\n"
        f"s = sim.load_scenario({str(ROOT / 'scenarios' / 'payment-provider-outage.yaml')!r})\n"
        f"j = sim.run(s, {seed}, engine='flow', horizon=1800)\n"
        "print(hashlib.sha256(json.dumps(j.data, sort_keys=True).encode()).hexdigest())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.slow
def test_same_seed_same_journal_in_any_process() -> None:
    """The flow engine is seeded like the request one: one seed, one journal, any process."""
    first = _journal_hash(4, "1")
    assert first == _journal_hash(4, "987")
    assert first != _journal_hash(5, "1")
    local = sim.run(
        sim.load_scenario(ROOT / "scenarios" / "payment-provider-outage.yaml"),
        4,
        engine="flow",
        horizon=1800,
    )
    assert hashlib.sha256(json.dumps(local.data, sort_keys=True).encode()).hexdigest() == first
