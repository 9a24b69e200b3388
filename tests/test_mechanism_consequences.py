"""Consequences declared as data and latent faults: a rollback that makes things worse for a
written reason (scenarios/rollback-makes-it-worse.yaml), and a standby that died days before
the run, found only when it is needed (scenarios/standby-lost-days-ago.yaml)."""

from __future__ import annotations

from typing import Any

import pytest

import sim
from sim.expect.overrides import apply_overrides
from sim.journal import Journal
from sim.scenario import Scenario
from tests.conftest import SCENARIOS

WORSE = SCENARIOS / "rollback-makes-it-worse.yaml"
STANDBY = SCENARIOS / "standby-lost-days-ago.yaml"
FAILOVER = SCENARIOS / "primary-failover.yaml"


def variant(path: Any, overrides: dict[str, Any]) -> Scenario:
    doc = sim.load_scenario(path).model_dump(mode="json", by_alias=True)
    return Scenario.model_validate(apply_overrides(doc, overrides))


def scripted(actions: list[dict[str, Any]], path: Any = WORSE) -> Journal:
    return sim.run(variant(path, {"actions": actions}), seed=1, responder="scripted")


def failing(journal: Journal, since: float, until: float = float("inf")) -> float:
    """The share of user requests that failed between ``since`` and ``until``."""
    f = journal.metrics_frame()
    ends = f[(f.scope == "endpoint") & (f.t >= since) & (f.t < until)]
    return float((ends.requests - ends.ok).sum() / max(1, ends.requests.sum()))


ROLLBACK = {"at": "40m", "action": "rollback_deploy", "target": "dep-web-5.13.0"}
CACHE_ON = {"at": "38m", "action": "rollback_config", "target": "cfg-price-cache-off"}


def test_a_rollback_while_the_config_is_in_effect_sets_off_its_consequence() -> None:
    """The rollback ends the bug and, at the same moment, starts the declared consequence:
    the shop fails as much after the rollback as before it, with the other error."""
    journal = scripted([ROLLBACK])
    (end,) = journal.events("action.end")
    (consequence,) = journal.events("consequence")
    assert consequence["t"] == end["t"]
    assert consequence["id"] == "prices-without-cache"
    assert "recomputes every price" in consequence["why"]
    started = {e["id"]: e["t"] for e in journal.events("fault.start")}
    assert started["web-cpu-starved"] == pytest.approx(end["t"])
    before = failing(journal, 31 * 60, 40 * 60)
    after = failing(journal, end["t"] + 60)
    assert after > 0.5 * before > 0
    classes = journal.errors_frame()
    late = classes[classes.t > end["t"] + 60]
    assert "ServiceUnavailable" in set(late.error_class)
    assert "TypeError" not in set(late.error_class)


def test_turning_the_cache_back_on_first_avoids_the_consequence() -> None:
    """Counterfactual: the same rollback after the config is rolled back sets nothing off, and
    nothing fails afterwards."""
    journal = scripted([CACHE_ON, ROLLBACK])
    assert not journal.events("consequence")
    ends = [e["t"] for e in journal.events("action.end")]
    assert failing(journal, max(ends) + 60) == 0


def test_a_forward_fix_is_not_the_trigger() -> None:
    journal = scripted([{"at": "40m", "action": "deploy_fix", "target": "web"}])
    assert not journal.events("consequence")
    (end,) = journal.events("action.end")
    assert failing(journal, end["t"] + 60) == 0


def test_rolling_the_config_back_afterwards_ends_the_consequence() -> None:
    journal = scripted([ROLLBACK, {**CACHE_ON, "at": "55m"}])
    assert len(journal.events("consequence")) == 1
    ended = {e["id"]: e for e in journal.events("fault.end")}
    assert ended["web-cpu-starved"]["cause"] == "remedied by rollback_config cfg-price-cache-off"
    assert failing(journal, ended["web-cpu-starved"]["t"] + 60) == 0


def test_the_experienced_responder_names_the_deploy_and_then_finds_the_config() -> None:
    """It names the deploy (the fault's declared cause), rolls it back, sees the shop still
    failing and turns the cache back on — the timeline shows why it took two actions."""
    journal = sim.run(sim.load_scenario(WORSE), seed=1, responder="experienced")
    calls = [(s["call"], s["target"]) for s in journal.data["response"]["steps"]]
    assert ("diagnose", "dep-web-5.13.0") in calls
    rollbacks = [t for c, t in calls if c == "rollback"]
    assert rollbacks == ["dep-web-5.13.0", "cfg-price-cache-off"]
    assert journal.events("consequence")
    assert journal.summary["errors_stopped"] is not None


# -- latent faults -------------------------------------------------------------------------
def test_a_latent_fault_is_true_from_the_start_and_shows_nothing_until_it_is_needed() -> None:
    """The standby's disk died three days before the run: its fault starts at 0 and says so,
    and nothing pages until the primary fails at 25 min."""
    journal = sim.run(sim.load_scenario(STANDBY), seed=1, responder="none", horizon=3600)
    first = journal.events("fault.start")[0]
    assert (first["t"], first["id"], first["since"]) == (0.0, "standby-disk-died", 3 * 86400)
    assert journal.events("db.data_lost")[0]["instance"] == 1
    assert failing(journal, 0, 25 * 60) == 0
    assert min(e["t"] for e in journal.events("page")) >= 25 * 60


@pytest.mark.slow
def test_the_failover_everyone_expects_is_refused_and_a_restore_takes_its_place() -> None:
    """With the standby gone, promoting is refused at no cost and the responder restores;
    without the latent fault (counterfactual) the same responder promotes, and sooner."""
    journal = sim.run(sim.load_scenario(STANDBY), seed=1, responder="experienced")
    calls = [s["call"] for s in journal.data["response"]["steps"]]
    assert "restore" in calls
    assert "promote" not in calls  # the database view showed no replica streaming
    (restoring,) = journal.events("db.restoring")
    assert restoring["instances"] == [0, 1]
    healthy = variant(STANDBY, {"faults": [sim.load_scenario(STANDBY).faults[1].model_dump()]})
    promoted = sim.run(healthy, seed=1, responder="experienced")
    assert "promote" in [s["call"] for s in promoted.data["response"]["steps"]]
    assert promoted.summary["errors_stopped"] < journal.summary["errors_stopped"]


def test_promote_is_refused_while_the_only_standby_is_lost() -> None:
    from sim.response.api import Incident
    from sim.simulation import Simulation

    simulation = Simulation(sim.load_scenario(STANDBY), 1)
    simulation.advance(60.0)  # the latent fault is in place from t = 0
    incident = Incident(simulation, 1600.0)
    ev = incident.promote("db")
    assert not ev.ok
    assert ev.end == ev.t
    assert "no replica of db is serving" in ev.summary


def test_the_oracle_fixes_forward_where_the_rollback_would_make_it_worse() -> None:
    """The oracle knows the consequences too: of the bug's remedies it takes the quickest that
    sets nothing off (the forward fix), and resolves — where a faster rollback would not."""
    journal = sim.run(sim.load_scenario(WORSE), seed=1, responder="oracle")
    calls = [(s["call"], s["target"]) for s in journal.data["response"]["steps"]]
    assert ("fix", "dep-web-5.13.0") in calls
    assert not any(c == "rollback" for c, _ in calls)
    assert not journal.events("consequence")
    assert journal.summary["errors_stopped"] is not None
    assert any(c == "resolved" for c, _ in calls)


@pytest.mark.parametrize("cause", ["cfg-price-cache-off", None])
def test_the_oracle_deals_with_a_fault_that_appears_while_it_works(cause: str | None) -> None:
    """Without a consequence-free remedy (the forward fix removed) it rolls back, the
    consequence starts, and it goes on to remedy that fault too — by the config the fault
    names as its cause, or else the latest config change applied to its component."""
    only_rollback = variant(
        WORSE,
        {"faults.0.remedies": {"rollback_deploy": "5m"}, "consequences.0.fault.cause": cause},
    )
    journal = sim.run(only_rollback, seed=1, responder="oracle")
    calls = [(s["call"], s["target"]) for s in journal.data["response"]["steps"]]
    assert ("rollback", "dep-web-5.13.0") in calls
    assert ("rollback", "cfg-price-cache-off") in calls
    assert journal.events("consequence")
    assert journal.summary["errors_stopped"] is not None
