"""The request engine's connection pools and circuit breakers, by what shoppers see."""

from __future__ import annotations

from typing import Any

import sim
from sim.expect.overrides import apply_overrides
from sim.journal import Journal
from sim.scenario import Scenario
from tests.conftest import SCENARIOS, SEED_SCENARIO


def variant(path: Any, overrides: dict[str, Any]) -> Scenario:
    doc = sim.load_scenario(path).model_dump(mode="json", by_alias=True)
    return Scenario.model_validate(apply_overrides(doc, overrides))


def slow_database(search_pool: int) -> Journal:
    """The database 250 × slower from 5 min (about 1 s a query), search → db with
    ``search_pool`` connections per replica, twenty sessions a second."""
    doc = sim.load_scenario(SEED_SCENARIO).model_dump(mode="json", by_alias=True)
    deps = doc["dependencies"]
    for d in deps:
        if (d["caller"], d["callee"]) == ("web", "search"):
            d["timeout"] = "20s"  # the caller's deadline is the pool's, not web's
        if (d["caller"], d["callee"]) == ("search", "db"):
            d["pool"] = search_pool
    overrides = {
        "faults": [
            {"id": "slow-db", "type": "latency", "target": "db", "factor": 250, "start": "5m"}
        ],
        "dependencies": deps,
        "traffic": {**doc["traffic"], "arrival_rate": 20},
    }
    return sim.run(variant(SEED_SCENARIO, overrides), seed=2, responder="none", horizon=900)


def test_a_slow_database_fills_a_small_pool_and_callers_time_out_waiting_for_a_connection() -> None:
    """Search's two connections stay taken: later callers wait for one and time out with
    PoolTimeout naming the pool, only once the database is slow, and only on that pool."""
    journal = slow_database(search_pool=1)
    pools = [e for e in journal.summary["first_errors"] if e["error_class"] == "PoolTimeout"]
    assert [e["endpoint"] for e in pools] == ["search"]
    assert pools[0]["first_seen"] >= 300
    assert "search → db pool (2)" in pools[0]["message"]


def test_a_pool_big_enough_for_the_slow_database_never_makes_callers_wait_it_out() -> None:
    """The same slow database with ten connections per replica: calls still time out at the
    database, but none waits a whole deadline for a connection."""
    errors = slow_database(search_pool=10).errors_frame()
    assert (errors["error_class"] == "Timeout").any()
    assert not (errors["error_class"] == "PoolTimeout").any()


def test_a_failing_provider_opens_the_breaker_and_payments_fail_fast() -> None:
    """The payment provider's outage opens payments → payment-provider's breaker: /pay then
    fails at once with CircuitOpen, and the breaker's opening is on the timeline."""
    journal = sim.run(
        sim.load_scenario(SCENARIOS / "payment-provider-outage.yaml"),
        seed=1,
        responder="none",
        horizon=3600,
    )
    classes = {(e["endpoint"], e["error_class"]) for e in journal.summary["first_errors"]}
    assert ("pay", "CircuitOpen") in classes
    assert journal.events("breaker.open")
