"""Shapes of scenario files: what a document is made of, without its values.

Scenarios that differ only in their values (the sampled incidents: one change and the fault it
causes, each on the seed shop) need one run of a test that is about the *kinds* of things a
file says — the bounds cases (tests/test_scenario_limits.py), the flow engine's stored
reference (tests/test_engine_agreement.py) — not one per file.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from sim.scenario.loader import scenario_source

Data = dict[str, Any]


@functools.cache
def merged(path: Path) -> Data:
    """The file's document laid over what it extends (read once per file: 18 cases use it)."""
    data: Data = scenario_source(path.read_text(encoding="utf-8"), str(path))[0].data
    data.pop("extends", None)
    return data


def shape(value: Any) -> Any:
    """What a scenario document is made of, without its values: the keys it sets and the
    kinds of what it sets them to (its ``source:``, name and description left out)."""
    if isinstance(value, dict):
        return {
            k: shape(v)
            for k, v in sorted(value.items())
            if k not in ("source", "name", "description")
        }
    if isinstance(value, list):
        return sorted({json.dumps(shape(v), sort_keys=True) for v in value})
    return type(value).__name__


def one_per_shape(files: list[Path]) -> list[Path]:
    """The first file of each shape: scenarios that differ only in their values are taken
    once (sorted by path)."""
    seen: dict[str, Path] = {}
    for path in files:
        seen.setdefault(json.dumps(shape(merged(path)), sort_keys=True), path)
    return sorted(seen.values())
