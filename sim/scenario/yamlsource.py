"""Safe YAML loading that remembers the line of every key and value."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from sim.scenario.errors import PathPart, Problem


@dataclass
class Source:
    """Parsed YAML data plus the 1-based line of each path (key lines for mapping entries)."""

    file: str
    data: Any
    lines: dict[tuple[PathPart, ...], int] = field(default_factory=dict)

    def line_of(self, path: tuple[PathPart, ...]) -> int:
        """The line of ``path`` or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


class _BadNode(Exception):
    def __init__(self, line: int, path: tuple[PathPart, ...], message: str) -> None:
        self.line, self.path, self.message = line, path, message


def _construct(loader: yaml.SafeLoader, node: yaml.Node, path: tuple[PathPart, ...]) -> Any:
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, OverflowError) as exc:
        raise _BadNode(
            node.start_mark.line + 1, path, f"cannot read {node.value!r}: {exc}"
        ) from None


class _Duplicate(Exception):
    def __init__(self, line: int, path: tuple[PathPart, ...], key: str) -> None:
        self.line, self.path, self.key = line, path, key


def _convert(
    node: yaml.Node,
    path: tuple[PathPart, ...],
    lines: dict[tuple[PathPart, ...], int],
    loader: yaml.SafeLoader,
) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        own: set[Any] = set()  # keys written here; merged-in (<<) keys may be overridden
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                kind = "list" if isinstance(key_node, yaml.SequenceNode) else "mapping"
                raise _BadNode(
                    key_node.start_mark.line + 1,
                    path,
                    f"expected a plain key (a name), got a {kind}",
                )
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = _construct(loader, key_node, path)
            if key in own:
                raise _Duplicate(key_node.start_mark.line + 1, path, str(key))
            own.add(key)
        loader.flatten_mapping(node)  # YAML merge keys (<<): merged pairs first, own ones last
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _construct(loader, key_node, path)
            child = (*path, key)
            lines[child] = key_node.start_mark.line + 1
            result[key] = _convert(value_node, child, lines, loader)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), lines, loader) for i, item in enumerate(node.value)]
    return _construct(loader, node, path)


def read_yaml(text: str, file: str) -> Source:
    """Parse ``text`` safely; raise :class:`Problem`-carrying errors for bad YAML."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        lines: dict[tuple[PathPart, ...], int] = {}
        data = None if node is None else _convert(node, (), lines, loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        reason = exc.problem or exc.context or "malformed YAML"
        raise YamlProblem(Problem(file, line, (), f"invalid YAML: {reason}")) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(Problem(file, 1, (), f"invalid YAML: {exc}")) from None
    except _BadNode as bad:
        raise YamlProblem(Problem(file, bad.line, bad.path, bad.message)) from None
    except _Duplicate as dup:
        raise YamlProblem(
            Problem(
                file, dup.line, dup.path, f"duplicate key {dup.key!r}; each key may appear once"
            )
        ) from None
    finally:
        loader.dispose()
    return Source(file, data, lines)


class YamlProblem(Exception):
    """A YAML-level defect (syntax, duplicate key)."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))
