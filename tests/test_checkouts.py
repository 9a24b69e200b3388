"""Failed checkouts count shoppers who meant to check out and could not, wherever the errors
stopped them (docs/concepts.md): in the seed incident logins fail first, so nobody reaches
checkout — and still every minute of the outage costs checkouts, and a faster response
fewer of them. Both engines."""

from __future__ import annotations

from typing import Any

import pytest

import sim
from tests.conftest import SCENARIOS

HORIZON = 5400.0  # the migration at 40 min, 50 minutes of it


def summary(engine: str, responder: str) -> dict[str, Any]:
    journal = sim.run(
        sim.load_scenario(SCENARIOS / "bad-schema-migration.yaml"),
        1,
        responder=responder,
        horizon=HORIZON,
        engine=engine,
        compact=True,
    )
    return dict(journal.data["summary"])


@pytest.fixture(scope="module")
def runs() -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (engine, who): summary(engine, who)
        for engine in ("request", "flow")
        for who in ("none", "oracle")
    }


@pytest.mark.parametrize("engine", ["request", "flow"])
def test_a_faster_response_loses_fewer_checkouts(
    runs: dict[tuple[str, str], dict[str, Any]], engine: str
) -> None:
    """The oracle ends the outage early: it loses well under two thirds of the checkouts that
    nobody responding loses (before, both counted the same few failed checkout requests)."""
    none, oracle = runs[engine, "none"], runs[engine, "oracle"]
    assert none["failed_checkouts"] > 1000
    assert oracle["failed_checkouts"] < 0.67 * none["failed_checkouts"]


@pytest.mark.parametrize("engine", ["request", "flow"])
@pytest.mark.parametrize("who", ["none", "oracle"])
def test_failed_checkouts_are_shoppers_who_gave_up(
    runs: dict[tuple[str, str], dict[str, Any]], engine: str, who: str
) -> None:
    """One per shopper: never more than the shoppers who gave up, nor than those who meant to
    check out; the shoppers who meant to check out and got through outnumber the orders only
    by those who stopped before paying."""
    s = runs[engine, who]
    assert 0 < s["failed_checkouts"] <= s["failed_sessions"]
    assert s["failed_checkouts"] < s["checkout_attempts"]
    through = s["checkout_attempts"] - s["failed_checkouts"]
    assert s["orders"] <= through <= 1.25 * s["orders"]


def test_the_engines_agree(runs: dict[tuple[str, str], dict[str, Any]]) -> None:
    """The flow engine's expected flows give the request engine's counts within a fifth."""
    for who in ("none", "oracle"):
        request, flow = runs["request", who], runs["flow", who]
        for key in ("failed_checkouts", "checkout_attempts"):
            assert flow[key] == pytest.approx(request[key], rel=0.2), (who, key)
