"""The limits of scenario files (docs/scenarios.md, "Limits"): what validates at the bounds
runs, and what goes past them is refused at its line, quickly.

Validation and the run agree: every shape of shipped scenario is pushed to the bounds one
way at a time (the longest horizon, the shortest window, the busiest traffic, the largest components,
the deepest call tree, …), must still validate, and must run a few simulated minutes on the
engine the case is about. What goes past a bound has a corpus file in tests/invalid/; the
reader's limits (size, nesting, values, tags) are checked here.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import yaml

import sim
from sim.engine.flow.engine import flow_lacks
from sim.runner import scenario_hash
from sim.scenario import Scenario, ScenarioError, load, parse_scenario
from sim.scenario import limits as L
from sim.scenario.budget import calls_per_session, estimated_calls
from sim.scenario.yamlsource import read_yaml
from tests.conftest import SCENARIOS
from tests.reference.shapes import Data, merged, one_per_shape, shape
from tests.test_scenario_loader import MINI, edit

FILES = sorted(SCENARIOS.glob("*.yaml"))


def at_bounds(path: Path, change: Callable[[Data], None]) -> Scenario:
    """The scenario at ``path`` (laid over what it extends) with ``change`` applied to its
    data, validated."""
    data = copy.deepcopy(merged(path))
    change(data)
    text = yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False)
    return parse_scenario(text, f"{path.name} (edited)")


def longest_horizon(d: Data) -> None:
    """The longest horizon."""
    d["horizon"] = "30d"


def shortest_window(d: Data) -> None:
    """The shortest metrics window."""
    d["window"] = "1s"


def busiest_traffic(d: Data) -> None:
    """The most sessions a second, all day, over two hours (the work budget bounds sessions a
    second × horizon: a scenario of a day at the busiest rate is refused)."""
    d["traffic"].update(arrival_rate=L.MAX_PEAK_RATE, daily_curve=[1] * 24, surges=[], peaks=[])
    d["horizon"] = "2h"


def steepest_curve_and_surge(d: Data) -> None:
    """The highest daily curve and surge, multiplying to the most sessions a second."""
    d["traffic"].update(
        arrival_rate=L.MAX_PEAK_RATE / L.MAX_CURVE / L.MAX_SURGE,
        daily_curve=[L.MAX_CURVE] * 24,
        surges=[{"start": "1m", "duration": "2m", "factor": L.MAX_SURGE}],
        peaks=[],
    )


def largest_components(d: Data) -> None:
    """Every component and pool as large as it may be."""
    for component in d["components"].values():
        component.update(
            replicas=L.MAX_REPLICAS,
            concurrency=L.MAX_CONCURRENCY,
            queue_limit=L.MAX_QUEUE_LIMIT,
        )
        if "autoscaling" in component:
            component["autoscaling"]["max"] = L.MAX_REPLICAS
    for dependency in d["dependencies"]:
        dependency["pool"] = L.MAX_POOL


def slowest_shoppers(d: Data) -> None:
    """The longest, most spread think time and the most patient shoppers, in 1 s windows."""
    d["window"] = "1s"
    d["traffic"].update(
        think_time={"dist": "lognormal", "mean": L.MAX_THINK_TIME, "cv": 5},
        give_up_after=L.MAX_GIVE_UP_AFTER,
    )


def longest_durations(d: Data) -> None:
    """Every timeout, backoff and restart as long as a duration may be, retries at the most."""
    year = f"{int(L.MAX_DURATION)}s"
    for component in d["components"].values():
        component["restart_time"] = year
    for dependency in d["dependencies"]:
        dependency.update(
            timeout=year,
            retries={"attempts": 10, "backoff": year, "multiplier": L.MAX_RETRY_MULTIPLIER},
        )
    d["traffic"]["client_timeout"] = year
    d.setdefault("scoring", {})["slo"] = {"window": year}


def largest_money(d: Data) -> None:
    """The most real shoppers per simulated one, spending the most."""
    d["traffic"].update(
        represents=L.MAX_REPRESENTS, order_value={"mean": L.MAX_ORDER_VALUE, "cv": 5}
    )


def loudest_signals(d: Data) -> None:
    """The most log lines kept and the most noise, checks and probes as often as allowed."""
    d["logs"] = {"budget": L.MAX_LOG_BUDGET, "noise_rate": L.MAX_LINES_PER_MINUTE}
    d["paging"] = {"size": L.MAX_ROTATION}
    d["probes"] = {"interval": L.MIN_INTERVAL}
    for component in d["components"].values():
        component["health_check"] = {"interval": L.MIN_INTERVAL}


def deepest_calls(d: Data) -> None:
    """A first funnel step whose call tree is the longest chain of components allowed."""
    hops = [f"hop{i}" for i in range(L.MAX_CHAIN)]
    d["components"].update({h: {"kind": "service", "service_time": {"mean": "1ms"}} for h in hops})
    d["dependencies"] += [{"caller": a, "callee": b} for a, b in pairwise(hops)]
    tree: Data = {"component": hops[-1]}
    for hop in reversed(hops[:-1]):
        tree = {"component": hop, "calls": [tree]}
    d["endpoints"]["deep"] = {"path": "/deep", "call": tree}
    d["traffic"]["funnel"].insert(0, {"step": "deep", "endpoint": "deep", "proceed": 1.0})


def longest_funnel(d: Data) -> None:
    """The most funnel steps (the scenario's own, repeated)."""
    funnel = d["traffic"]["funnel"]
    d["traffic"]["funnel"] = [
        {**funnel[i % len(funnel)], "step": f"step-{i}"} for i in range(L.MAX_FUNNEL_STEPS)
    ]


def case(change: Callable[[Data], None], engine: str, seconds: float, slow: bool = False) -> Any:
    """One way to the bounds, run on ``engine`` for ``seconds`` of simulated time."""
    marks = [pytest.mark.slow] if slow else []
    return pytest.param(change, engine, seconds, id=f"{change.__name__}-{engine}", marks=marks)


# 30 s of simulated time each (60 until CI needed the time): enough to validate, hash, start
# every process and close windows at the bounds.
CASES = [
    case(longest_horizon, "flow", 300),
    case(shortest_window, "request", 30),
    case(shortest_window, "flow", 30),
    case(busiest_traffic, "flow", 30),
    case(busiest_traffic, "request", 5),
    case(steepest_curve_and_surge, "flow", 180),
    case(largest_components, "request", 30),
    case(largest_components, "flow", 30),
    # 10 s of simulated time: in 1 s windows a minute cost CI 13 s over the catalogue (20 s
    # until 2026-12-05, when the suite had to fit a slower machine).
    case(slowest_shoppers, "flow", 10, slow=True),
    case(longest_durations, "request", 30),
    case(longest_durations, "flow", 30),
    case(largest_money, "request", 30),
    case(loudest_signals, "request", 30),
    case(deepest_calls, "request", 30),
    case(deepest_calls, "flow", 30),
    case(longest_funnel, "request", 30),
    case(longest_funnel, "flow", 30),
]


SHAPES = one_per_shape(FILES)


def test_each_shape_stands_for_scenarios_that_differ_only_in_values() -> None:
    """Files of one shape have the same keys and kinds of values; the sample's one-change
    scenarios collapse, the mechanism scenarios stay apart."""
    assert len(SHAPES) < len(FILES)
    stems = {p.stem for p in SHAPES}
    assert {"bad-schema-migration", "migration-lock-queue", "config-push-exhausts-cpu"} <= stems
    deploys = (  # sampled incidents: a deploy and the error rate it causes, rolled back
        "client-side-change-breaks-downloads",
        "deploy-breaks-download-links",
        "deploy-loses-its-images",
        "deploy-overwrites-a-service-url",
        "deploy-without-integrity-hashes",
    )
    assert sum(s in stems for s in deploys) == 1
    a, b = (merged(SCENARIOS / f"{s}.yaml") for s in deploys[2:4])
    assert a != b
    assert shape(a) == shape(b)


@pytest.mark.parametrize("path", SHAPES, ids=[p.stem for p in SHAPES])
@pytest.mark.parametrize(("change", "engine", "seconds"), CASES)
def test_a_scenario_at_its_bounds_validates_and_runs(
    path: Path, change: Callable[[Data], None], engine: str, seconds: float
) -> None:
    """Each shipped scenario's shape pushed to one set of bounds validates, hashes and starts
    to run (on the flow engine, a scenario it does not model is refused, naming what it
    lacks)."""
    scenario = at_bounds(path, change)
    scenario_hash(scenario)
    if engine == "flow" and flow_lacks(scenario):
        with pytest.raises(ValueError, match="the flow engine does not model"):
            sim.run(scenario, horizon=seconds, engine=engine)
        return
    journal = sim.run(scenario, horizon=seconds, engine=engine)
    assert journal.summary["sessions"] > 0
    json.dumps(journal.summary, allow_nan=False)  # every figure finite


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_shipped_scenario_fits_the_budget_at_the_longest_horizon(path: Path) -> None:
    """A 30-day run of every shipped scenario validates: the budget leaves room for long runs."""
    scenario = at_bounds(path, longest_horizon)
    assert scenario.horizon == L.MAX_HORIZON
    assert estimated_calls(scenario) <= L.WORK_BUDGET


def test_the_work_estimate_weighs_each_surge_by_its_time() -> None:
    """Rate × curve peak × the horizon, a 10-minute ×3 surge counted three times, × calls."""
    text = edit(
        MINI,
        (
            "  arrival_rate: 1.5\n",
            "  arrival_rate: 2\n  surges: [{start: 5m, duration: 10m, factor: 3}]\n",
        ),
    )
    scenario = parse_scenario(text)
    assert calls_per_session(scenario) == 4  # web → api → (db, psp)
    assert estimated_calls(scenario) == pytest.approx(2 * 1.0 * (3000 + 600 * 3) * 4)


def test_a_file_over_the_size_cap_is_refused_without_reading_it(tmp_path: Path) -> None:
    """A 50 MB file is refused at once, at line 1, naming the cap."""
    big = tmp_path / "big.yaml"
    with big.open("wb") as stream:
        stream.truncate(50 * 2**20)  # sparse: nothing is written
    start = time.perf_counter()
    with pytest.raises(ScenarioError) as caught:
        load(big)
    assert time.perf_counter() - start < 0.5
    (problem,) = caught.value.problems
    assert (problem.line, problem.path) == (1, ())
    assert f"at most {L.MAX_FILE_BYTES:,} bytes (1 MiB)" in problem.message


def test_text_over_the_size_cap_is_refused() -> None:
    """Text given directly is held to the same cap, counted in UTF-8 bytes."""
    text = MINI + "#" + "é" * (L.MAX_FILE_BYTES // 2)
    with pytest.raises(ScenarioError, match="1 MiB"):
        parse_scenario(text)


@pytest.mark.parametrize("merge", [False, True], ids=["lists", "merge-keys"])
def test_an_alias_bomb_is_refused_in_well_under_a_second(merge: bool) -> None:
    """A billion values from a few hundred bytes: refused by the values bound, at once."""
    first = "l0: &l0 {a: 1, b: 2}" if merge else "l0: &l0 [ha, ha]"
    lines = [first]
    for i in range(1, 10):
        refs = ", ".join([f"*l{i - 1}"] * 10)
        lines.append(f"l{i}: &l{i} {{<<: [{refs}]}}" if merge else f"l{i}: &l{i} [{refs}]")
    start = time.perf_counter()
    with pytest.raises(ScenarioError) as caught:
        parse_scenario("\n".join(lines))
    assert time.perf_counter() - start < 0.25
    assert f"at most {L.MAX_VALUES:,} keys, values and items" in str(caught.value)


@pytest.mark.parametrize(("copies", "loads"), [(48, True), (49, False)])
def test_the_values_bound_counts_aliases_expanded(copies: int, loads: bool) -> None:
    """1,005 values and 1,001 per alias of a 1,000-item list: 48 aliases fit, 49 do not."""
    text = "a: &a [" + ", ".join(["x"] * 1000) + "]\nb: [" + ", ".join(["*a"] * copies) + "]\n"
    assert (1005 + 1001 * copies <= L.MAX_VALUES) == loads
    if loads:
        assert len(read_yaml(text, "t.yaml").data["b"]) == copies
    else:
        with pytest.raises(ScenarioError, match="aliases expanded"):
            parse_scenario(text)


@pytest.mark.parametrize(("depth", "loads"), [(L.MAX_NESTING, True), (L.MAX_NESTING + 1, False)])
def test_nesting_is_bounded(depth: int, loads: bool) -> None:
    """Lists nest 64 levels deep, the root mapping included; one more level is refused."""
    levels = depth - 1  # the root mapping is the first level
    text = "a: " + "[" * levels + "]" * levels + "\n"
    if loads:
        nested: list[Any] = []
        for _ in range(levels - 1):
            nested = [nested]
        assert read_yaml(text, "t.yaml").data["a"] == nested
    else:
        with pytest.raises(ScenarioError, match=f"nested at most {L.MAX_NESTING} deep"):
            parse_scenario(text)


def test_an_alias_cannot_nest_what_it_names_past_the_bound() -> None:
    """40 levels named by an alias 30 levels down are 70 deep: refused, on the path under b."""
    text = "a: &a " + "[" * 40 + "]" * 40 + "\nb: " + "[" * 30 + "*a" + "]" * 30 + "\n"
    with pytest.raises(ScenarioError, match=f"nested at most {L.MAX_NESTING} deep") as caught:
        parse_scenario(text)
    assert caught.value.problems[0].path[0] == "b"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("!!str 12", "12"),
        ('!!int "12"', 12),
        ("!!float 1", 1.0),
        ("!!bool true", True),
        ("!!null ''", None),
        ("!!seq [1]", [1]),
        ("!!map {a: 1}", {"a": 1}),
        ("2026-03-14", date(2026, 3, 14)),  # an untagged timestamp
        ("=", "="),  # a string, as in YAML 1.2
    ],
)
def test_core_schema_tags_are_read(value: str, expected: object) -> None:
    """The YAML core schema's tags may be written; timestamps are read without a tag."""
    assert read_yaml(f"x: {value}\n", "t.yaml").data == {"x": expected}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "!!python/object/apply:os.system [echo hi]",
            "'!!python/object/apply:os.system' on a list",
        ),
        ("!!python/name:os.system", "'!!python/name:os.system' on a value"),
        ("!!binary aGk=", "'!!binary' on a value"),
        ("!!set {a: null}", "'!!set' on a mapping"),
        ("!!omap [{a: 1}]", "'!!omap' on a list"),
        ("!!timestamp 2026-03-14", "'!!timestamp' on a value"),
        ("!custom 1", "'!custom' on a value"),
        ("!!str {a: 1}", "'!!str' on a mapping"),
        ("!!bool maybe", "cannot read 'maybe': not a bool"),
    ],
)
def test_every_other_tag_is_refused_at_its_line(value: str, message: str) -> None:
    """A tag outside the core schema, or on the wrong kind of node, is named at its line."""
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(f"name: x\n\nhorizon:\n  {value}\n", "t.yaml")
    (problem,) = caught.value.problems
    assert (problem.line, problem.path) == (4, ("horizon",))
    assert message in problem.message


def test_a_mapping_reached_again_through_an_alias_keeps_its_merged_overrides() -> None:
    """A mapping that overrides a merged key reads the same when an alias names it again."""
    source = read_yaml("base: &b {a: 1, c: 3}\nx: &x {<<: *b, a: 2}\ny: *x\n", "t.yaml")
    assert source.data["x"] == source.data["y"] == {"a": 2, "c": 3}
    assert list(source.data["y"]) == ["a", "c"]  # keys in the order the merge gave them


def test_the_bounds_are_in_the_json_schema() -> None:
    """`chaosdrill schema` carries the numeric and count bounds (durations: the year cap)."""
    schema = Scenario.model_json_schema()
    defs = schema["$defs"]
    assert defs["Component"]["properties"]["replicas"]["maximum"] == L.MAX_REPLICAS
    assert defs["Component"]["properties"]["concurrency"]["maximum"] == L.MAX_CONCURRENCY
    assert defs["Traffic"]["properties"]["arrival_rate"]["maximum"] == L.MAX_ARRIVAL_RATE
    assert defs["Traffic"]["properties"]["surges"]["maxItems"] == L.MAX_SURGES
    assert schema["properties"]["components"]["maxProperties"] == L.MAX_COMPONENTS
    assert schema["properties"]["dependencies"]["maxItems"] == L.MAX_DEPENDENCIES
    number = schema["properties"]["horizon"]["anyOf"][1]
    assert number["maximum"] == L.MAX_DURATION
