"""Behaviour of the scenario loader: durations, the seed scenario, immutability, JSON Schema
export, did-you-mean hints and the reporting of several defects at once."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from sim.scenario import (
    Problem,
    Scenario,
    ScenarioError,
    format_duration,
    load,
    load_scenario,
    parse_duration,
    parse_scenario,
)
from sim.scenario.schema.scenario import file_json_schema

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "scenarios" / "bad-schema-migration.yaml"

# A small valid scenario; tests copy it with one or more edits.
MINI = """\
name: mini-shop
description: A four-component shop.
horizon: 1h
components:
  web:
    kind: web
    replicas: 2
    service_time: {mean: 10ms}
  api:
    kind: service
    service_time: {mean: 5ms}
  db:
    kind: database
    service_time: {mean: 2ms}
  psp:
    kind: third_party
    service_time: {mean: 300ms}
dependencies:
  - {caller: web, callee: api, timeout: 3s}
  - {caller: api, callee: db, timeout: 1s}
  - {caller: api, callee: psp, required: false, fallback: pay later}
endpoints:
  home:
    path: /
    call:
      component: web
      calls:
        - component: api
          calls: [{component: db, tables: [users]}, psp]
traffic:
  arrival_rate: 1.5
  funnel:
    - {step: browse, endpoint: home, proceed: 0.5}
changes:
  - id: mig-1
    kind: migration
    at: 10m
    author: Dana
    description: Drop users.password_hash
    components: [db]
    statements: [ALTER TABLE users DROP COLUMN password_hash]
faults:
  - id: users-break
    type: schema_migration
    change: mig-1
    breaks: {users: column users.password_hash does not exist}
    remedies: {rollback_migration: 5m}
actions:
  - {at: 30m, action: rollback_migration, target: mig-1}
"""


def edit(text: str, *replacements: tuple[str, str]) -> str:
    """``text`` with each ``(old, new)`` applied once; ``old`` must occur exactly once."""
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def line_of(text: str, needle: str) -> int:
    """The 1-based number of the one line of ``text`` that contains ``needle``."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) == 1, (needle, hits)
    return hits[0]


def problems_of(text: str) -> tuple[Problem, ...]:
    """The problems reported for scenario ``text`` (which must be invalid)."""
    with pytest.raises(ScenarioError) as excinfo:
        parse_scenario(text, "mini.yaml")
    return excinfo.value.problems


def jsonable(value: Any) -> Any:
    """YAML data as JSON would carry it: dates and times become ISO 8601 strings."""
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


# --- durations ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("250ms", 0.25),
        ("90s", 90.0),
        ("5m", 300.0),
        ("1h30m", 5400.0),
        ("1h02m", 3720.0),
        ("2d", 172_800.0),
        ("1.5h", 5400.0),
        (" 45s ", 45.0),
        (0, 0.0),
        (42, 42.0),
        (2.5, 2.5),
        ("90", 90.0),  # a number of seconds as text, as typed on the command line
    ],
)
def test_parse_duration_accepts_units_and_numbers(text: object, seconds: float) -> None:
    """Unit strings and plain numbers of seconds parse to seconds as a float."""
    result = parse_duration(text)
    assert isinstance(result, float)
    assert result == pytest.approx(seconds)


@pytest.mark.parametrize(
    "value",
    [
        "5 minutes",
        "-3s",
        "3sec",
        "1hr",
        "-90",
        "",
        "s",
        "h1",
        True,
        False,
        None,
        -3,
        -0.5,
        [1],
        float("nan"),
    ],
    ids=repr,
)
def test_parse_duration_rejects_everything_else(value: object) -> None:
    """Words, negative durations, bare numeric strings, booleans, null and NaN are refused."""
    with pytest.raises(ValueError, match="duration"):
        parse_duration(value)


@pytest.mark.parametrize(
    "value",
    [10**400, "1" + "0" * 400, "1" + "0" * 400 + "s", float("inf"), 1e308, "367d", "8785h"],
    ids=["400-digit-int", "400-digit-text", "400-digit-seconds", "inf", "1e308", "367d", "8785h"],
)
def test_parse_duration_refuses_more_than_a_year(value: object) -> None:
    """A duration past 366 days is refused by its bound, however many digits it has."""
    with pytest.raises(ValueError, match=r"at most 8784h \(366 days\)"):
        parse_duration(value)


def test_duration_fields_in_a_scenario_are_seconds() -> None:
    """Duration fields of a loaded scenario hold seconds, whatever unit the file used."""
    scenario = parse_scenario(edit(MINI, ("horizon: 1h", "horizon: 1h30m")))
    assert scenario.horizon == 5400.0
    assert scenario.components["web"].service_time.mean == pytest.approx(0.010)
    assert scenario.changes[0].at == 600.0
    assert scenario.dependencies[0].timeout == 3.0


def test_a_duration_in_words_is_reported_with_the_accepted_forms() -> None:
    """``5 minutes`` in a file is reported at its line with examples of the accepted syntax."""
    text = edit(MINI, ("horizon: 1h", "horizon: 5 minutes"))
    (problem,) = problems_of(text)
    assert problem.line == line_of(text, "horizon:")
    assert problem.path == ("horizon",)
    assert "1h30m" in problem.message
    assert "'5 minutes'" in problem.message


@given(st.integers(min_value=0, max_value=10**7))
def test_format_then_parse_round_trips_whole_seconds(seconds: int) -> None:
    """Formatting whole seconds and parsing the text back gives the same number."""
    text = format_duration(seconds)
    assert parse_duration(text) == seconds
    assert format_duration(parse_duration(text)) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (0.25, "250ms"), (45, "45s"), (90, "1m30s"), (5400, "1h30m"), (7200, "2h")],
)
def test_format_duration_writes_compact_units(seconds: float, text: str) -> None:
    """Durations are written the way scenario files write them."""
    assert format_duration(seconds) == text


# --- the seed scenario ---------------------------------------------------------------------


def test_seed_scenario_loads() -> None:
    """The seed scenario validates and its sections hold what the file says."""
    loaded = load(SEED)
    scenario = loaded.scenario
    assert loaded.path == str(SEED)
    # it extends the seed shop: the digest is of its bytes and the shop's
    shop = hashlib.sha256((SEED.parent / "shops" / "seed-shop.yaml").read_bytes()).digest()
    expected = hashlib.sha256(SEED.read_bytes())
    expected.update(shop)
    assert loaded.sha256 == expected.hexdigest()
    assert scenario.name == "bad-schema-migration"
    assert scenario.seed == 7
    assert scenario.horizon == 7200.0
    assert scenario.clock_start.isoformat() == "2026-03-14T08:00:00+00:00"
    assert len(scenario.components) == 13
    assert scenario.components["db"].kind == "database"
    assert scenario.components["db"].restart_time == 90.0
    (fault,) = scenario.faults
    assert fault.type == "schema_migration"
    assert fault.change == "mig-2041"
    assert dict(fault.remedies) == {"rollback_migration": 360.0, "deploy_fix": 1500.0}
    assert [a.at for a in scenario.actions] == [3300.0, 3720.0, 4800.0]
    assert load_scenario(SEED) == scenario


def test_seed_scenario_is_immutable() -> None:
    """Fields cannot be reassigned and the named maps and lists cannot be changed in place."""
    scenario = load_scenario(SEED)
    with pytest.raises(ValidationError):
        scenario.horizon = 60.0  # type: ignore[misc]
    with pytest.raises(ValidationError):
        scenario.components["db"].replicas = 5  # type: ignore[misc]
    with pytest.raises(TypeError):
        scenario.components["extra"] = scenario.components["db"]  # type: ignore[index]
    with pytest.raises(TypeError):
        del scenario.components["db"]  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        scenario.traffic.regions["eu-west"] = 1.0  # type: ignore[index]
    with pytest.raises(TypeError):
        scenario.faults[0].remedies["restart"] = 1.0  # type: ignore[index]
    with pytest.raises(AttributeError):
        scenario.dependencies.append(scenario.dependencies[0])  # type: ignore[attr-defined]
    assert len(scenario.components) == 13


def test_seed_scenario_survives_a_dump_and_reload() -> None:
    """Dumping the seed scenario to JSON-ready data and validating it again gives an equal one
    (the merged document: a dump leaves out the ``extends:`` it was written with)."""
    scenario = load_scenario(SEED)
    data = json.loads(json.dumps(scenario.model_dump(mode="json")))
    assert "extends" not in data
    assert Scenario.model_validate(data) == scenario.model_copy(update={"extends": None})


def test_json_schema_export_validates_the_seed_data() -> None:
    """The exported JSON Schema accepts the seed shop's data and refuses a misspelt field;
    the seed scenario, which extends the shop, is checked only for its top-level names."""
    jsonschema = pytest.importorskip("jsonschema")
    schema = file_json_schema()
    data = jsonable(yaml.safe_load((SEED.parent / "shops" / "seed-shop.yaml").read_text()))
    jsonschema.validate(data, schema)
    data["components"]["db"]["replics"] = 2
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)
    child = jsonable(yaml.safe_load(SEED.read_text(encoding="utf-8")))
    jsonschema.validate(child, schema)
    with pytest.raises(jsonschema.ValidationError, match="'component' is not one of"):
        jsonschema.validate({**child, "component": {}}, schema)
    with pytest.raises(jsonschema.ValidationError, match="is a required property"):
        jsonschema.validate({k: v for k, v in child.items() if k != "extends"}, schema)


# --- messages --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "key", "hint"),
    [
        ("horizon: 1h\n", "horizon: 1h\nseeds: 3\n", "seeds", "seed"),
        (
            "  arrival_rate: 1.5\n",
            "  arrival_rate: 1.5\n  give_up_afer: 2\n",
            "give_up_afer",
            "give_up_after",
        ),
        ("timeout: 1s}", "timeout: 1s, retries: {atempts: 2}}", "atempts", "attempts"),
        (
            "    change: mig-1\n",
            "    change: mig-1\n    eror_class: Boom\n",
            "eror_class",
            "error_class",
        ),
        ("    replicas: 2\n", "    replics: 2\n", "replics", "replicas"),
        ("    path: /\n", "    path: /\n    methd: GET\n", "methd", None),
    ],
    ids=["top-level", "traffic", "retries", "fault", "component", "no-close-match"],
)
def test_unknown_key_suggests_the_closest_field(
    old: str, new: str, key: str, hint: str | None
) -> None:
    """An unknown field is reported at its line, with a did-you-mean when a close field exists."""
    text = edit(MINI, (old, new))
    (problem,) = problems_of(text)
    assert problem.path[-1] == key
    assert problem.line == line_of(text, f"{key}:")
    if hint is None:
        assert problem.message == f"unknown field {key!r}"
    else:
        assert problem.message == f"unknown field {key!r}; did you mean {hint!r}?"


def test_several_shape_defects_are_all_reported_in_line_order() -> None:
    """Every shape defect of a file is reported, sorted by line, whatever the schema order."""
    text = edit(
        MINI,
        ("horizon: 1h\n", "horizon: 1h\nseed: -1\n"),
        ("    kind: database\n", "    kind: databse\n"),
        ("  arrival_rate: 1.5\n", "  arrival_rate: 1.5\n  retry_probability: 1.5\n"),
        ("    breaks: {users", "    breaks: {Users"),
        ("actions:\n", "colour: blue\nactions:\n"),
    )
    problems = problems_of(text)
    expected = [
        (line_of(text, "seed: -1"), ("seed",)),
        (line_of(text, "kind: databse"), ("components", "db", "kind")),
        (line_of(text, "retry_probability"), ("traffic", "retry_probability")),
        (line_of(text, "breaks: {Users"), ("faults", 0, "breaks", "Users")),
        (line_of(text, "colour: blue"), ("colour",)),
    ]
    assert [(p.line, p.path) for p in problems] == expected
    assert all(p.file == "mini.yaml" for p in problems)


def test_several_reference_defects_are_all_reported_in_line_order() -> None:
    """Every cross-reference defect of a file is reported, sorted by line."""
    text = edit(
        MINI,
        ("  - {caller: api, callee: db, timeout: 1s}", "  - {caller: api, callee: cache}"),
        ("endpoint: home", "endpoint: basket"),
        ("    components: [db]", "    components: [db, dbx]"),
        ("{at: 30m, action: rollback_migration", "{at: 90m, action: rollback_migration"),
    )
    problems = problems_of(text)
    lines = [p.line for p in problems]
    assert lines == sorted(lines)
    assert [p.path for p in problems] == [
        ("dependencies", 1, "callee"),
        ("endpoints", "home", "call", "calls", 0, "calls", 0, "component"),
        ("traffic", "funnel", 0, "endpoint"),
        ("changes", 0, "components", 1),
        ("actions", 0, "at"),
    ]
    assert problems[0].line == line_of(text, "callee: cache")
    assert "no endpoint named 'basket'" in problems[2].message


def test_reference_checks_wait_for_a_well_shaped_file() -> None:
    """Pass two runs only once pass one succeeds, so a shape defect hides reference defects."""
    text = edit(
        MINI, ("    replicas: 2", "    replicas: 0"), ("endpoint: home", "endpoint: basket")
    )
    (problem,) = problems_of(text)
    assert problem.path == ("components", "web", "replicas")


def test_unreadable_file_is_a_scenario_error(tmp_path: Path) -> None:
    """A missing file is reported as a problem at line 1, not as an OSError."""
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ScenarioError) as excinfo:
        load(missing)
    (problem,) = excinfo.value.problems
    assert str(problem).startswith(f"{missing}:1: scenario: cannot read the file")


def test_error_text_is_one_line_per_problem() -> None:
    """``str(ScenarioError)`` joins the rendered problems, one per line, in line order."""
    text = edit(
        MINI, ("    replicas: 2", "    replicas: 0"), ("arrival_rate: 1.5", "arrival_rate: 0")
    )
    with pytest.raises(ScenarioError) as excinfo:
        parse_scenario(text, "mini.yaml")
    assert str(excinfo.value).splitlines() == [str(p) for p in excinfo.value.problems]
    assert str(excinfo.value.problems[0]) == (
        f"mini.yaml:{line_of(text, 'replicas: 0')}: components.web.replicas: "
        "expected a value >= 1, got 0"
    )


def test_a_key_with_spaces_or_control_characters_is_escaped_in_the_path() -> None:
    """An unknown key holding a space or a carriage return stays one word on one line."""
    (problem,) = problems_of(MINI + '"bad key\\r": 1\n')
    assert str(problem).splitlines() == [
        f"mini.yaml:{len(MINI.splitlines()) + 1}: ['bad\\x20key\\x0d']: unknown field 'bad key\\r'"
    ]


def test_merge_keys_can_be_overridden_locally() -> None:
    """A key merged in with `<<` may be overridden by the mapping that merges it."""
    from sim.scenario.yamlsource import read_yaml

    source = read_yaml("base: &b\n  a: 1\n  b: 2\nx:\n  <<: *b\n  b: 3\n", "t.yaml")
    assert source.data["x"] == {"a": 1, "b": 3}
    assert source.lines[("x", "b")] == 6
