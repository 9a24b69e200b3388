"""Turn pydantic's validation errors into 'expected …, got …' sentences with a did-you-mean."""

from __future__ import annotations

import difflib
from functools import cache
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from sim.scenario.errors import PathPart, Problem, describe
from sim.scenario.schema import NAME_PATTERN, Scenario
from sim.scenario.yamlsource import Source

_TYPE_WORDS = {
    "int_parsing": "an integer",
    "int_type": "an integer",
    "int_from_float": "a whole number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "float_type": "a number",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "string_type": "a string (quote it if it looks like a number or a date)",
    "dict_type": "a mapping (key: value lines)",
    "model_type": "a mapping (key: value lines)",
    "model_attributes_type": "a mapping (key: value lines)",
    "tuple_type": "a list",
    "list_type": "a list",
    "datetime_parsing": "a date and time such as 2026-03-14T08:00:00Z",
    "datetime_type": "a date and time such as 2026-03-14T08:00:00Z",
    "datetime_from_date_parsing": "a date and time such as 2026-03-14T08:00:00Z",
}
_BOUNDS = {
    "greater_than": ">",
    "greater_than_equal": ">=",
    "less_than": "<",
    "less_than_equal": "<=",
}


@cache
def _schema(root: type[BaseModel] = Scenario) -> dict[str, Any]:
    return root.model_json_schema()


def _resolve(node: dict[str, Any], root: type[BaseModel] = Scenario) -> dict[str, Any]:
    defs = _schema(root).get("$defs", {})
    while "$ref" in node:
        node = defs[node["$ref"].rsplit("/", 1)[-1]]
    return node


def allowed_keys(
    data: Any, path: tuple[PathPart, ...], root: type[BaseModel] = Scenario
) -> list[str]:
    """The keys the schema of ``root`` allows in the mapping at ``path`` of ``data``."""
    node: dict[str, Any] = _resolve(_schema(root), root)
    for part in path:
        node = _pick_variant(node, data, root)
        if isinstance(part, int):
            node = _resolve(node.get("items", {}), root)
            data = data[part] if isinstance(data, list) and part < len(data) else None
        elif "properties" in node and part in node["properties"]:
            node = _resolve(node["properties"][part], root)
            data = data.get(part) if isinstance(data, dict) else None
        elif isinstance(node.get("additionalProperties"), dict):
            node = _resolve(node["additionalProperties"], root)
            data = data.get(part) if isinstance(data, dict) else None
        elif node.get("patternProperties"):
            node = _resolve(next(iter(node["patternProperties"].values())), root)
            data = data.get(part) if isinstance(data, dict) else None
        else:
            return []
    node = _pick_variant(node, data, root)
    return sorted(node.get("properties", {}))


def _pick_variant(
    node: dict[str, Any], data: Any, root: type[BaseModel] = Scenario
) -> dict[str, Any]:
    variants = node.get("oneOf") or node.get("anyOf")
    if not variants:
        return node
    resolved = [_resolve(v, root) for v in variants]
    if isinstance(data, dict):
        for variant in resolved:
            tag = variant.get("properties", {}).get("type", {}).get("const")
            if tag is not None and tag == data.get("type"):
                return variant
    objects = [
        v
        for v in resolved
        if {"properties", "additionalProperties", "patternProperties"} & v.keys()
    ]
    return objects[0] if len(objects) == 1 else node


def did_you_mean(word: str, choices: list[str]) -> str:
    """``"; did you mean 'x'?"`` when a close choice exists, else an empty string."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _has(data: Any, part: PathPart) -> bool:
    if isinstance(data, dict):
        return part in data
    return isinstance(data, list) and isinstance(part, int) and part < len(data)


def _data_path(data: Any, loc: tuple[PathPart, ...]) -> tuple[PathPart, ...]:
    """Drop pydantic's union tags from ``loc`` so the path matches the file."""
    path: list[PathPart] = []
    for part in loc:
        if _has(data, part):
            data = data[part]
            path.append(part)
        elif isinstance(data, dict) and isinstance(part, str) and data.get("type") == part:
            continue  # a discriminated-union tag
        elif isinstance(part, str) and "[" in part:
            continue  # pydantic's name for a union member, e.g. 'function-after[...]'
        else:
            path.append(part)  # a missing or unknown key: still worth naming
            data = None
    return tuple(path)


def _message(
    err: ErrorDetails, source: Source, path: tuple[PathPart, ...], root: type[BaseModel]
) -> str:
    kind = err["type"]
    got = describe(err.get("input"))
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        key = str(path[-1])
        return f"unknown field {key!r}" + did_you_mean(
            key, allowed_keys(source.data, path[:-1], root)
        )
    if kind in _TYPE_WORDS:
        return f"expected {_TYPE_WORDS[kind]}, got {got}"
    if kind in _BOUNDS:
        bound = next(iter(ctx.values()), "?")
        return f"expected a value {_BOUNDS[kind]} {bound}, got {got}"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "")
        hint = did_you_mean(
            str(err.get("input")), [e.strip() for e in expected.replace(" or ", ",").split(",")]
        )
        return f"expected one of {expected}, got {got}{hint}"
    if kind == "union_tag_invalid":
        expected = str(ctx.get("expected_tags", "")).replace("'", "")
        tag = str(ctx.get("tag", ""))
        hint = did_you_mean(tag, [e.strip() for e in expected.split(",")])
        return f"expected type to be one of {expected}, got {tag!r}{hint}"
    if kind == "union_tag_not_found":
        return "required field 'type' is missing (it says which kind of fault this is)"
    if kind in ("too_short", "too_long"):
        bound = ctx.get("min_length", ctx.get("max_length"))
        word = "at least" if kind == "too_short" else "at most"
        actual = ctx.get("actual_length")
        if actual is None:  # pydantic leaves it out for a mapping
            actual = len(err.get("input") or ())
        return f"expected {word} {bound} items, got {actual}"
    if kind == "string_pattern_mismatch":
        pattern = ctx.get("pattern", "")
        if pattern == NAME_PATTERN:
            return f"expected a name of lowercase letters, digits, '.', '-' or '_', got {got}"
        return f"expected text matching {pattern}, got {got}"
    if kind == "value_error":
        text = str(ctx.get("error", err["msg"]))
        return text
    return f"{err['msg'][0].lower()}{err['msg'][1:]}, got {got}"


def problems_from(
    exc: ValidationError, source: Source, root: type[BaseModel] = Scenario
) -> list[Problem]:
    """One :class:`Problem` per pydantic error of a ``root`` document, at its field's line."""
    problems: dict[tuple[int, str], Problem] = {}
    errors = exc.errors()
    locs = [tuple(e["loc"]) for e in errors]
    for err in errors:
        loc = tuple(err["loc"])
        if err["type"] == "too_short" and any(
            o[: len(loc)] == loc and len(o) > len(loc) for o in locs
        ):
            continue  # the failing items are reported; the short count is only their consequence
        path = _data_path(source.data, tuple(err["loc"]))
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            path = (*path, "type")
        # A value_error's message may already name its sub-field ("regions: ...").
        problem = Problem(*source.where(path), path, _message(err, source, path, root))
        problems.setdefault((problem.line, str(problem)), problem)
    return list(problems.values())


__all__ = ["allowed_keys", "describe", "did_you_mean", "problems_from"]
