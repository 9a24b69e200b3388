"""The built-in responders and runbook files: names, loading with file:line errors.

Built-in runbooks are YAML files shipped in ``sim/response/runbooks/``; a scenario may carry
its own under ``runbooks:``, and ``chaosdrill run --runbook FILE`` loads one from anywhere.
"""

from __future__ import annotations

import random
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.schema import Runbook, Scenario

if TYPE_CHECKING:
    from sim.response.responders import Responder

RUNBOOKS = ("seed", "changes-first", "experienced", "novice")
SPECIAL = ("oracle", "scripted", "none")
BUILT_IN: tuple[str, ...] = (*RUNBOOKS, *SPECIAL)


def parse_runbook(text: str, file: str = "<string>", scenario: Scenario | None = None) -> Runbook:
    """Validate runbook YAML ``text`` (against ``scenario``'s names, when given); raise
    :class:`ScenarioError` listing every defect at its line."""
    from sim.scenario.loader import validate_shape
    from sim.scenario.references import runbook_findings, target_names
    from sim.scenario.yamlsource import YamlProblem, read_yaml

    try:
        source = read_yaml(text, file)
    except YamlProblem as exc:
        raise ScenarioError([exc.problem]) from None
    runbook = validate_shape(source, Runbook, "a runbook mapping")
    names = None if scenario is None else target_names(scenario)
    problems = [
        Problem(file, source.line_of(path), path, message)
        for path, message in runbook_findings(runbook, names)
    ]
    if problems:
        raise ScenarioError(problems)
    return runbook


def load_runbook(path: str | Path, scenario: Scenario | None = None) -> Runbook:
    """Read and validate the runbook file at ``path`` (against ``scenario``, when given)."""
    from sim.scenario.loader import read_file

    text, _ = read_file(path)
    return parse_runbook(text, str(path), scenario)


def builtin_runbook(name: str) -> Runbook:
    """One of the shipped runbooks (``seed``, ``changes-first``, ``experienced``, ``novice``)."""
    ref = resources.files("sim.response").joinpath("runbooks", f"{name}.yaml")
    return parse_runbook(ref.read_text(encoding="utf-8"), f"sim/response/runbooks/{name}.yaml")


def make_responder(
    name: str, scenario: Scenario, seed: int, runbook: Runbook | None = None
) -> Responder:
    """The responder called ``name`` for ``scenario`` (``runbook`` overrides the lookup)."""
    from sim.engine.streams import stream
    from sim.response.responders import (
        NoResponder,
        OracleResponder,
        RunbookResponder,
        ScriptedResponder,
    )

    rng: random.Random = stream(seed, f"responder/{name}")
    if runbook is not None:
        return RunbookResponder(runbook, rng)
    if name == "none":
        return NoResponder()
    if name == "oracle":
        return OracleResponder()
    if name == "scripted":
        return ScriptedResponder(scenario.actions)
    if name in scenario.runbooks:
        return RunbookResponder(scenario.runbooks[name], rng)
    if name in RUNBOOKS:
        return RunbookResponder(builtin_runbook(name), rng)
    known = ", ".join(sorted({*BUILT_IN, *scenario.runbooks}))
    raise ValueError(f"no responder named {name!r} (known: {known})")
