"""Load a scenario: read the file, check its shape (pass one), then its references (pass two)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from sim.scenario.budget import check_work
from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.extends import resolve
from sim.scenario.messages import problems_from
from sim.scenario.references import check_references, check_signals
from sim.scenario.schema import Scenario
from sim.scenario.yamlsource import Source, YamlProblem, read_file, read_yaml

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario and where it came from (the journal records both)."""

    scenario: Scenario
    path: str
    sha256: str


def parse_scenario(text: str, file: str = "<string>") -> Scenario:
    """Validate scenario YAML ``text``; raise :class:`ScenarioError` listing every defect.

    A file it ``extends`` is found relative to ``file`` (to the working folder for text that
    has no file)."""
    return _parse(text, file)[0]


def _parse(text: str, file: str) -> tuple[Scenario, list[bytes]]:
    """The scenario and the bytes of the files it extends, nearest first."""
    source, bases = scenario_source(text, file)
    return validate_source(source), bases


def scenario_source(text: str, file: str) -> tuple[Source, list[bytes]]:
    """Scenario YAML ``text`` parsed and laid over the files it extends (not yet validated),
    and those files' bytes, nearest first."""
    try:
        source = read_yaml(text, file)
    except YamlProblem as exc:
        raise ScenarioError([exc.problem]) from None
    extended, bases = resolve(source)
    if bases and isinstance(source.data, dict) and "name" not in source.data:
        here = ("extends",)
        message = "a scenario that extends another needs a name of its own (name: ...)"
        raise ScenarioError([Problem(*source.where(here), here, message)])
    return extended, bases


def flat_document(path: str | Path) -> str:
    """The scenario file at ``path`` as one YAML document, the files it extends merged in
    (``extends:`` left out): what the simulator runs, as a file that extends nothing. Raises
    :class:`ScenarioError` if the merged document is not a valid scenario."""
    file = str(path)
    text, _ = read_file(path)
    source = scenario_source(text, file)[0]
    validate_source(source)
    data = source.data
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k != "extends"}
    dumped: str = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return dumped


def digest(raw: bytes, bases: list[bytes]) -> str:
    """The SHA-256 a journal records for a scenario file: of its bytes alone, or, when it
    extends others, of its bytes and theirs (a change to a base is a change to it)."""
    sha = hashlib.sha256(raw)
    for base in bases:
        sha.update(hashlib.sha256(base).digest())
    return sha.hexdigest()


def validate_source(source: Source) -> Scenario:
    """Validate parsed YAML (or a document edited after parsing): shape, then references.

    Problems are placed at the lines ``source`` remembers, or at the nearest ancestor's line
    for paths it does not know (keys added after parsing).
    """
    scenario = validate_shape(source, Scenario, "a mapping of scenario fields")
    findings = [
        Problem(*source.where(path), path, msg)
        for path, msg in [
            *check_references(scenario),
            *check_signals(scenario),
            *check_work(scenario),
        ]
    ]
    if findings:
        raise ScenarioError(findings)
    return scenario


def validate_shape(source: Source, model: type[M], expected: str) -> M:
    """Pass one for any YAML document (a scenario, a runbook): a mapping of ``model``'s fields,
    every problem at its line."""
    if not isinstance(source.data, dict):
        got = "an empty file" if source.data is None else type(source.data).__name__
        raise ScenarioError([Problem(*source.where(()), (), f"expected {expected}, got {got}")])
    try:
        return model.model_validate(source.data)
    except ValidationError as exc:
        raise ScenarioError(problems_from(exc, source, model)) from None


def load(path: str | Path) -> LoadedScenario:
    """Read and validate the scenario at ``path``."""
    file = str(path)
    text, raw = read_file(path)
    scenario, bases = _parse(text, file)
    return LoadedScenario(scenario, file, digest(raw, bases))


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate the scenario at ``path`` (public API)."""
    return load(path).scenario
