"""Managed capacity: a scaling policy that reads a CPU blocked workers do not use, launches
that boot through a provisioning service, and a quota that refuses them
(scenarios/autoscaler-scales-in.yaml, scenarios/quota-blocks-scale-out.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.expect.overrides import apply_overrides
from sim.response.api import Incident
from sim.scenario import Scenario
from sim.simulation import Simulation
from tests.conftest import SCENARIOS, drill_transcript, failed_share, simulate
from tests.conftest import events_of as events

SCALES_IN = SCENARIOS / "autoscaler-scales-in.yaml"
QUOTA = SCENARIOS / "quota-blocks-scale-out.yaml"
FAULT = (20 * 60.0, 50 * 60.0)  # the session store is slow (autoscaler-scales-in)
SURGE = (15 * 60.0, 75 * 60.0)  # arrivals × 3 (quota-blocks-scale-out)


def variant(path: Any, overrides: dict[str, Any]) -> Scenario:
    doc = sim.load_scenario(path).model_dump(mode="json", by_alias=True)
    return Scenario.model_validate(apply_overrides(doc, overrides))


def last_failing_minute(simulation: Simulation, after: float, share: float = 0.05) -> float:
    """The start of the last minute after ``after`` in which more than ``share`` failed."""
    t = after
    last = after
    while t < simulation.env.now:
        if failed_share(simulation, t, t + 60) > share:
            last = t
        t += 60
    return last


@pytest.fixture(scope="module")
def stuck() -> Simulation:
    return simulate(SCALES_IN)


@pytest.fixture(scope="module")
def stuck_inflight() -> Simulation:
    """The same shop, its policy tracking the share of worker slots held instead of CPU."""
    return simulate(SCALES_IN, {"components.web.autoscaling.metric": "inflight"})


def test_a_cpu_policy_scales_in_while_requests_pile_up_on_a_stuck_dependency(
    stuck: Simulation,
) -> None:
    """While the session store hangs, every web worker is held (waiting) and computes little:
    the CPU datapoints fall under the scale-in threshold and the policy terminates instances
    in the middle of the outage — which makes it worse."""
    policy = stuck.scenario.components["web"].autoscaling
    assert policy is not None
    cut = [e for e in events(stuck, "scale.terminate") if FAULT[0] < e["t"] <= FAULT[1]]
    assert cut, "the policy never scaled in during the stall"
    first = cut[0]["t"]
    # fifteen datapoints in a row under the threshold: not before fifteen minutes of stall
    assert first >= FAULT[0] + policy.in_after * policy.interval - 1
    points = [v for t, v in stuck.fleet.datapoints["web"] if FAULT[0] + 120 < t <= first]
    assert points
    assert max(points) < policy.target * policy.in_below
    # …while the workers were all held: the web tier's slots busy at every window close
    rows = stuck.engine.metrics.rows
    busy = [
        r[12]
        for r in rows[0 : len(rows)]
        if r[1] == "component" and r[2] == "web" and FAULT[0] + 120 <= r[0] < first - 10
    ]
    slots = 5 * stuck.scenario.components["web"].concurrency
    assert sum(busy) / len(busy) > 0.9 * slots
    # and the outage got worse when the fleet shrank
    assert failed_share(stuck, first, FAULT[1]) > failed_share(stuck, FAULT[0] + 60, first) + 0.1


def test_the_outage_outlasts_its_cause_by_the_policys_own_time(stuck: Simulation) -> None:
    """When the session store recovers, the shrunk fleet is overloaded until the policy has
    seen three datapoints above target and its launches have booted."""
    policy = stuck.scenario.components["web"].autoscaling
    assert policy is not None
    launches = [e for e in events(stuck, "scale.launch") if e["t"] > FAULT[1]]
    assert launches
    first_launch = launches[0]["t"]
    assert first_launch >= FAULT[1] + policy.out_after * policy.interval - policy.interval
    served = [e["t"] for e in events(stuck, "scale.in_service") if e["t"] > first_launch]
    assert served[0] == pytest.approx(first_launch + policy.boot)
    assert failed_share(stuck, FAULT[1] + 60, first_launch) > 0.1
    assert failed_share(stuck, served[0] + 300, served[0] + 900) < 0.02


def test_an_inflight_policy_scales_out_instead_and_the_outage_ends_with_its_cause(
    stuck: Simulation, stuck_inflight: Simulation
) -> None:
    """Counterfactual: the same stall read as slots held is a reason to add instances, not
    to remove them — and after the cause ends there is nothing left to rebuild."""
    during = [e for e in events(stuck_inflight, "scale.terminate") if FAULT[0] < e["t"] <= FAULT[1]]
    assert not during
    assert any(FAULT[0] < e["t"] <= FAULT[1] for e in events(stuck_inflight, "scale.launch"))
    after_cpu = failed_share(stuck, FAULT[1], FAULT[1] + 600)
    after_inflight = failed_share(stuck_inflight, FAULT[1], FAULT[1] + 600)
    assert after_inflight < after_cpu / 3


@pytest.mark.slow
def test_suspending_the_policy_early_keeps_the_fleet(stuck: Simulation) -> None:
    """Counterfactual: an operator who suspends scaling five minutes into the stall keeps all
    five instances, and the shop recovers with its cause."""
    held = simulate(
        SCALES_IN,
        {
            "response.responder": "scripted",
            "actions": [{"at": "25m", "action": "suspend_scaling", "target": "web"}],
        },
    )
    assert not events(held, "scale.terminate")
    assert events(held, "scaling.suspended")[0]["t"] == pytest.approx(25 * 60 + 30)
    assert failed_share(held, FAULT[1] + 60, FAULT[1] + 600) < 0.02
    assert failed_share(stuck, FAULT[1] + 60, FAULT[1] + 600) > 0.05


@pytest.fixture(scope="module")
def capped() -> Simulation:
    return simulate(QUOTA, until=SURGE[1] + 900)


def test_the_quota_refuses_the_launches_the_surge_needs(capped: Simulation) -> None:
    """The policy asks, the provider refuses with its own error, the account never runs more
    than its quota, and pages keep failing through the surge."""
    quota = capped.scenario.capacity.quota if capped.scenario.capacity else None
    assert quota == 32
    refused = events(capped, "scale.refused")
    assert refused
    assert all(e["component"] == "web" for e in refused)
    assert (
        "InstanceLimitExceeded: Your quota allows for 0 more running instance(s)"
        in (refused[-1]["message"])
    )
    assert capped.fleet.running() <= quota
    assert capped.world.states["web"].replicas == 8  # 5 + the 3 the quota had room for
    assert failed_share(capped, SURGE[0] + 900, SURGE[1]) > 0.05


def raised_at(minute: int) -> Simulation:
    """The quota scenario with the quota raised (asked for) at ``minute``."""
    action = {"at": f"{minute}m", "action": "raise_quota", "target": "web"}
    overrides = {"response.responder": "scripted", "actions": [action]}
    return simulate(QUOTA, overrides, until=SURGE[1] + 900)


@pytest.mark.slow
def test_a_quota_raised_earlier_shortens_the_outage(capped: Simulation) -> None:
    """Counterfactual: raising the quota (30 minutes at the provider) lets the policy's next
    launch through; the earlier it is asked for, the earlier pages stop failing."""
    ends = {}
    for minute in (20, 40):
        raised = raised_at(minute)
        (grant,) = events(raised, "quota.raised")
        assert grant["t"] == pytest.approx(minute * 60 + 1800)
        assert (grant["old"], grant["new"]) == (32, 64)
        launched = [e["t"] for e in events(raised, "scale.in_service") if e["t"] > grant["t"]]
        assert launched
        assert launched[0] - grant["t"] <= 4 * 60 + 180
        ends[minute] = last_failing_minute(raised, SURGE[0] + 600)
        if minute == 20:
            assert ends[minute] <= launched[0] + 300
    never = last_failing_minute(capped, SURGE[0] + 600)
    assert ends[20] < ends[40] - 900
    assert ends[40] <= never


def test_launches_wait_for_the_provisioning_service() -> None:
    """Five launches through a service that works on two at a time boot in three waves."""
    scenario = variant(
        QUOTA, {"capacity.launches": 2, "capacity.quota": None, "traffic.surges": []}
    )
    simulation = Simulation(scenario, 1)
    simulation.advance(60)
    launches = simulation.fleet.launch("web", 5, "test")
    assert len(launches) == 5
    simulation.advance(60 + 3 * 180 + 1)
    boot = scenario.components["web"].autoscaling.boot  # type: ignore[union-attr]
    served = [e["t"] - 60 for e in events(simulation, "scale.in_service") if e["t"] > 60][:5]
    assert served == pytest.approx([boot, boot, 2 * boot, 2 * boot, 3 * boot])
    assert simulation.fleet.launch_seconds("web", 5) == pytest.approx(3 * boot)


@pytest.mark.slow
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.sampled_from(["launch", "terminate"]), st.integers(1, 6), st.floats(1, 240)),
        min_size=1,
        max_size=8,
    )
)
def test_the_fleet_and_the_engine_agree_whatever_is_launched_or_terminated(
    steps: list[tuple[str, int, float]],
) -> None:
    """Whatever the sequence: the engine serves exactly the instances the state says are in
    service, the account never exceeds its quota, and taking instances out loses no call
    (every request ends exactly once: the business counters add up)."""
    scenario = variant(QUOTA, {"traffic.surges": [], "horizon": "30m"})
    simulation = Simulation(scenario, 3)
    quota = 32
    for what, n, wait in steps:
        if what == "launch":
            simulation.fleet.launch("web", n, "test")
        else:
            simulation.fleet.terminate("web", n, "test")
        simulation.advance(min(scenario.horizon, simulation.env.now + wait))
        state = simulation.world.states["web"]
        rt = simulation.engine.runtimes["web"]
        assert len(rt.instances) == state.replicas >= 1
        assert {i.i for i in rt.available} <= {i.i for i in rt.instances}
        assert simulation.fleet.running() <= quota
        assert all(i.busy >= 0 for i in rt.instances + rt.draining)
    simulation.engine.finish()
    series = simulation.engine.metrics.rows
    for r in series[0 : len(series)]:
        assert r[3] == r[4] + r[5] + r[6] + r[7]


def test_the_action_api_refuses_what_the_account_cannot_do() -> None:
    """No quota to raise, no policy to suspend: refused at no cost, saying why."""
    incident = Incident(Simulation(sim.load_scenario(SCALES_IN).model_copy(), 1), 3600)
    no_policy = incident.suspend_scaling("catalog")
    assert not no_policy.ok
    assert no_policy.end == no_policy.t
    assert "has no scaling policy" in no_policy.summary
    seed = Incident(Simulation(sim.load_scenario(SCENARIOS / "bad-schema-migration.yaml"), 1), 600)
    no_quota = seed.raise_quota("web")
    assert not no_quota.ok
    assert "no instance quota" in no_quota.summary


def test_a_scale_out_past_the_quota_fails_saying_so() -> None:
    """An operator's scale-out goes through the same account: refused, the action fails with
    the provider's error, and nothing is launched."""
    scenario = variant(QUOTA, {"capacity.quota": 29, "traffic.surges": []})
    incident = Incident(Simulation(scenario, 1), 3600)
    evidence = incident.scale_out("web")
    assert not evidence.ok
    assert "InstanceLimitExceeded" in evidence.summary
    assert incident.sim.world.states["web"].replicas == 5


@pytest.mark.slow
def test_the_drill_shows_the_refusals_and_raises_the_quota(tmp_path: Path) -> None:
    """A trainee reads the scaling activity, sees the provider's refusal and has the quota
    raised (in the background: a support case); the policy's launches then come through."""
    short = tmp_path / "quota-blocks-scale-out.yaml"
    # shorter than the scenario (the drill's finish runs it three more times, to compare)
    overrides = {"horizon": "48m", "capacity.quota_raise": "10m"}
    doc = variant(QUOTA, overrides).model_dump(mode="json", by_alias=True)
    short.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    journal, text = drill_transcript(
        short, 1, ("wait 5m", "capacity web", "raise_quota web", "wait 15m", "capacity", "quit")
    )
    assert "InstanceLimitExceeded" in text
    assert "account 32/32 instances (quota)" in text
    assert "raise_quota web started" in text
    (grant,) = journal.events("quota.raised")
    assert grant["new"] == 64
    assert any(e["t"] > grant["t"] for e in journal.events("scale.in_service"))


def _at(minute: float, overrides: dict[str, Any] | None = None) -> tuple[Simulation, Incident]:
    """The quota scenario, nobody responding, run to ``minute`` and opened to the action API."""
    doc = sim.load_scenario(QUOTA).model_dump(mode="json", by_alias=True)
    scenario = Scenario.model_validate(apply_overrides(doc, overrides or {}))
    simulation = Simulation(scenario, 1)
    simulation.advance(minute * 60)
    return simulation, Incident(simulation, scenario.horizon, failures=False)


def test_scaling_to_a_number_launches_the_missing_instances_through_the_account() -> None:
    """Room in the account and no policy acting meanwhile: web to 10 launches five, which
    boot before the step ends, and the step says so; to 3 terminates seven at once."""
    simulation, inc = _at(5, {"capacity.quota": 64, "components.web.autoscaling": None})
    ev = inc.scale_out("web", to=10)
    assert ev.ok, ev.summary
    assert ev.summary.startswith("scale_out web to 10 done in")
    launch = [a for a in simulation.fleet.activity if a["kind"] == "scale.launch"]
    assert [(a["instances"], a["by"]) for a in launch] == [(5, "operator")]
    assert simulation.world.states["web"].replicas == 10
    assert ev.end - ev.t >= 120  # the instances boot before the step ends (two minutes)
    ev = inc.scale_out("web", to=3)
    assert ev.ok, ev.summary
    assert simulation.world.states["web"].replicas == 3
    (gone,) = [a for a in simulation.fleet.activity if a["kind"] == "scale.terminate"]
    assert (gone["instances"], gone["remaining"], gone["by"]) == (7, 3, "operator")


def test_a_size_past_the_quota_is_partly_refused_with_the_providers_error() -> None:
    """search has no policy but the account manages it: asked for far more than the quota
    has room for, the provider lets the room through and refuses the rest, saying so (web's
    policy is taken out, so that nothing else launches meanwhile)."""
    simulation, inc = _at(5, {"components.web.autoscaling": None})
    room = simulation.fleet.quota - simulation.fleet.running()
    have = simulation.world.states["search"].replicas
    ev = inc.scale_out("search", to=have + room + 4)
    assert not ev.ok
    assert f"the account's quota let {room} of {room + 4} launches through" in ev.summary
    assert "InstanceLimitExceeded" in ev.summary
    assert simulation.world.states["search"].replicas == have + room
    assert simulation.fleet.running() == simulation.fleet.quota


@pytest.mark.parametrize(
    ("component", "to", "why"),
    [
        ("web", 40, "web's scaling policy keeps it at 2 to 12 instances; 40 is outside them"),
        ("web", 0, "scale web to 0: expected 1 to 1000 instances"),
    ],
)
def test_a_size_outside_what_may_be_asked_is_refused_at_once(
    component: str, to: int, why: str
) -> None:
    simulation, inc = _at(5)
    ev = inc.scale_out(component, to=to)
    assert not ev.ok
    assert why in ev.summary
    assert ev.end == ev.t  # a refusal costs no time
    assert not simulation.fleet.activity


def test_where_nobody_manages_capacity_it_runs_the_size_asked_for() -> None:
    """The seed shop declares no account: web to 9 runs nine instances once the action's
    time has passed (and the engine serves from all nine)."""
    scenario = sim.load_scenario(SCENARIOS / "bad-schema-migration.yaml")
    simulation = Simulation(scenario, 1)
    simulation.advance(300)
    inc = Incident(simulation, scenario.horizon, failures=False)
    before = simulation.world.states["web"].replicas
    ev = inc.scale_out("web", to=9)
    assert ev.ok, ev.summary
    assert before != 9
    assert simulation.world.states["web"].replicas == 9
    assert len(simulation.engine.runtimes["web"].instances) == 9


def test_in_the_drill_scale_takes_a_number(tmp_path: Path) -> None:
    short = tmp_path / "quota-blocks-scale-out.yaml"
    doc = variant(QUOTA, {"horizon": "30m"}).model_dump(mode="json", by_alias=True)
    short.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    journal, text = drill_transcript(
        short, 1, ("scale web many", "scale web 40", "scale web 3", "quit")
    )
    assert "usage: scale COMPONENT [N] — N is a number of instances, such as 24" in text
    assert "web's scaling policy keeps it at 2 to 12 instances" in text
    assert "scale_out web to 3 done in" in text
    steps = [s["evidence"] for s in journal.data["response"]["steps"] if s["call"] == "scale_out"]
    assert len(steps) == 2


def test_a_runbook_scales_to_a_number_and_only_a_scale_out_takes_one() -> None:
    from pydantic import ValidationError

    from sim.response.catalogue import make_responder
    from sim.scenario.schema import RunbookStep

    with pytest.raises(ValidationError, match="to: is for a scale_out step"):
        RunbookStep.model_validate({"call": "restart", "target": "web", "to": 3})
    step = RunbookStep.model_validate({"call": "scale_out", "target": "web", "to": 9})
    scenario = sim.load_scenario(SCENARIOS / "bad-schema-migration.yaml")
    simulation = Simulation(scenario, 1)
    responder = make_responder("experienced", scenario, 1)
    responder.inc = Incident(simulation, scenario.horizon, failures=False)
    ev = responder.take(step)
    assert ev is not None
    assert ev.ok, ev.summary
    assert simulation.world.states["web"].replicas == 9


def test_a_policy_changed_at_run_time_tracks_its_new_max() -> None:
    """The policy stops at its max of 6 while the surge needs more; raised to 9, its next
    datapoints launch up to the new max (and the step says what changed)."""
    simulation, inc = _at(20, {"capacity.quota": 200, "components.web.autoscaling.max": 6})
    assert simulation.world.states["web"].replicas + simulation.fleet.pending["web"] <= 6
    ev = inc.change_scaling("web", max=9)
    assert ev.ok, ev.summary
    assert ev.summary.startswith("change_scaling web max=9 done in")
    (changed,) = [a for a in simulation.fleet.activity if a["kind"] == "scaling.changed"]
    assert (changed["old"], changed["new"]) == ({"max": 6}, {"max": 9})
    simulation.advance(simulation.env.now + 15 * 60)
    assert simulation.world.states["web"].replicas > 6
    assert simulation.world.states["web"].replicas <= 9


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({}, "nothing to change: give the policy's new min, max or target"),
        ({"min": 8, "max": 4}, "min 8 and max 4: expected 1 ≤ min ≤ max ≤ 1000"),
        ({"target": 0.0}, "target 0: expected above 0"),
    ],
)
def test_a_policy_change_that_cannot_be_made_is_refused_at_once(
    fields: dict[str, float], why: str
) -> None:
    _, inc = _at(5)
    ev = inc.change_scaling("web", **fields)
    assert not ev.ok
    assert why in ev.summary
    assert ev.end == ev.t
    ev = inc.change_scaling("session-store", max=4)
    assert "has no scaling policy" in ev.summary


def test_the_experienced_engineer_raises_a_policys_max_it_sees_saturated_at() -> None:
    """Reading the console, it finds web saturated with its policy at its max: it raises the
    max by half and scales out (it reads the console, never the scenario)."""
    scenario = variant(
        QUOTA,
        {
            "capacity.quota": 200,
            "components.web.autoscaling.max": 6,
            "response.responder": "experienced",
        },
    )
    journal = sim.run(scenario, 1, compact=True)
    steps = journal.data["response"]["steps"]
    calls = [(s["call"], s["target"]) for s in steps]
    assert ("change_scaling", "web") in calls
    assert calls.index(("change_scaling", "web")) > calls.index(("capacity", "web"))
    (changed,) = journal.events("scaling.changed")
    assert changed["new"] == {"max": 9}


def test_in_the_drill_a_trainee_changes_the_policy(tmp_path: Path) -> None:
    short = tmp_path / "quota-blocks-scale-out.yaml"
    doc = variant(QUOTA, {"horizon": "30m"}).model_dump(mode="json", by_alias=True)
    short.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    _, text = drill_transcript(
        short, 1, ("change_scaling web max=lots", "change_scaling web max=16 min=3", "quit")
    )
    assert "usage: change_scaling COMPONENT [min=N] [max=N] [target=X]" in text
    assert "(not 'max=lots')" in text
    assert "change_scaling web min=3 max=16 done in" in text


def test_a_size_is_checked_against_the_policy_as_it_is_now() -> None:
    """Raised to a max of 16, the policy lets web be scaled to 14, which its max of 12
    refused."""
    _, inc = _at(5, {"capacity.quota": 200})
    assert not inc.scale_out("web", to=14).ok
    assert inc.change_scaling("web", max=16).ok
    ev = inc.scale_out("web", to=14)
    assert ev.ok, ev.summary
