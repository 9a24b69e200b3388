"""Runbook files and the responders a scenario may name.

A runbook is YAML: shipped with chaosdrill (``sim/response/runbooks/``), carried by a
scenario under ``runbooks:``, or given with ``chaosdrill run --runbook FILE``. Loading one
goes through the scenario loader's file reading and shape pass, then the reference checks
against a scenario's names, with the same ``FILE:LINE: field: message`` errors.
"""

from __future__ import annotations

from pathlib import Path

from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.loader import validate_shape
from sim.scenario.references import runbook_findings, target_names
from sim.scenario.schema import Runbook, Scenario
from sim.scenario.vocabulary import BUILT_IN, RUNBOOKS, SPECIAL, responder_names
from sim.scenario.yamlsource import YamlProblem, read_file, read_yaml


def parse_runbook(text: str, file: str = "<string>", scenario: Scenario | None = None) -> Runbook:
    """Validate runbook YAML ``text`` (against ``scenario``'s names, when given); raise
    :class:`ScenarioError` listing every defect at its line."""
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
    text, _ = read_file(path)
    return parse_runbook(text, str(path), scenario)


__all__ = [
    "BUILT_IN",
    "RUNBOOKS",
    "SPECIAL",
    "load_runbook",
    "parse_runbook",
    "responder_names",
]
