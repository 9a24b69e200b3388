"""Overrides of a scenario's fields by dotted path (``"paging.ack_delay.mean": "20m"``), set
in its document before it is validated again.

Unlike a sweep's overrides (:mod:`sim.sweep.overrides`), a path may create what is missing:
mappings along the way are made, so a test can add a field the file leaves out.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.scenario.errors import PathPart
    from sim.scenario.schema import Scenario


def apply_overrides(document: Any, overrides: Mapping[Any, Any]) -> Any:
    """A copy of a scenario document with each ``"a.b.c": value`` (or tuple path) set.

    Mappings along the way are created when missing; a digit names a list item
    (``"monitors.0.for"``). The result is validated like a file, so an unknown key or a
    bad value is reported as usual.
    """
    doc = copy.deepcopy(document)
    for dotted, value in overrides.items():
        parts: list[Any] = dotted.split(".") if isinstance(dotted, str) else list(dotted)
        if not parts or any(p == "" for p in parts):
            raise ValueError(
                f"override {dotted!r}: expected a dotted path such as paging.ack_delay"
            )
        node = doc
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            where = ".".join(map(str, parts[:i])) or "the scenario"
            if isinstance(node, list):
                if not str(part).isdigit() or int(part) >= len(node):
                    raise ValueError(
                        f"override {dotted!r}: {where} is a list of {len(node)}; "
                        f"expected an index below {len(node)}, got {part!r}"
                    )
                index = int(part)
                if last:
                    node[index] = copy.deepcopy(value)
                else:
                    node = node[index]
            elif isinstance(node, dict):
                if last:
                    node[part] = copy.deepcopy(value)
                else:
                    if node.get(part) is None:
                        node[part] = {}
                    node = node[part]
            else:
                raise ValueError(f"override {dotted!r}: {where} is {node!r}, not a mapping")
    return doc


def overridden(
    scenario: Scenario,
    overrides: Mapping[Any, Any],
    file: str = "<scenario object>",
    lines: dict[tuple[PathPart, ...], int] | None = None,
) -> Scenario:
    """``scenario`` with ``overrides`` set in its full document (defaults spelt out, so
    ``paging.ack_delay.mean`` changes only the mean), validated again; problems are reported
    at ``file`` and the ``lines`` of the document it came from. Raises ScenarioError."""
    from sim.scenario.loader import validate_source
    from sim.scenario.yamlsource import Source

    document = apply_overrides(scenario.model_dump(mode="json", by_alias=True), overrides)
    return validate_source(Source(file, document, {} if lines is None else lines))


def overrides_key(overrides: Mapping[Any, Any] | None) -> str:
    """The overrides as text that tells apart two sets of them (``""`` for none)."""
    if not overrides:
        return ""
    import json

    return json.dumps({str(k): v for k, v in overrides.items()}, sort_keys=True, default=str)
