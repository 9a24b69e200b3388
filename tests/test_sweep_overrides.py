"""Override paths: what they select, what they refuse and how they say so; a run they change."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import sim
from sim.scenario import Scenario
from sim.sweep import SweepError, apply_overrides
from sim.sweep.overrides import base_document, get_value, parse_path
from tests.conftest import SEED_SCENARIO, SWEEP_ENGINE

ENGINE = SWEEP_ENGINE


@pytest.fixture(scope="module")
def document(seed_scenario: Scenario) -> dict[str, Any]:
    return base_document(seed_scenario, ["monitors"])


def effective(document: dict[str, Any], key: str, value: Any) -> Any:
    return apply_overrides(document, {key: value}).effective(key)


def refusal(document: dict[str, Any], overrides: dict[str, Any]) -> str:
    with pytest.raises(SweepError) as caught:
        apply_overrides(document, overrides, "scenarios/x.yaml")
    return str(caught.value)


def test_path_tokens() -> None:
    """Dots separate keys; brackets hold selectors, which may contain dots, '=' and '->'."""
    tokens = parse_path("dependencies[payments->payment-provider].retries.attempts")
    assert [(t.kind, t.text) for t in tokens] == [
        ("key", "dependencies"),
        ("select", "payments->payment-provider"),
        ("key", "retries"),
        ("key", "attempts"),
    ]
    assert [t.text for t in parse_path("components[db.primary].replicas")][1] == "db.primary"


@pytest.mark.parametrize(
    ("key", "value", "path"),
    [
        ("monitors[endpoint-errors].threshold", 0.5, ("monitors", 0, "threshold")),
        ("monitors[synthetic-checks].threshold", 0.9, ("monitors", 2, "threshold")),
        (
            "faults.0.remedies.rollback_migration",
            60.0,
            ("faults", 0, "remedies", "rollback_migration"),
        ),
        (
            "faults[users-orders-schema-break].remedies.deploy_fix",
            60.0,
            ("faults", 0, "remedies", "deploy_fix"),
        ),
        (
            "dependencies[payments->payment-provider].retries.attempts",
            4,
            ("dependencies", 20, "retries", "attempts"),
        ),
        ("dependencies[3].timeout", 5.0, ("dependencies", 3, "timeout")),
        ("traffic.funnel[checkout].proceed", 0.5, ("traffic", "funnel", 5, "proceed")),
        ("actions[action=rollback_deploy].at", 3000.0, ("actions", 1, "at")),
        ("components[db].replicas", 2, ("components", "db", "replicas")),
        ("components.auth.replicas", 5, ("components", "auth", "replicas")),
    ],
)
def test_selectors_land_on_the_item_they_name(
    document: dict[str, Any], key: str, value: Any, path: tuple[Any, ...]
) -> None:
    """Ids, names, funnel steps, CALLER->CALLEE, FIELD=VALUE, indices and mapping keys."""
    made = apply_overrides(document, {key: value})
    assert made.paths[key] == path
    assert made.effective(key) == value
    assert get_value(document, path) != value  # it did change something


def test_durations_are_parsed_and_read_back_in_seconds(document: dict[str, Any]) -> None:
    """A duration given as text reaches the scenario as seconds, like in a file."""
    assert effective(document, "faults.0.remedies.rollback_migration", "5m") == 300.0
    assert effective(document, "monitors[endpoint-errors].for", "1m30s") == 90.0


def test_default_monitors_are_spelt_out_when_a_key_needs_them(seed_scenario: Scenario) -> None:
    """The seed file names no monitors; monitors[...] keys select from the default set."""
    assert seed_scenario.monitors is None
    assert base_document(seed_scenario, ["traffic.arrival_rate"])["monitors"] is None
    doc = base_document(seed_scenario, ["monitors[orders-drop].for"])
    assert [m["name"] for m in doc["monitors"]][:2] == ["endpoint-errors", "orders-drop"]


def test_null_fields_and_free_form_mappings_can_be_filled(document: dict[str, Any]) -> None:
    """A null breaker is created with defaults; a remedy can be added to a fault."""
    made = apply_overrides(
        document,
        {"dependencies[web->auth].breaker.min_calls": 5, "faults.0.remedies.restart": "1m"},
    )
    breaker = made.scenario.dependencies[4].breaker
    assert breaker is not None
    assert (breaker.min_calls, breaker.failure_ratio) == (5, 0.5)
    assert made.scenario.faults[0].remedies["restart"] == 60.0


def test_the_given_document_is_not_changed(document: dict[str, Any]) -> None:
    """Overrides work on a copy: the base document stays as it was."""
    before = copy.deepcopy(document)
    apply_overrides(document, {"components.db.replicas": 3, "monitors.0.threshold": 0.5})
    assert document == before


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"monitors[errors-high].threshold": 0.02},
            "unknown key 'monitors[errors-high].threshold': monitors has no item [errors-high] "
            "(known: endpoint-errors, orders-drop, synthetic-checks",
        ),
        (
            {"paging.ack_delya.mean": "2m"},
            "unknown key 'paging.ack_delya.mean': paging has no field 'ack_delya'; "
            "did you mean 'paging.ack_delay.mean'?",
        ),
        (
            {"components.webb.replicas": 2},
            "components has no entry 'webb' (known: 13 entries); did you mean "
            "'components.web.replicas'?",
        ),
        (
            {"dependencies[payments->paymentprovider].timeout": "5s"},
            "did you mean 'dependencies[payments->payment-provider].timeout'?",
        ),
        ({"faults.2.start": "1m"}, "faults is a list of 1; expected an index below 1"),
        ({"faults.first.start": "1m"}, "faults is a list: expected an index (faults.0)"),
        (
            {"dependencies[caller=web].timeout": "1s"},
            "[caller=web] matches 7 items of dependencies",
        ),
        ({"traffic..arrival_rate": 2}, "empty name before the dot"),
        ({"monitors[endpoint-errors": 2}, "'[' at 9 is never closed"),
    ],
)
def test_unknown_paths_are_named_with_a_suggestion(
    document: dict[str, Any], overrides: dict[str, Any], message: str
) -> None:
    """A path that names nothing says where it stopped and what exists there."""
    assert message in refusal(document, overrides)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"monitors[endpoint-errors].threshold": -1},
            "monitors[endpoint-errors].threshold=-1: expected a value >= 0.0, got -1",
        ),
        (
            {"monitors[endpoint-errors].threshold": "high"},
            "monitors[endpoint-errors].threshold=high: expected a number, got 'high'",
        ),
        (
            {"faults.0.remedies.rollback_migration": "6 mins"},
            "faults.0.remedies.rollback_migration=6 mins: expected a duration such as 250ms, "
            "90s, 5m or 1h30m, got '6 mins'",
        ),
        (
            {"faults.0.remedies.rollbak_migration": "6m"},
            "got 'rollbak_migration'; did you mean 'rollback_migration'?",
        ),
        (
            {"dependencies[payments->payment-provider].retries.attempts": 40},
            "dependencies[payments->payment-provider].retries.attempts=40: expected a value "
            "<= 10, got 40",
        ),
        (
            {"faults[users-orders-schema-break].change": "mig-2042"},
            "faults[users-orders-schema-break].change=mig-2042: no change named 'mig-2042'; "
            "did you mean 'mig-2041'?",
        ),
        (
            {"dependencies[web->email-provider].required": True},
            "dependencies[web->email-provider].required=true: dependencies[7]: a fallback is "
            "only used by an optional dependency",
        ),
    ],
)
def test_bad_values_name_the_key_the_value_and_what_was_expected(
    document: dict[str, Any], overrides: dict[str, Any], message: str
) -> None:
    """Values are validated like a file, shape then references; the message blames the key."""
    assert message in refusal(document, overrides)


def test_a_lower_alert_threshold_detects_sooner() -> None:
    """Varying the endpoint-errors threshold moves detection: 2 % pages before 99 %."""
    df = sim.sweep(
        SEED_SCENARIO,
        vary={"monitors[endpoint-errors].threshold": [0.02, 0.99]},
        seeds=[1, 2],
        responder="none",
        engine=ENGINE,
        horizon="45m",
        executor="serial",
    )
    ttd = df.pivot(
        index="seed", columns="monitors[endpoint-errors].threshold", values="time_to_detect"
    )
    assert df["detected"].all()
    assert (ttd[0.02] < ttd[0.99]).all(), ttd
