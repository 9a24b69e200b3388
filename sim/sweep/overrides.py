"""Overrides: set fields of a scenario's JSON document by path, then validate it again.

A path walks the document that ``scenario.model_dump(mode="json", by_alias=True)`` gives
(every default spelt out), so any field of a scenario file can be varied:

- ``a.b.c``: mapping keys — ``traffic.arrival_rate``, ``components.db.replicas``;
- ``.N`` or ``[N]``: the N-th item of a list, from 0 — ``faults.0.remedies.rollback_migration``;
- ``[NAME]``: the list item whose ``id``, ``name`` or ``step`` is NAME —
  ``monitors[endpoint-errors].threshold``, ``traffic.funnel[checkout].proceed``; on a mapping,
  the entry NAME (for names with dots: ``components[db.primary].replicas``);
- ``[CALLER->CALLEE]``: the dependency from CALLER to CALLEE —
  ``dependencies[payments->payment-provider].retries.attempts``;
- ``[FIELD=VALUE]``: the list item whose FIELD is VALUE — ``actions[action=restart].at``.

A path must name something that exists, with two exceptions: the last key may add an entry
to a free-form mapping (``faults.0.remedies.restart``, ``scoring.weights.detection``), and a
field that is null may be walked into (``dependencies[payments->db].breaker.min_calls``
creates the breaker, its other fields taking their defaults). ``monitors`` with no monitors
in the file is the default set, spelt out. The result is validated like a file (shape, then
references); every problem is a :class:`SweepError` naming the key, the value and what was
expected.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sim.scenario.errors import PathPart, Problem, render_path
from sim.scenario.messages import allowed_keys, describe, did_you_mean
from sim.sweep.errors import SweepError

if TYPE_CHECKING:
    from sim.scenario.schema import Scenario

IDENTITY = ("id", "name", "step")  # the fields a [NAME] selector matches, in this order
Path = tuple[PathPart, ...]


@dataclass(frozen=True)
class Token:
    """One step of a path: a mapping key (or list index) after a dot, or a ``[selector]``."""

    kind: Literal["key", "select"]
    text: str


def parse_path(key: str) -> tuple[Token, ...]:
    """``"monitors[endpoint-errors].threshold"`` → key ``monitors``, select, key ``threshold``."""
    if not isinstance(key, str) or not key.strip():
        raise SweepError(f"override key {key!r}: expected a dotted path such as paging.group_wait")
    tokens: list[Token] = []
    buf, i, after_bracket = "", 0, False
    while i < len(key):
        c = key[i]
        if c == ".":
            if not buf and not after_bracket:
                raise SweepError(f"override key {key!r}: empty name before the dot at {i + 1}")
            if buf:
                tokens.append(Token("key", buf))
            buf, after_bracket = "", False
            if i == len(key) - 1:
                raise SweepError(f"override key {key!r}: ends with a dot")
        elif c == "[":
            if buf:
                tokens.append(Token("key", buf))
            end = key.find("]", i)
            if end < 0:
                raise SweepError(f"override key {key!r}: '[' at {i + 1} is never closed")
            text = key[i + 1 : end].strip()
            if not text or "[" in text:
                raise SweepError(
                    f"override key {key!r}: expected an index or a name inside [ ], "
                    f"got [{key[i + 1 : end]}]"
                )
            tokens.append(Token("select", text))
            buf, i, after_bracket = "", end, True
        elif c == "]":
            raise SweepError(f"override key {key!r}: ']' at {i + 1} without '['")
        else:
            if after_bracket:
                raise SweepError(f"override key {key!r}: expected '.' or '[' after ']' at {i}")
            buf += c
        i += 1
    if buf:
        tokens.append(Token("key", buf))
    return tuple(tokens)


def render_tokens(tokens: Sequence[Token]) -> str:
    text = ""
    for t in tokens:
        if t.kind == "select":
            text += f"[{t.text}]"
        else:
            text += f".{t.text}" if text else t.text
    return text


def value_text(value: Any) -> str:
    """A value as it would be written in a scenario file: ``5m``, ``0.02``, ``true``, ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _identity(item: Any) -> str | None:
    if isinstance(item, Mapping):
        for field in IDENTITY:
            if isinstance(item.get(field), str):
                return str(item[field])
        if isinstance(item.get("caller"), str) and isinstance(item.get("callee"), str):
            return f"{item['caller']}->{item['callee']}"
    return None


def _matches(item: Any, selector: str) -> bool:
    if not isinstance(item, Mapping):
        return False
    if "->" in selector:
        caller, _, callee = (s.strip() for s in selector.partition("->"))
        return bool(item.get("caller") == caller and item.get("callee") == callee)
    if "=" in selector:
        field, _, wanted = (s.strip() for s in selector.partition("="))
        return field in item and value_text(item[field]) == wanted
    return any(item.get(field) == selector for field in IDENTITY)


class _Walk:
    """Resolves one key's tokens against a document, raising readable errors."""

    def __init__(self, doc: dict[str, Any], key: str) -> None:
        self.doc, self.key, self.tokens = doc, key, parse_path(key)

    def fail(self, i: int, problem: str, fix: str | None = None) -> SweepError:
        hint = ""
        if fix is not None:
            fixed = [*self.tokens[:i], Token(self.tokens[i].kind, fix), *self.tokens[i + 1 :]]
            hint = f"; did you mean {render_tokens(fixed)!r}?"
        return SweepError(f"unknown key {self.key!r}: {problem}{hint}", key=self.key)

    def _close(self, word: str, known: list[str]) -> str | None:
        hint = did_you_mean(word, known)
        return hint.split("'")[1] if hint else None

    def slot(self, node: Any, i: int, path: Path, create: bool) -> PathPart:
        tok, where, last = self.tokens[i], render_path(path), i == len(self.tokens) - 1
        if isinstance(node, dict):
            if tok.text in node:
                return tok.text
            fields = allowed_keys(self.doc, path)
            if create and (tok.text in fields or (last and not fields)):
                # a field of a mapping created from null, or a new entry of a free-form
                # mapping (remedies, weights …)
                return tok.text
            if fields:
                known = fields
                problem = f"{where} has no field {tok.text!r}"
            else:
                known = sorted(str(k) for k in node)
                listing = ", ".join(known) if len(known) <= 12 else f"{len(known)} entries"
                problem = f"{where} has no entry {tok.text!r} (known: {listing or 'none'})"
            raise self.fail(i, problem, self._close(tok.text, known))
        if isinstance(node, list):
            if tok.text.isdigit():
                index = int(tok.text)
                if index >= len(node):
                    raise self.fail(
                        i,
                        f"{where} is a list of {len(node)}; expected an index below {len(node)}",
                    )
                return index
            if tok.kind == "key":
                raise self.fail(
                    i,
                    f"{where} is a list: expected an index ({where}.0) or a selector "
                    f"({where}[NAME], [CALLER->CALLEE] or [FIELD=VALUE])",
                )
            found = [n for n, item in enumerate(node) if _matches(item, tok.text)]
            if len(found) == 1:
                return found[0]
            known = [name for name in map(_identity, node) if name is not None]
            if found:
                raise self.fail(
                    i,
                    f"[{tok.text}] matches {len(found)} items of {where} (at "
                    f"{', '.join(map(str, found))}); use an index or a [FIELD=VALUE] selector",
                )
            listing = ", ".join(known) if len(known) <= 12 else f"{len(known)} items"
            problem = f"{where} has no item [{tok.text}] (known: {listing or 'none'})"
            raise self.fail(i, problem, self._close(tok.text, known))
        raise self.fail(i, f"{where} is {describe(node)}, not a mapping or a list")

    def locate(self, create: bool) -> tuple[Any, PathPart, Path]:
        """The container, the slot in it and the concrete path (indices for selectors)."""
        node: Any = self.doc
        path: Path = ()
        for i in range(len(self.tokens)):
            slot = self.slot(node, i, path, create)
            if i == len(self.tokens) - 1:
                return node, slot, (*path, slot)
            child = node[slot]
            path = (*path, slot)
            if child is None:
                nxt = self.tokens[i + 1]
                if not create or nxt.kind == "select" or nxt.text.isdigit():
                    raise self.fail(i + 1, f"{render_path(path)} is empty (null)")
                child = node[slot] = {}
            node = child
        raise AssertionError("unreachable: a path has at least one token")


def set_value(doc: dict[str, Any], key: str, value: Any) -> Path:
    """Set ``key`` in ``doc`` (in place) to a copy of ``value``; return the concrete path."""
    node, slot, path = _Walk(doc, key).locate(create=True)
    node[slot] = copy.deepcopy(value)
    return path


def get_value(doc: Any, path: Path) -> Any:
    """The value at a concrete path (as returned by :func:`set_value`)."""
    for part in path:
        doc = doc[part]
    return doc


def base_document(scenario: Scenario, keys: Sequence[str]) -> dict[str, Any]:
    """The scenario's JSON document, with the default monitors spelt out when a key needs them."""
    doc: dict[str, Any] = scenario.model_dump(mode="json", by_alias=True)
    if doc.get("monitors") is None and any(
        k.split(".")[0].split("[")[0] == "monitors" for k in keys
    ):
        from sim.telemetry.monitors import default_monitors

        doc["monitors"] = [
            m.model_dump(mode="json", by_alias=True) for m in default_monitors(scenario)
        ]
    return doc


@dataclass(frozen=True)
class Overridden:
    """A validated variant: the scenario, its document and where each key landed."""

    scenario: Scenario
    document: dict[str, Any]
    paths: dict[str, Path]

    def effective(self, key: str) -> Any:
        """The value the validated scenario holds at ``key`` (``5m`` reads back as 300.0)."""
        return get_value(self.document, self.paths[key])


def apply_overrides(
    document: Mapping[str, Any], overrides: Mapping[str, Any], file: str = "<scenario>"
) -> Overridden:
    """A copy of ``document`` with every ``key: value`` of ``overrides`` set, validated.

    Raises :class:`SweepError` for a path that names nothing and for a value the scenario
    schema or its references refuse: ``KEY=VALUE: what was expected``.
    """
    from sim.scenario import ScenarioError
    from sim.scenario.loader import validate_source
    from sim.scenario.yamlsource import Source

    doc = copy.deepcopy(dict(document))
    paths = {key: set_value(doc, key, value) for key, value in overrides.items()}
    try:
        scenario = validate_source(Source(file, doc, {}))
    except ScenarioError as exc:
        raise _explain(exc.problems[0], overrides, paths) from None
    validated: dict[str, Any] = scenario.model_dump(mode="json", by_alias=True)
    return Overridden(scenario, validated, paths)


def _explain(
    problem: Problem, overrides: Mapping[str, Any], paths: Mapping[str, Path]
) -> SweepError:
    """Blame the override whose path is closest to the problem's; else name them all."""

    def shared(path: Path) -> int:
        n = 0
        for a, b in zip(path, problem.path, strict=False):
            if a != b:
                break
            n += 1
        return n

    related = [
        (shared(p), key)
        for key, p in paths.items()
        if shared(p) == min(len(p), len(problem.path)) and shared(p) > 0
    ]
    if related:
        key = max(related)[1]
        where = "" if paths[key] == problem.path else f"{render_path(problem.path)}: "
        return SweepError(f"{key}={value_text(overrides[key])}: {where}{problem.message}", key)
    given = ", ".join(f"{k}={value_text(v)}" for k, v in overrides.items())
    return SweepError(f"with {given}: {render_path(problem.path)}: {problem.message}")
