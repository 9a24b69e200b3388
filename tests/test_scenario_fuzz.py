"""Fuzzing the loader: whatever the text, a scenario (or runbook) or a ``ScenarioError``.

The shipped scenarios and runbooks are mutated as data (keys deleted, values swapped for other
types, huge, negative and non-finite numbers, unicode with control characters) and as text
(control characters, tags, aliases, alias bombs, deep nesting, random YAML). Every example
must end in a validated document or a ``ScenarioError`` whose problems are one line each,
within a time bound; a scenario that validates must also hash (what a run does at its end).
The examples are derandomized (the same ones on every run, in CI too) and never stored.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.runner import scenario_hash
from sim.scenario import Scenario, ScenarioError, parse_scenario, yamlsource
from sim.scenario.errors import PathPart
from sim.scenario.runbooks import parse_runbook
from tests.conftest import ROOT, SCENARIOS

SECONDS = 2.0  # the most one example may take
# FILE:LINE: PATH: MESSAGE, one line; FILE the fuzzed text or a file it extends, a shop or a
# scenario further up the chain (a value the fuzz removed can leave a reference of theirs
# dangling, reported where they name it: quota-cuts-the-login-service without its drop of
# a red herring of bad-schema-migration, two files up, whose change it drops).
PROBLEM = re.compile(r"^(fuzz\.yaml|\S*/[\w.-]+\.yaml):\d+: \S+: [^\n\r]+$")
# Examples per test in the fast suite, and under `slow` (derandomized: the same examples every
# run; 400 rather than 1,500 since the game day's and the library's tests joined CI's ten
# minutes).
FAST, SLOW = 100, 400

SCENARIO_FILES = sorted(SCENARIOS.glob("*.yaml"))
RUNBOOK_FILES = sorted((ROOT / "sim" / "response" / "runbooks").glob("*.yaml"))
SCENARIO_TEXTS = [p.read_text(encoding="utf-8") for p in SCENARIO_FILES]
RUNBOOK_TEXTS = [p.read_text(encoding="utf-8") for p in RUNBOOK_FILES]
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SCENARIO_DATA = [yaml.load(t, Loader=FAST_LOADER) for t in SCENARIO_TEXTS]
RUNBOOK_DATA = [yaml.load(t, Loader=FAST_LOADER) for t in RUNBOOK_TEXTS]


def places(node: Any, path: tuple[PathPart, ...] = ()) -> list[tuple[PathPart, ...]]:
    """Every path into ``node``'s mappings and lists, the root first."""
    found = [path]
    if isinstance(node, dict):
        for key, child in node.items():
            found += places(child, (*path, key))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            found += places(child, (*path, i))
    return found


SCENARIO_PLACES = [places(d) for d in SCENARIO_DATA]
RUNBOOK_PLACES = [places(d) for d in RUNBOOK_DATA]

NUMBERS = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(),  # NaN and infinities included
    st.sampled_from([0, -1, 2**63, 10**20, 1e308, -1e308, 5e-324, 0.1]),
)
DURATIONS = st.sampled_from(
    ["1" + "0" * 400, "1" + "0" * 400 + "s", "366d", "367d", "30d", "31d", "0s", "1ms", "-1s"]
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, DURATIONS, st.text(max_size=40))
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)
# Snippets spliced into the text: control characters, tags, aliases, nesting, odd YAML.
SNIPPETS = st.one_of(
    st.sampled_from(
        [
            "\x00",
            "\x07",
            "\x1b[31m",
            "\ufffe",
            "\t",
            "\r",
            "\ufeff",
            "!!python/object/apply:os.system ['echo hi'] ",
            "!!python/name:os.system ",
            "!!binary aGk= ",
            "!!set ",
            "!!omap ",
            "!!timestamp ",
            "!!str ",
            "!!int ",
            "!!bool ",
            "!!float ",
            "!custom ",
            "&a ",
            "*a ",
            "*undefined ",
            "<<: *a\n",
            "&r [*r]",
            "---\n",
            "...\n",
            "%YAML 1.1\n",
            "? ",
            ": ",
            "- ",
            "{",
            "}",
            "[",
            "]",
            "'",
            '"',
            "|\n",
            "=",
            "~",
            ".inf",
            ".nan",
            "1" + "0" * 400,
        ]
    ),
    st.integers(min_value=1, max_value=3000).map(lambda n: "[" * n + "]" * n),
    st.integers(min_value=1, max_value=3000).map(lambda n: "{a: " * n + "1" + "}" * n),
    st.text(max_size=20),
)
YAML_ALPHABET = st.sampled_from([*"abc019 -:,.[]{}&*!<>|'\"#?%@`~=\n\t\\", "\x00", "é"])


def bomb(width: int, depth: int, merge: bool) -> str:
    """An alias bomb: each level names ``width`` copies of the one before, as lists or merges."""
    lines = ["l0: &l0 {a: 1, b: 2}" if merge else "l0: &l0 [ha, ha]"]
    for i in range(1, depth + 1):
        refs = ", ".join([f"*l{i - 1}"] * width)
        lines.append(f"l{i}: &l{i} {{<<: [{refs}]}}" if merge else f"l{i}: &l{i} [{refs}]")
    return "\n".join(lines) + "\n"


@cache
def first_scenario() -> Scenario:
    """The first shipped scenario, validated once: the names a runbook is checked against."""
    return parse_scenario(SCENARIO_TEXTS[0])


def within_time(load: Callable[[str, str], Any], text: str) -> Any:
    """``load(text)``: a document or a ``ScenarioError`` of one-line problems, within the bound."""
    start = time.perf_counter()
    try:
        result = load(text, "fuzz.yaml")
    except ScenarioError as exc:
        result = exc
    elapsed = time.perf_counter() - start
    assert elapsed < SECONDS, f"{elapsed:.2f} s for {text[:200]!r}"
    if isinstance(result, ScenarioError):
        assert result.problems
        for problem in result.problems:
            assert PROBLEM.match(str(problem)), str(problem)
            assert problem.line >= 1
    return result


def check_scenario(text: str) -> None:
    """A scenario that validates also hashes, as every run does at its end."""
    result = within_time(parse_scenario, text)
    if isinstance(result, Scenario):
        scenario_hash(result)


def mutate(data: Any, spots: list[tuple[PathPart, ...]], draw: st.DrawFn) -> Any:
    """``data`` with one to four random edits: a key or item deleted, a value replaced."""
    data = copy.deepcopy(data)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        path = draw(st.sampled_from(spots))
        parent: Any = data
        try:
            for part in path[:-1]:
                parent = parent[part]
            if not path:
                return draw(VALUES)
            if draw(st.booleans()):
                del parent[path[-1]]
            else:
                parent[path[-1]] = draw(VALUES)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed or replaced this place
    return data


def dump(data: Any) -> str:
    """Data back to YAML text (anything YAML can carry, unicode as it is)."""
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def splice(text: str, snippets: list[str], draw: st.DrawFn) -> str:
    """``text`` with each snippet inserted at a random position."""
    for snippet in snippets:
        at = draw(st.integers(min_value=0, max_value=len(text)))
        text = text[:at] + snippet + text[at:]
    return text


FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def mutated_scenarios(draw: st.DrawFn) -> str:
    """A shipped scenario, edited as data, then perhaps as text."""
    i = draw(st.integers(min_value=0, max_value=len(SCENARIO_DATA) - 1))
    text = dump(mutate(SCENARIO_DATA[i], SCENARIO_PLACES[i], draw))
    return splice(text, draw(st.lists(SNIPPETS, max_size=2)), draw)


@st.composite
def spliced_scenarios(draw: st.DrawFn) -> str:
    """A shipped scenario's own text with control characters, tags, aliases or nesting spliced
    in, or with lines dropped or repeated."""
    text = draw(st.sampled_from(SCENARIO_TEXTS))
    if draw(st.booleans()):
        lines = text.splitlines(keepends=True)
        at = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        cut = draw(st.integers(min_value=0, max_value=5))
        lines[at : at + cut] = lines[at : at + cut] * draw(st.integers(min_value=0, max_value=3))
        text = "".join(lines)
    return splice(text, draw(st.lists(SNIPPETS, min_size=1, max_size=3)), draw)


@st.composite
def random_yaml(draw: st.DrawFn) -> str:
    """Random text: YAML punctuation and words, any unicode, or an alias bomb."""
    kind = draw(st.sampled_from(["punctuation", "unicode", "bomb"]))
    if kind == "punctuation":
        return "".join(draw(st.lists(YAML_ALPHABET, max_size=300)))
    if kind == "unicode":
        return draw(st.text(max_size=300))
    width = draw(st.integers(min_value=2, max_value=20))
    depth = draw(st.integers(min_value=1, max_value=12))
    return bomb(width, depth, draw(st.booleans()))


@st.composite
def mutated_runbooks(draw: st.DrawFn) -> str:
    """A shipped runbook, edited as data and perhaps as text."""
    i = draw(st.integers(min_value=0, max_value=len(RUNBOOK_DATA) - 1))
    text = dump(mutate(RUNBOOK_DATA[i], RUNBOOK_PLACES[i], draw))
    return splice(text, draw(st.lists(SNIPPETS, max_size=2)), draw)


@settings(FUZZ, max_examples=FAST)
@given(mutated_scenarios())
def test_mutated_scenarios_load_or_fail_cleanly(text: str) -> None:
    """A shipped scenario edited as data loads, or fails with one-line problems, in time."""
    check_scenario(text)


@settings(FUZZ, max_examples=FAST)
@given(spliced_scenarios())
def test_spliced_scenarios_load_or_fail_cleanly(text: str) -> None:
    """A shipped scenario with snippets spliced into its text loads or fails cleanly, in time."""
    check_scenario(text)


@settings(FUZZ, max_examples=FAST)
@given(random_yaml())
def test_random_yaml_fails_cleanly(text: str) -> None:
    """Random text and alias bombs fail cleanly and in time (or, rarely, load)."""
    check_scenario(text)


@settings(FUZZ, max_examples=FAST)
@given(mutated_runbooks(), st.booleans())
def test_mutated_runbooks_load_or_fail_cleanly(text: str, against_scenario: bool) -> None:
    """A shipped runbook edited as data loads or fails cleanly, alone or against a scenario."""
    scenario = first_scenario() if against_scenario else None
    within_time(lambda t, f: parse_runbook(t, f, scenario), text)


@pytest.mark.slow
@settings(FUZZ, max_examples=SLOW)
@given(st.one_of(mutated_scenarios(), spliced_scenarios(), random_yaml()))
def test_many_scenarios_load_or_fail_cleanly(text: str) -> None:
    """The three scenario fuzzers at length: 400 examples more."""
    check_scenario(text)


@pytest.mark.slow
@settings(FUZZ, max_examples=SLOW)
@given(st.one_of(mutated_runbooks(), random_yaml()))
def test_many_runbooks_load_or_fail_cleanly(text: str) -> None:
    """The runbook fuzzer at length, with random text: 400 examples more."""
    within_time(parse_runbook, text)


def test_the_fuzzers_start_from_every_shipped_file() -> None:
    """Every shipped scenario and runbook seeds the fuzzers, and each one loads as it is."""
    assert len(SCENARIO_TEXTS) >= 3
    assert len(RUNBOOK_TEXTS) >= 4
    for text in SCENARIO_TEXTS:
        assert isinstance(within_time(parse_scenario, text), Scenario)
    for text in RUNBOOK_TEXTS:
        assert not isinstance(within_time(parse_runbook, text), ScenarioError)


def pure(text: str) -> Any:
    """PyYAML's own parse of ``text`` (the reference), or the exception type it fails with."""
    try:
        return yamlsource._compose(yamlsource._Loader(text))
    except (yaml.YAMLError, yamlsource._BadNode) as exc:
        return type(exc)


def parsed(text: str) -> Any:
    """What the reader gives (libyaml first, PyYAML on refusal), or the exception type."""
    try:
        return yamlsource._parse(text)
    except (yaml.YAMLError, yamlsource._BadNode) as exc:
        return type(exc)


def test_libyaml_parses_every_shipped_and_corpus_file_as_pyyaml_does() -> None:
    """The fast path reads each file of the catalogue, the shops, the runbooks and the invalid
    corpora exactly as the pure-Python reader does: data, lines, and the same failures."""
    assert yamlsource._FastLoader is not None, "PyYAML without libyaml: the fast path is off"
    files = [
        *SCENARIOS.rglob("*.yaml"),
        *(ROOT / "sim" / "response" / "runbooks").glob("*.yaml"),
        *(ROOT / "tests" / "invalid").glob("*.yaml"),
        *(ROOT / "tests" / "invalid_runbooks").glob("*.yaml"),
    ]
    assert len(files) > 100
    for file in files:
        text = file.read_bytes().decode("utf-8", errors="replace")
        assert parsed(text) == pure(text), file


@settings(FUZZ, max_examples=FAST)
@given(st.one_of(mutated_scenarios(), spliced_scenarios(), random_yaml(), mutated_runbooks()))
def test_libyaml_and_pyyaml_agree_on_any_text(text: str) -> None:
    """Whatever the text, the reader's result (data and lines) or failure is PyYAML's own:
    libyaml never accepts what PyYAML refuses, nor reads a value differently."""
    assert parsed(text) == pure(text)
