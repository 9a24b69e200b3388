"""Facilitator injections: one fault or red-herring entry, typed on one line, checked like a file.

The line is YAML in the scenario file's syntax (flow style: ``{id: cache-down, type: crash,
target: cache}``). It is validated against the schema and against the scenario's names with
the same checks a scenario file gets, then started now by
:meth:`sim.faults.schedule.FaultSchedule.inject` or
:meth:`sim.faults.red_herrings.RedHerrings.inject`.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError

from sim.scenario.errors import render_path
from sim.scenario.schema import Fault, RedHerring, Scenario

_FAULT: TypeAdapter[Fault] = TypeAdapter(Fault)


class InjectError(ValueError):
    """An injection that cannot be started; the message says what is wrong, on one line."""


def _mapping(text: str, what: str, example: str) -> dict[str, Any]:
    from sim.scenario.yamlsource import YamlProblem, read_yaml

    if not text.strip():
        raise InjectError(f"give one {what} entry on the line, e.g. {example}")
    try:
        data = read_yaml(text, "<line>").data
    except YamlProblem as exc:
        raise InjectError(exc.problem.message) from None
    if not isinstance(data, dict):
        raise InjectError(f"expected a {what} entry as a mapping, e.g. {example}")
    return data


def _errors(exc: ValidationError, what: str) -> str:
    parts = []
    for e in exc.errors()[:3]:
        path = [p for p in e["loc"] if isinstance(p, (str, int))]
        parts.append(f"{render_path(path) if path else what}: {e['msg']}")
    return "; ".join(parts)


FAULT_EXAMPLE = "{id: cache-down, type: crash, target: cache}"
HERRING_EXAMPLE = "{id: noisy-cart, kind: log_noise, target: cart, message: 'cache miss storm'}"


def parse_fault(text: str, scenario: Scenario, now: float, taken: set[str]) -> Fault:
    """A validated fault entry starting at ``now``; ``taken`` are the fault ids in use."""
    from sim.scenario.references import check_references

    data = _mapping(text, "fault", FAULT_EXAMPLE)
    data["start"] = now  # injected faults start now, whatever the line says
    try:
        fault = _FAULT.validate_python(data)
    except ValidationError as exc:
        raise InjectError(_errors(exc, "fault")) from None
    if fault.id in taken:
        raise InjectError(f"a fault named {fault.id!r} already exists; pick another id")
    index = len(scenario.faults)
    trial = scenario.model_copy(update={"faults": (*scenario.faults, fault)})
    for path, message in check_references(trial):
        if path[:2] == ("faults", index):
            raise InjectError(f"{render_path(path[2:]) or 'fault'}: {message}")
    return fault


def parse_herring(text: str, scenario: Scenario, taken: set[str]) -> RedHerring:
    """A validated red-herring entry (it starts now); ``taken`` are the ids in use."""
    from sim.scenario.references import check_signals

    data = _mapping(text, "red herring", HERRING_EXAMPLE)
    data.pop("start", None)
    try:
        item = RedHerring.model_validate(data)
    except ValidationError as exc:
        raise InjectError(_errors(exc, "red herring")) from None
    if item.id in taken:
        raise InjectError(f"a red herring named {item.id!r} already exists; pick another id")
    items = scenario.red_herrings.items
    index = len(items)
    herrings = scenario.red_herrings.model_copy(update={"items": (*items, item)})
    trial = scenario.model_copy(update={"red_herrings": herrings})
    for path, message in check_signals(trial):
        if path[:3] == ("red_herrings", "items", index):
            raise InjectError(f"{render_path(path[3:]) or 'red herring'}: {message}")
    return item


__all__ = ["FAULT_EXAMPLE", "HERRING_EXAMPLE", "InjectError", "parse_fault", "parse_herring"]
