"""``extends:``: a scenario written as changes to another file (a shop, or another scenario).

The file named by ``extends`` (relative to the file that names it or, if it is not there, to
the shipped catalogue: ``shops/seed-shop.yaml`` works from anywhere) is read, resolved in turn
(chains up to :data:`~sim.scenario.limits.MAX_EXTENDS` long, no loops) and the extending file
is laid over it:

- mappings merge key by key, and a key set to ``null`` is removed;
- lists of mappings that name their items — ``id`` (changes, faults, red herrings, …),
  ``step`` (the funnel), ``caller`` and ``callee`` (dependencies) — merge item by item: an item
  naming one of the base's merges into it, a new one is appended, and an item with
  ``drop: true`` removes the base's;
- every other value, lists included, replaces the base's;
- ``source:`` (the public incident a scenario is modelled on) is the file's own: it is never
  taken from the base, nor merged with it. A file that extends an incident's scenario is
  another scenario: it names its own incident, whole, or none (merged milestones would check
  one incident's figures against another's).

Every value keeps the file and line it was written at, so a problem found after the merge is
reported at ``FILE:LINE`` of whichever file in the chain wrote it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sim.scenario.errors import PathPart, Problem, ScenarioError
from sim.scenario.limits import MAX_EXTENDS
from sim.scenario.shipped import shipped
from sim.scenario.yamlsource import Source, YamlProblem, read_file, read_yaml

Path_ = tuple[PathPart, ...]
KEY = "extends"
DROP = "drop"
# How the items of a list of mappings are named, tried in order: the first whose keys every
# item of both lists has.
IDENTITIES: tuple[tuple[str, ...], ...] = (("id",), ("step",), ("caller", "callee"))
OWN = ("source",)  # top-level keys that belong to one file: neither inherited nor merged


def resolve(source: Source, seen: tuple[str, ...] = ()) -> tuple[Source, list[bytes]]:
    """``source`` laid over the chain of files it extends, and the bytes of those files
    (nearest first; empty when it extends nothing)."""
    data = source.data
    if not isinstance(data, dict) or data.get(KEY) is None:  # `extends: null`: nothing
        return source, []
    here = (KEY,)

    def problem(message: str) -> ScenarioError:
        return ScenarioError([Problem(*source.where(here), here, message)])

    ref = data[KEY]
    if not isinstance(ref, str) or not ref.strip():
        raise problem(
            f"expected the path of the file this scenario builds on (relative to this file, "
            f"e.g. shops/seed-shop.yaml), got {type(ref).__name__} {ref!r}"
        )
    base_file = _find(ref, Path(source.file).parent if source.file != "<string>" else Path())
    chain = (*seen, os.path.realpath(source.file))
    if os.path.realpath(base_file) in chain:
        raise problem(f"extends {ref} is a loop: {ref} extends, in the end, this file")
    if len(chain) > MAX_EXTENDS:
        raise problem(f"expected a chain of at most {MAX_EXTENDS} files extending one another")
    try:
        text, raw = read_file(base_file)
    except ScenarioError as exc:
        reason = exc.problems[0].message
        raise problem(f"cannot use {base_file}: {reason}") from None
    try:
        base = read_yaml(text, base_file)
    except YamlProblem as exc:
        raise ScenarioError([exc.problem]) from None
    base, raws = resolve(base, chain)
    if not isinstance(base.data, dict):
        got = "an empty file" if base.data is None else type(base.data).__name__
        raise problem(f"expected {base_file} to hold a mapping of scenario fields, got {got}")
    merged = Source(source.file, None)
    # the base's own keys are left behind; the file's, not in what it is laid over, stay whole
    inherited = {k: v for k, v in base.data.items() if k not in OWN}
    merged.data = _merge(base, inherited, (), source, data, (), merged, ())
    return merged, [raw, *raws]


def _find(ref: str, folder: Path) -> str:
    """``ref`` relative to ``folder`` if it is there, else in the shipped catalogue if it is
    there (a copy of a shipped scenario, or a team's own, can extend a shipped shop)."""
    here = os.path.normpath(folder / ref)
    if not os.path.exists(here):
        catalogue = shipped()
        # os.path.isfile, not Path.is_file: a name too long for the file system is "not
        # there" (the read that follows says so), not an OSError
        if catalogue is not None and os.path.isfile(catalogue / ref):
            return str(catalogue / ref)
    return here


def _adopt(src: Source, value: Any, at: Path_, out: Source, to: Path_) -> Any:
    """Take ``value`` (``src``'s at ``at``) whole into ``out`` at ``to``, with its lines."""
    if at in src.lines:
        out.lines[to] = src.lines[at]
        file = src.files.get(at, src.file)
        if file != out.file:
            out.files[to] = file
    if isinstance(value, dict):
        for key, item in value.items():
            _adopt(src, item, (*at, key), out, (*to, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _adopt(src, item, (*at, index), out, (*to, index))
    return value


def _merge(
    base: Source, b: Any, b_at: Path_, child: Source, c: Any, c_at: Path_, out: Source, to: Path_
) -> Any:
    """``c`` (the child's at ``c_at``) laid over ``b`` (the base's at ``b_at``), into ``out``."""
    if isinstance(b, dict) and isinstance(c, dict):
        _adopt(child, None, c_at, out, to)  # the mapping's own line: where the child wrote it
        merged: dict[Any, Any] = {}
        for key, value in b.items():  # the base's keys keep their order
            if key not in c:
                merged[key] = _adopt(base, value, (*b_at, key), out, (*to, key))
            elif c[key] is not None:  # null removes the base's key
                merged[key] = _merge(
                    base, value, (*b_at, key), child, c[key], (*c_at, key), out, (*to, key)
                )
        for key, value in c.items():
            if key not in b and value is not None:
                merged[key] = _adopt(child, value, (*c_at, key), out, (*to, key))
        return merged
    identity = _identity(b, c)
    if identity is None:
        return _adopt(child, c, c_at, out, to)
    _adopt(child, None, c_at, out, to)
    names = {tuple(item[k] for k in identity): i for i, item in enumerate(b)}
    overrides = {tuple(item[k] for k in identity): (j, item) for j, item in enumerate(c)}
    result: list[Any] = []
    for i, item in enumerate(b):
        name = tuple(item[k] for k in identity)
        if name not in overrides:
            result.append(_adopt(base, item, (*b_at, i), out, (*to, len(result))))
            continue
        j, over = overrides[name]
        if over.get(DROP) is True:
            continue
        result.append(
            _merge(base, item, (*b_at, i), child, over, (*c_at, j), out, (*to, len(result)))
        )
    for j, over in enumerate(c):
        if tuple(over[k] for k in identity) in names:
            continue
        if over.get(DROP) is True:
            here = (*c_at, j, DROP)
            named = ", ".join(f"{k} {over[k]}" for k in identity)
            raise ScenarioError(
                [Problem(*child.where(here), here, f"nothing in the base has {named} to drop")]
            )
        result.append(_adopt(child, over, (*c_at, j), out, (*to, len(result))))
    return result


def _identity(b: Any, c: Any) -> tuple[str, ...] | None:
    """The keys naming the items of two lists of mappings, if every item has them."""
    if not (isinstance(b, list) and isinstance(c, list)):
        return None
    items = [*b, *c]
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    for keys in IDENTITIES:
        if all(all(k in item and _hashable(item[k]) for k in keys) for item in items):
            return keys
    return None


def _hashable(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)
