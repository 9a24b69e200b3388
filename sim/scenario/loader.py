"""Load a scenario: read the file, check its shape (pass one), then its references (pass two)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from sim.scenario.budget import check_work
from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.limits import MAX_FILE_BYTES
from sim.scenario.messages import problems_from
from sim.scenario.references import check_references, check_signals
from sim.scenario.schema import Scenario
from sim.scenario.yamlsource import Source, YamlProblem, read_yaml, too_large

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario and where it came from (the journal records both)."""

    scenario: Scenario
    path: str
    sha256: str


def parse_scenario(text: str, file: str = "<string>") -> Scenario:
    """Validate scenario YAML ``text``; raise :class:`ScenarioError` listing every defect."""
    try:
        source = read_yaml(text, file)
    except YamlProblem as exc:
        raise ScenarioError([exc.problem]) from None
    return validate_source(source)


def validate_source(source: Source) -> Scenario:
    """Validate parsed YAML (or a document edited after parsing): shape, then references.

    Problems are placed at the lines ``source`` remembers, or at the nearest ancestor's line
    for paths it does not know (keys added after parsing).
    """
    file = source.file
    scenario = validate_shape(source, Scenario, "a mapping of scenario fields")
    findings = [
        Problem(file, source.line_of(path), path, msg)
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
        raise ScenarioError(
            [Problem(source.file, source.line_of(()), (), f"expected {expected}, got {got}")]
        )
    try:
        return model.model_validate(source.data)
    except ValidationError as exc:
        raise ScenarioError(problems_from(exc, source, model)) from None


def read_file(path: str | Path) -> tuple[str, bytes]:
    """The UTF-8 text of ``path`` and its bytes; unreadable, undecodable or larger than
    :data:`~sim.scenario.limits.MAX_FILE_BYTES` (no more is read) → a Problem."""
    file = str(path)
    try:
        with Path(path).open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(
            [Problem(file, 1, (), f"cannot read the file: {exc.strerror or exc}")]
        ) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError([too_large(file)])
    try:
        return raw.decode("utf-8"), raw
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScenarioError([Problem(file, line, (), "expected UTF-8 text")]) from None


def load(path: str | Path) -> LoadedScenario:
    """Read and validate the scenario at ``path``."""
    file = str(path)
    text, raw = read_file(path)
    scenario = parse_scenario(text, file)
    return LoadedScenario(scenario, file, hashlib.sha256(raw).hexdigest())


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate the scenario at ``path`` (public API)."""
    return load(path).scenario
