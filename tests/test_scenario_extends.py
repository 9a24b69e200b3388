"""``extends:``: a scenario written as changes to a shop or another scenario (docs/library.md).

The merge rules (mappings merge, ``null`` removes, named list items merge one by one, other
lists replace), problems reported at the file and line that wrote the value whatever the
chain, the refusals (a loop, a missing file, a base that is not a mapping, too long a chain,
no name of its own), the shipped catalogue as a fallback, and the digest a journal records.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.runner import scenario_hash
from sim.scenario import ScenarioError, load
from sim.scenario.errors import PathPart
from sim.scenario.extends import resolve
from sim.scenario.yamlsource import read_yaml
from tests.conftest import SCENARIOS, SEED_SCENARIO, SEED_SHOP

SHOP_TEXT = SEED_SHOP.read_text(encoding="utf-8")


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def problem_of(path: Path) -> str:
    with pytest.raises(ScenarioError) as caught:
        load(path)
    (problem,) = caught.value.problems
    return str(problem)


def line_in(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return write(tmp_path, "shops/shop.yaml", SHOP_TEXT)


# --- the merge ---------------------------------------------------------------------------------


def test_mappings_merge_and_null_removes(tmp_path: Path, shop: Path) -> None:
    child = write(
        tmp_path,
        "child.yaml",
        "extends: shops/shop.yaml\nname: child\ndescription: c\n"
        "components:\n  search: {replicas: 5, version: null}\n"
        "traffic: {arrival_rate: 1.5}\n",
    )
    base = sim.load_scenario(shop)
    scenario = sim.load_scenario(child)
    assert scenario.components["search"].replicas == 5
    search = scenario.components["search"]
    assert search.version == type(search).model_fields["version"].default  # removed
    assert base.components["search"].version == "0.19.4"
    # what the child does not say is the shop's, down to the field
    assert scenario.components["search"].service_time == base.components["search"].service_time
    assert scenario.traffic.arrival_rate == 1.5
    assert scenario.traffic.funnel == base.traffic.funnel
    assert list(scenario.components) == list(base.components)  # the shop's order is kept
    assert (scenario.name, scenario.horizon) == ("child", base.horizon)


def test_named_items_merge_new_ones_append_and_drop_removes(tmp_path: Path, shop: Path) -> None:
    child = write(
        tmp_path,
        "child.yaml",
        "extends: shops/shop.yaml\nname: child\ndescription: c\n"
        "dependencies:\n"
        "  - {caller: web, callee: search, retries: null, timeout: 1s}\n"
        "  - {caller: web, callee: email-provider, drop: true}\n"
        "  - {caller: search, callee: cache, timeout: 100ms}\n"
        "endpoints:\n"
        "  pay:\n    call:\n      component: lb\n      calls:\n"
        "        - component: web\n          calls: [payments]\n"
        "components:\n  email-provider: null\n",
    )
    base = sim.load_scenario(shop)
    scenario = sim.load_scenario(child)
    pairs = [(d.caller, d.callee) for d in scenario.dependencies]
    expected = [(d.caller, d.callee) for d in base.dependencies]
    expected.remove(("web", "email-provider"))
    assert pairs == [*expected, ("search", "cache")]  # in place, and the new one appended
    search = next(d for d in scenario.dependencies if (d.caller, d.callee) == ("web", "search"))
    assert (search.timeout, search.retries.attempts) == (1.0, 0)  # merged into the shop's
    assert "email-provider" not in scenario.components
    # a list that does not name its items (a call tree's calls) replaces the shop's
    web = scenario.endpoints["pay"].call.calls[0]
    assert [getattr(c, "component", c) for c in web.calls] == ["payments"]


def test_a_source_is_the_files_own_never_the_bases(tmp_path: Path) -> None:
    """A scenario extending one modelled on a public incident is another scenario: its
    `source:` is its own, whole — not the base's milestones with its own laid over them —
    and without one it has none (it would be calibrated against the base's incident)."""
    base = SCENARIOS / "config-push-exhausts-cpu.yaml"
    assert sim.load_scenario(base).source is not None
    shutil.copy(base, tmp_path / "base.yaml")
    source = (
        "source:\n  company: Example\n  date: 2024-01-02\n  url: https://example.com/pm\n"
        "  title: t\n  timeline: [{at: 0m, what: start}, {at: 9m, what: back}]\n"
        "  milestones: {mitigation: 9m}\n"
    )
    own = write(tmp_path, "own.yaml", "extends: base.yaml\nname: own\ndescription: d\n" + source)
    scenario = sim.load_scenario(own)
    assert scenario.source is not None
    assert scenario.source.company == "Example"
    assert scenario.source.milestones == {"mitigation": 540.0}  # not the base's diagnosis
    assert not scenario.source.inputs  # nor its inputs
    none = write(tmp_path, "none.yaml", "extends: base.yaml\nname: none\ndescription: d\n")
    assert sim.load_scenario(none).source is None


def test_the_funnel_merges_by_step(tmp_path: Path, shop: Path) -> None:
    child = write(
        tmp_path,
        "child.yaml",
        "extends: shops/shop.yaml\nname: child\ndescription: c\n"
        "traffic:\n  funnel:\n    - {step: search, proceed: 0.3}\n",
    )
    funnel = sim.load_scenario(child).traffic.funnel
    base = sim.load_scenario(shop).traffic.funnel
    assert [s.step for s in funnel] == [s.step for s in base]
    assert [s.proceed for s in funnel if s.step == "search"] == [0.3]


def test_a_chain_of_three_files(tmp_path: Path, shop: Path) -> None:
    write(
        tmp_path,
        "middle.yaml",
        "extends: shops/shop.yaml\nname: middle\ndescription: m\nhorizon: 30m\n"
        "components:\n  web: {replicas: 6}\n",
    )
    child = write(
        tmp_path,
        "sub/child.yaml",
        "extends: ../middle.yaml\nname: child\ndescription: c\ncomponents:\n  web: {concurrency: 8}\n",
    )
    scenario = sim.load_scenario(child)
    assert (scenario.horizon, scenario.components["web"].replicas) == (1800.0, 6)
    assert scenario.components["web"].concurrency == 8


# --- where problems are reported -------------------------------------------------------------


def test_a_problem_is_reported_in_the_file_that_wrote_it(tmp_path: Path) -> None:
    bad_shop = write(
        tmp_path, "shops/shop.yaml", SHOP_TEXT.replace("concurrency: 2000", "concurrency: -5")
    )
    child = write(
        tmp_path,
        "child.yaml",
        "extends: shops/shop.yaml\nname: child\ndescription: c\ncomponents:\n  web: {replicas: 0}\n",
    )
    with pytest.raises(ScenarioError) as caught:
        load(child)
    shown = sorted(str(p) for p in caught.value.problems)
    assert shown == sorted(
        [
            f"{bad_shop}:{line_in(bad_shop, 'concurrency: -5')}: components.lb.concurrency: "
            "expected a value >= 1, got -5",
            f"{child}:5: components.web.replicas: expected a value >= 1, got 0",
        ]
    )


def test_a_reference_the_child_broke_points_at_the_line_that_names_it(
    tmp_path: Path, shop: Path
) -> None:
    child = write(
        tmp_path,
        "child.yaml",
        "extends: shops/shop.yaml\nname: child\ndescription: c\ncomponents:\n  search: null\n",
    )
    with pytest.raises(ScenarioError) as caught:
        load(child)
    first = caught.value.problems[0]
    assert (first.file, first.line) == (str(shop), line_in(shop, "{caller: web, callee: search"))
    assert "no component named 'search'" in first.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("extends: 5\nname: c\n", "extends: expected the path of the file this scenario builds on"),
        ("extends: nope.yaml\nname: c\n", "nope.yaml: cannot read the file"),
        ("extends: child.yaml\nname: c\n", "extends: extends child.yaml is a loop"),
        (
            "extends: list.yaml\nname: c\n",
            "list.yaml to hold a mapping of scenario fields, got list",
        ),
        (
            "extends: shops/shop.yaml\ndescription: c\n",
            "extends: a scenario that extends another needs a name",
        ),
        (
            "extends: shops/shop.yaml\nname: c\ndependencies:\n  - {caller: a, callee: b, drop: true}\n",
            "dependencies[0].drop: nothing in the base has caller a, callee b to drop",
        ),
    ],
    ids=["not-a-path", "missing", "loop", "not-a-mapping", "no-name", "drop-nothing"],
)
def test_refusals_are_one_line_at_the_place(
    tmp_path: Path, shop: Path, text: str, message: str
) -> None:
    write(tmp_path, "list.yaml", "- 1\n- 2\n")
    child = write(tmp_path, "child.yaml", text)
    shown = problem_of(child)
    assert shown.startswith(f"{child}:"), shown
    assert message in shown, shown


def test_a_loop_through_two_files(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "extends: b.yaml\nname: a\n")
    b = write(tmp_path, "b.yaml", "extends: a.yaml\nname: b\n")
    assert f"{b}:1: extends: extends a.yaml is a loop" in problem_of(tmp_path / "a.yaml")


def test_a_chain_is_at_most_eight_files(tmp_path: Path, shop: Path) -> None:
    previous = "shops/shop.yaml"
    for i in range(9):
        write(tmp_path, f"c{i}.yaml", f"extends: {previous}\nname: c{i}\n")
        previous = f"c{i}.yaml"
    sim.load_scenario(tmp_path / "c6.yaml")  # the shop and seven on top: eight files
    assert "expected a chain of at most 8 files" in problem_of(tmp_path / "c8.yaml")


def test_a_syntax_error_in_the_base_is_reported_in_the_base(tmp_path: Path) -> None:
    base = write(tmp_path, "base.yaml", "name: x\ncomponents: [\n")
    child = write(tmp_path, "child.yaml", "extends: base.yaml\nname: c\n")
    assert problem_of(child).startswith(f"{base}:")


# --- the shipped catalogue, the digest, the hash --------------------------------------------


def test_a_copy_of_a_shipped_scenario_extends_the_shipped_shop(tmp_path: Path) -> None:
    """A scenario copied out of the catalogue (or a team's own) finds shops/ in the catalogue."""
    copy = tmp_path / "mine.yaml"
    shutil.copy(SEED_SCENARIO, copy)
    assert scenario_hash(sim.load_scenario(copy)) == scenario_hash(sim.load_scenario(SEED_SCENARIO))


def test_the_digest_covers_the_files_it_extends(tmp_path: Path, shop: Path) -> None:
    child = write(tmp_path, "child.yaml", "extends: shops/shop.yaml\nname: child\ndescription: c\n")
    before = load(child).sha256
    expected = hashlib.sha256(child.read_bytes())
    expected.update(hashlib.sha256(shop.read_bytes()).digest())
    assert before == expected.hexdigest()
    shop.write_text(SHOP_TEXT.replace("replicas: 3", "replicas: 4", 1), encoding="utf-8")
    assert load(child).sha256 != before  # a change to the shop is a change to the scenario


# Three that exercise every rule: named dependencies merged (certificate-expires), endpoints'
# call trees replaced and a data tier added (id-sequence-exhaustion), components and traffic
# merged key by key (flash-sale-surge); and a chain of three files (site-wide-schema-migration).
# (Each of the 16 had the same hash written flat when it was rewritten on the shop.)
FLAT = (
    "certificate-expires",
    "id-sequence-exhaustion",
    "flash-sale-surge",
    "site-wide-schema-migration",
)


@pytest.mark.parametrize("path", [SCENARIOS / f"{n}.yaml" for n in FLAT], ids=FLAT)
def test_a_scenario_written_flat_is_the_same_scenario(path: Path, tmp_path: Path) -> None:
    """The merged document written out as one file hashes (and so runs) as the scenario."""
    source, bases = resolve(read_yaml(path.read_text(encoding="utf-8"), str(path)))
    assert bases
    flat = dict(source.data)
    flat.pop("extends")
    written = write(
        tmp_path, "flat.yaml", yaml.safe_dump(flat, sort_keys=False, allow_unicode=True)
    )
    assert scenario_hash(sim.load_scenario(written)) == scenario_hash(sim.load_scenario(path))


def test_the_library_builds_on_its_shops() -> None:
    """Issue 16: at least eight catalogue scenarios are written with ``extends:``."""
    extending = [
        p for p in SCENARIOS.glob("*.yaml") if "\nextends:" in p.read_text(encoding="utf-8")
    ]
    assert len(extending) >= 8
    for path in extending:  # each is short: what differs from its shop, not a copy of it
        assert len(path.read_text(encoding="utf-8").splitlines()) < 150, path.name


# --- the rules as a property ------------------------------------------------------------------

KEYS = st.sampled_from(["a", "b", "c", "d"])
LEAVES = st.one_of(
    st.integers(0, 9), st.sampled_from(["x", "y"]), st.lists(st.integers(0, 3), max_size=2)
)
TREES = st.recursive(LEAVES, lambda inner: st.dictionaries(KEYS, inner, max_size=3), max_leaves=10)
CHILD_TREES = st.recursive(
    st.one_of(LEAVES, st.none()),
    lambda inner: st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=10,
)


def expected_merge(base: Any, child: Any) -> Any:
    if isinstance(base, dict) and isinstance(child, dict):
        out = {k: v for k, v in base.items() if k not in child}
        for k, v in child.items():
            if v is not None:
                out[k] = expected_merge(base[k], v) if k in base else v
        return out
    return child


def leaves(node: Any, path: tuple[PathPart, ...] = ()) -> list[tuple[PathPart, ...]]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in leaves(v, (*path, k))] or [path]
    return [path]


def get(node: Any, path: tuple[PathPart, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


@settings(max_examples=200, deadline=None)
@given(
    base=st.dictionaries(KEYS, TREES, max_size=4),
    child=st.dictionaries(KEYS, CHILD_TREES, max_size=4),
)
def test_every_value_comes_from_and_points_at_the_file_that_wrote_it(
    tmp_path_factory: pytest.TempPathFactory, base: dict[str, Any], child: dict[str, Any]
) -> None:
    folder = tmp_path_factory.mktemp("merge")
    write(folder, "base.yaml", yaml.safe_dump(base))
    child_path = write(folder, "child.yaml", yaml.safe_dump({"extends": "base.yaml", **child}))
    source, _ = resolve(read_yaml(child_path.read_text(), str(child_path)))
    merged = dict(source.data)
    merged.pop("extends")
    assert merged == expected_merge(base, child)
    for path in leaves(merged):
        if not path:
            continue
        try:  # the child wrote it if it has the path: its value, or its mapping merged
            get(child, path)
            written_by_child = True
        except (KeyError, TypeError):
            written_by_child = False
        file, _ = source.where(path)
        assert file == str(child_path if written_by_child else folder / "base.yaml")


def test_validate_flat_prints_what_the_simulator_runs(tmp_path: Path) -> None:
    """``chaosdrill validate --flat`` (the real entry point): one document that extends nothing
    and runs as the scenario does."""
    path = SCENARIOS / "certificate-expires.yaml"
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "validate", "--flat", str(path)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    flat = write(tmp_path, "flat.yaml", proc.stdout)
    assert "extends:" not in proc.stdout
    assert scenario_hash(sim.load_scenario(flat)) == scenario_hash(sim.load_scenario(path))


@pytest.mark.parametrize("shop", sorted((SCENARIOS / "shops").glob("*.yaml")), ids=lambda p: p.stem)
def test_a_shop_on_its_own_is_a_calm_day(shop: Path) -> None:
    """A shop breaks nothing: run alone (its horizon; the flow engine where it can run the
    shop), no alert, no page, no failed request — whatever breaks in a scenario is that
    scenario's."""
    from sim.engine.flow.engine import flow_lacks

    scenario = sim.load_scenario(shop)
    engine = "request" if flow_lacks(scenario) else "flow"
    journal = sim.run(scenario, 1, engine=engine, compact=True)
    assert journal.data["alerts"] == []
    assert journal.data["paging"]["incidents"] == []
    assert journal.summary["failed_requests"] == 0
