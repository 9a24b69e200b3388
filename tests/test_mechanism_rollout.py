"""Config pushes as changes with effects: staged rollouts across instances, a pipeline that
halts on alerts, partial deploys, and a flag that is the change's kill switch
(scenarios/config-push-exhausts-cpu.yaml)."""

from __future__ import annotations

from typing import Any

import pytest

import sim
from sim.response.api import Incident
from sim.simulation import Simulation
from tests.conftest import SCENARIOS, events_of, failed_share, simulate

PUSH = SCENARIOS / "config-push-exhausts-cpu.yaml"
AT = 30 * 60.0  # the rule set goes out
EVERY = 20 * 60.0
NOBODY = {"response.responder": "none"}
STAGED = {"changes.1.rollout.stages": [0.1, 0.5, 1.0]}
UNWATCHED = {**STAGED, "changes.1.rollout.halt_on_alerts": False}


def slow_instances(simulation: Simulation) -> list[int]:
    """The web instances the rule set has reached, as the engine serves them."""
    return [i.i for i in simulation.engine.runtimes["web"].instances if i.slow > 1.0]


def stages(simulation: Simulation) -> list[tuple[float, int]]:
    return [(e["t"], e["reached"]["web"][0]) for e in events_of(simulation, "rollout.stage")]


def test_a_global_push_reaches_every_instance_at_once_and_fails_the_shop() -> None:
    simulation = simulate(PUSH, NOBODY, seed=2, until=AT + 25 * 60)
    assert stages(simulation) == [(AT, 10)]
    assert slow_instances(simulation) == list(range(10))
    assert failed_share(simulation, AT - 600, AT) < 0.01
    assert failed_share(simulation, AT + 300, AT + 25 * 60) > 0.5


@pytest.fixture(scope="module")
def unwatched() -> Simulation:
    """Staged 10 % → 50 % → 100 % every 20 minutes, nobody halting it."""
    return simulate(PUSH, {**NOBODY, **UNWATCHED}, seed=2, until=AT + 2 * EVERY + 15 * 60)


def test_a_staged_push_reaches_more_instances_stage_by_stage(unwatched: Simulation) -> None:
    """One instance, then five, then all ten; the engine slows exactly those. Least
    connections steers around the few slow ones, so the shop fails only once most are."""
    assert stages(unwatched) == [(AT, 1), (AT + EVERY, 5), (AT + 2 * EVERY, 10)]
    assert slow_instances(unwatched) == list(range(10))
    first = failed_share(unwatched, AT + 300, AT + EVERY)
    last = failed_share(unwatched, AT + 2 * EVERY + 300, AT + 2 * EVERY + 15 * 60)
    assert first < 0.01
    assert last > 0.5


def test_the_pipeline_halts_the_rollout_while_an_alert_fires() -> None:
    """The default pipeline checks the alerts before each stage: the canaries' latency has
    set one off by the third stage, and the rest of the fleet keeps the old rules."""
    simulation = simulate(PUSH, {**NOBODY, **STAGED}, seed=2, until=AT + 2 * EVERY + 15 * 60)
    (halted,) = events_of(simulation, "rollout.halted")
    assert halted["t"] in (AT + EVERY, AT + 2 * EVERY)
    assert halted["why"].startswith("alert ")
    assert len(slow_instances(simulation)) < 10
    assert failed_share(simulation, halted["t"], AT + 2 * EVERY + 15 * 60) < 0.05


def test_a_staged_push_limits_the_blast_radius() -> None:
    """The counterfactual, with the scenario's experienced responder: pushed everywhere at
    once the rule set fails tens of thousands of requests before the flag goes off; staged,
    under a pipeline that halts on alerts, a hundredth of that."""
    at_once = simulate(PUSH, seed=2)
    staged = simulate(PUSH, STAGED, seed=2)

    def failed(s: Simulation) -> int:
        rows = s.engine.metrics.rows
        return sum(r[3] - r[4] for r in rows[0 : len(rows)] if r[1] == "endpoint")

    assert failed(at_once) > 10_000
    assert failed(staged) < failed(at_once) / 20
    flags = [e for e in events_of(at_once, "action.end") if e["action"] == "toggle_flag"]
    assert flags[0]["remedied"] == ["waf-regex-backtracking"]


def test_the_flag_is_a_kill_switch_everywhere_in_seconds() -> None:
    """Turned off, the flag ends the fault on every instance after its propagation, the
    shop recovers, and a staged rollout stops where it is."""
    simulation = simulate(PUSH, {**NOBODY, **UNWATCHED}, seed=2, until=AT + EVERY + 10 * 60)
    incident = Incident(simulation, AT + 4 * EVERY)
    ev = incident.toggle_flag("waf-managed-rules", takes=0.0)
    assert ev.ok
    assert 30.0 <= ev.end - ev.t <= 35.0  # the propagation, seen in steps of a few seconds
    assert slow_instances(simulation) == []
    (halted,) = events_of(simulation, "rollout.halted")
    assert halted["why"] == "flag waf-managed-rules turned off"
    incident.wait(AT + 3 * EVERY - incident.now)
    assert [n for _, n in stages(simulation)] == [1, 5]  # no third stage
    assert failed_share(simulation, ev.end + 300, incident.now) < 0.005
    again = incident.toggle_flag("waf-managed-rules")
    assert not again.ok
    assert "already off" in again.summary
    unknown = incident.toggle_flag("waf-rules")
    assert not unknown.ok
    assert "did you mean 'waf-managed-rules'" in unknown.summary


def test_rolling_back_another_change_on_the_tier_does_not_end_the_fault() -> None:
    """Two config changes on the web tier (Cloudflare 2025-12-05): the staged buffer change
    and the killswitch that broke the proxy. Rolling back the buffer change — the wrong
    suspect — ends nothing; rolling back the killswitch ends the fault. (A rollback used to
    end every fault on the component it aimed at, whichever change had brought it.)"""
    killswitch = SCENARIOS / "killswitch-breaks-old-proxy.yaml"
    broke = 47 * 60.0
    simulation = simulate(killswitch, NOBODY, seed=2, until=broke + 300)
    incident = Incident(simulation, broke + 3600, failures=False)
    wrong = incident.rollback("cfg-waf-body-buffer-1mb", takes=0.0)
    assert wrong.ok
    assert incident.steps[-1]["remedied"] == []
    assert "killswitch-nil-execute" in simulation.faults.active
    incident.wait(300)
    assert failed_share(simulation, wrong.end, incident.now) > 0.2  # still 28 % failing
    right = incident.rollback("cfg-waf-testing-killswitch", takes=0.0)
    assert right.ok
    assert incident.steps[-1]["remedied"] == ["killswitch-nil-execute"]
    assert "killswitch-nil-execute" not in simulation.faults.active
    incident.wait(420)
    assert failed_share(simulation, right.end + 60, incident.now) < 0.01


def test_a_flag_cannot_be_turned_off_before_its_change_is_applied() -> None:
    simulation = simulate(PUSH, NOBODY, seed=2, until=AT - 60)
    early = Incident(simulation, AT + 600).toggle_flag("waf-managed-rules")
    assert not early.ok
    assert "has been applied yet" in early.summary


def test_a_partial_deploy_leaves_the_rest_on_the_old_version() -> None:
    """A rollout whose last stage is under 1 stops there: six instances of ten have it."""
    partial = {**NOBODY, "changes.1.rollout.stages": [0.6]}
    simulation = simulate(PUSH, partial, seed=2, until=AT + 5 * 60)
    assert stages(simulation) == [(AT, 6)]
    assert slow_instances(simulation) == list(range(6))


def test_the_changes_view_shows_how_far_a_rollout_has_got(unwatched: Simulation) -> None:
    from sim.response.evidence import View

    line, facts = View(unwatched).changes()
    (push,) = [c for c in facts["changes"] if c["id"] == "cfg-waf-rules-0324"]
    assert push["reached"] == {"web": [10, 10]}
    assert push["stages_at"] == [AT, AT + EVERY, AT + 2 * EVERY]
    assert push["flag"] == "waf-managed-rules"
    assert "flag waf-managed-rules" in line


def test_the_flow_engine_refuses_a_staged_change() -> None:
    scenario = sim.load_scenario(PUSH)
    with pytest.raises(ValueError, match="staged rollout of cfg-waf-rules-0324"):
        Simulation(scenario, 1, engine="flow")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"changes.1.rollout.stages": [0.5, 0.1]}, "stages must increase"),
        ({"changes.0.flag": "search-snippets", "changes.0.kind": "notice"}, "only a deploy or"),
    ],
)
def test_bad_rollouts_are_refused(overrides: dict[str, Any], message: str) -> None:
    from sim.expect.overrides import apply_overrides

    doc = sim.load_scenario(PUSH).model_dump(mode="json", by_alias=True)
    with pytest.raises(Exception, match=message):
        sim.scenario.Scenario.model_validate(apply_overrides(doc, overrides))


def test_least_connections_spreads_an_idle_tier_in_turn() -> None:
    """The web tier balances by least connections: on an idle tier every instance ties, and
    ties go in turn (nginx's least_conn, HAProxy's leastconn) — not all to the first one,
    which made a staged change's first stage (it always includes instance 0) take nearly all
    the traffic. A 20 % stage of the killswitch fails about a fifth of what the whole push
    does."""
    rt = simulate(PUSH, NOBODY, seed=2, until=60.0).engine.runtimes["web"]
    assert rt.least
    picks = [rt.pick().i for _ in range(30)]  # type: ignore[union-attr]
    assert sorted(picks) == sorted(list(range(10)) * 3)
    killswitch = SCENARIOS / "killswitch-breaks-old-proxy.yaml"
    broke = 47 * 60.0
    shares = {}
    for stages in ([1.0], [0.2, 1.0]):
        stage = {"changes.2.rollout.stages": stages}  # the killswitch
        run = simulate(killswitch, {**NOBODY, **stage}, seed=2, until=broke + 600)
        shares[len(stages)] = failed_share(run, broke + 60, broke + 540)
    assert shares[1] > 0.2
    assert shares[2] == pytest.approx(shares[1] / 5, rel=0.35)
