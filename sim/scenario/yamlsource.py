"""Safe YAML loading that remembers the line of every key and value.

Within the limits of :mod:`sim.scenario.limits`: the text is at most ``MAX_FILE_BYTES``; lists
and mappings nest at most ``MAX_NESTING`` levels and the document holds at most
``MAX_VALUES`` keys, values and items, aliases expanded. Both are counted while the document
is composed, before anything is expanded, so an alias bomb is refused after a few
milliseconds. Only the YAML core schema's tags may be written (timestamps and merge keys are
read as YAML 1.1 does, without a tag).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.parser import Parser
from yaml.reader import Reader, ReaderError
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from sim.scenario.errors import PathPart, Problem, ScenarioError, escape
from sim.scenario.limits import MAX_FILE_BYTES, MAX_NESTING, MAX_VALUES

_CORE = "tag:yaml.org,2002:"
_MERGE = _CORE + "merge"
# The tags a file may write, by the kind of node they mark.
_WRITABLE: dict[type[yaml.Node], frozenset[str]] = {
    yaml.ScalarNode: frozenset(_CORE + t for t in ("str", "int", "float", "bool", "null")),
    yaml.SequenceNode: frozenset({_CORE + "seq"}),
    yaml.MappingNode: frozenset({_CORE + "map"}),
}
_KIND = {yaml.ScalarNode: "value", yaml.SequenceNode: "list", yaml.MappingNode: "mapping"}


@dataclass
class Source:
    """Parsed YAML data plus the 1-based line of each path (key lines for mapping entries),
    and, for a document merged from several files (``extends:``), the file of each path that
    another file wrote."""

    file: str
    data: Any
    lines: dict[tuple[PathPart, ...], int] = field(default_factory=dict)
    files: dict[tuple[PathPart, ...], str] = field(default_factory=dict)

    def line_of(self, path: tuple[PathPart, ...]) -> int:
        """The line of ``path`` or of its nearest ancestor that has one."""
        return self.where(path)[1]

    def where(self, path: tuple[PathPart, ...]) -> tuple[str, int]:
        """The file and line of ``path`` or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.files.get(path, self.file), self.lines[path]
            path = path[:-1]
        return self.file, self.lines.get((), 1)


class YamlProblem(Exception):
    """A YAML-level defect (syntax, duplicate key, a limit of the reader)."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))


def too_large(file: str) -> Problem:
    """The problem of a file or text over :data:`MAX_FILE_BYTES`."""
    return Problem(
        file, 1, (), f"expected at most {MAX_FILE_BYTES:,} bytes (1 MiB) of YAML, got more"
    )


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


def read_yaml(text: str, file: str) -> Source:
    """Parse ``text`` safely; raise :class:`YamlProblem` for bad YAML or a limit passed."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise YamlProblem(too_large(file))
    try:
        data, lines = _parse(text)
    except ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise YamlProblem(
            Problem(
                file,
                line,
                (),
                f"expected printable text, got the unprintable character U+{code:04X} "
                f'(write it as "{escape(chr(code))}", in double quotes)',
            )
        ) from None
    except yaml.MarkedYAMLError as exc:
        line = _line(exc.problem_mark or exc.context_mark)
        reason = exc.problem or exc.context or "malformed YAML"
        raise YamlProblem(Problem(file, line, (), f"invalid YAML: {reason}")) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(Problem(file, 1, (), f"invalid YAML: {exc}")) from None
    except _BadNode as bad:
        raise YamlProblem(Problem(file, bad.line, bad.path, bad.message)) from None
    return Source(file, data, lines)


# Text for PyYAML alone: what its reader refuses, and what libyaml reads otherwise — tabs
# (libyaml takes them inside plain values), a byte-order mark (skipped anywhere), tags (an
# empty `!` value is "" to one and null to the other), document markers and directives (other
# lines for empty documents) and a comment stuck to a block scalar's header (libyaml takes it).
# tests/test_scenario_fuzz.py checks the two agree on fuzzed texts (100 examples a run; 5,000
# when these exclusions were found).
_PURE_ONLY = re.compile(
    Reader.NON_PRINTABLE.pattern + r"|[\t\ufeff!]|^(?:---|\.\.\.|%)|[|>][-+0-9]*#",
    re.MULTILINE,
)


def _parse(text: str) -> tuple[Any, dict[tuple[PathPart, ...], int]]:
    """Parsed with libyaml when it is there and the text is printable and has none of the
    characters libyaml reads differently; anything that fast path refuses is parsed again in
    pure Python, whose errors are the ones reported (and the same on every machine)."""
    if _FastLoader is not None and not _PURE_ONLY.search(text):
        try:
            return _compose(_FastLoader(text))
        except (yaml.YAMLError, _BadNode):
            pass
    return _compose(_Loader(text))


def _compose(loader: _Counting) -> tuple[Any, dict[tuple[PathPart, ...], int]]:
    try:
        node = loader.get_single_node()
        lines: dict[tuple[PathPart, ...], int] = {}
        data = None if node is None else _Converter(loader, lines).convert(node, ())
        return data, lines
    finally:
        loader.dispose()


class _BadNode(Exception):
    def __init__(self, line: int, path: tuple[PathPart, ...], message: str) -> None:
        self.line, self.path, self.message = line, path, message


class _Mark(Protocol):
    line: int  # 0-based


def _line(mark: _Mark | None) -> int:
    return 1 if mark is None else mark.line + 1


def _too_deep(line: int, path: tuple[PathPart, ...]) -> _BadNode:
    return _BadNode(line, path, f"expected lists and mappings nested at most {MAX_NESTING} deep")


class _Counting(Composer, SafeConstructor, Resolver):
    """Composing that counts: nesting, values with aliases expanded (an alias counts the
    values of what it names), and the tags written explicitly. The parser under it is
    PyYAML's (:class:`_Loader`) or libyaml's (:class:`_FastLoader`)."""

    if TYPE_CHECKING:  # what the parser under it provides

        def __init__(self, text: str) -> None: ...
        def peek_event(self) -> yaml.Event: ...
        def dispose(self) -> None: ...

    def _start(self) -> None:
        self.depth = 0
        self.values = 0
        self.expanded: dict[int, int] = {}  # id of an anchored node → its values, expanded
        self.tags: dict[int, str] = {}  # id of a node → the tag written on it

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()
        line = _line(event.start_mark)
        if isinstance(event, yaml.AliasEvent):
            node = super().compose_node(parent, index)  # refuses an undefined alias
            if id(node) not in self.expanded:
                raise _BadNode(
                    line,
                    (),
                    f"alias *{event.anchor} is used inside the node it names (a recursive "
                    f"alias); a document must be finite",
                )
            self._count(self.expanded[id(node)], line)
            return node
        if self.depth >= MAX_NESTING:
            raise _too_deep(line, ())
        self.depth += 1
        before = self.values
        self._count(1, line)
        node = super().compose_node(parent, index)
        self.depth -= 1
        if node is not None and getattr(event, "tag", None) not in (None, "!"):
            self.tags[id(node)] = node.tag
        if getattr(event, "anchor", None) is not None:
            self.expanded[id(node)] = self.values - before
        return node

    def _count(self, values: int, line: int) -> None:
        self.values += values
        if self.values > MAX_VALUES:
            raise _BadNode(
                line,
                (),
                f"expected at most {MAX_VALUES:,} keys, values and items, aliases expanded, "
                f"got more by this line",
            )

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        """YAML merge keys, leaving one pair per key (the one that wins, where the key first
        appeared): a mapping reached again through an alias holds no repeated key."""
        super().flatten_mapping(node)
        first: dict[tuple[str, Any], int] = {}
        pairs: list[tuple[yaml.Node, yaml.Node]] = []
        for key, value in node.value:
            ident = (key.tag, key.value if isinstance(key, yaml.ScalarNode) else id(key))
            if ident in first:
                pairs[first[ident]] = (key, value)
            else:
                first[ident] = len(pairs)
                pairs.append((key, value))
        node.value = pairs


# Plain `=` is a string, as in YAML 1.2 (YAML 1.1's "value" tag has no safe constructor).
_Counting.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _CORE + "value"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _Loader(Reader, Scanner, Parser, _Counting):
    """PyYAML's own reader, scanner and parser: the reference, and every error's wording."""

    def __init__(self, text: str) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self._start()


_FastLoader: type[_Counting] | None = None
_CParser: Any
try:  # PyYAML built with libyaml (its wheels are)
    from yaml import cyaml

    _CParser = getattr(cyaml, "CParser", None)
except ImportError:  # pragma: no cover - a source build without libyaml
    _CParser = None
if _CParser is not None:

    class _CLoader(_CParser, _Counting):  # type: ignore[misc]
        """libyaml's scanner and parser (about 15 times faster) under the same counting
        composer: the events are the same, so are the limits, lines and data."""

        # libyaml's own composer would bypass the counting one
        get_single_node = Composer.get_single_node
        get_node = Composer.get_node
        check_node = Composer.check_node

        def __init__(self, text: str) -> None:
            _CParser.__init__(self, text)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self._start()

    _FastLoader = _CLoader


class _Converter:
    """Composed nodes → plain data, recording the line of every path."""

    def __init__(self, loader: _Counting, lines: dict[tuple[PathPart, ...], int]) -> None:
        self.loader, self.lines = loader, lines

    def convert(self, node: yaml.Node, path: tuple[PathPart, ...]) -> Any:
        if len(path) >= MAX_NESTING:  # aliases can nest what they name deeper than it was
            raise _too_deep(_line(node.start_mark), path)
        self._check_tag(node, path)
        self.lines.setdefault(path, _line(node.start_mark))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _mapping(self, node: yaml.MappingNode, path: tuple[PathPart, ...]) -> dict[Any, Any]:
        own: set[Any] = set()  # keys written here; merged-in (<<) keys may be overridden
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                continue
            key = self._key(key_node, path)
            if key in own:
                raise _BadNode(
                    _line(key_node.start_mark),
                    path,
                    f"duplicate key {str(key)!r}; each key may appear once",
                )
            own.add(key)
        self.loader.flatten_mapping(node)  # YAML merge keys (<<): merged pairs first, own last
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node, path)
            child = (*path, key)
            self.lines[child] = _line(key_node.start_mark)
            result[key] = self.convert(value_node, child)
        return result

    def _key(self, node: yaml.Node, path: tuple[PathPart, ...]) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise _BadNode(
                _line(node.start_mark),
                path,
                f"expected a plain key (a name), got a {_KIND[type(node)]}",
            )
        self._check_tag(node, path)
        return self._scalar(node, path)

    def _check_tag(self, node: yaml.Node, path: tuple[PathPart, ...]) -> None:
        tag = self.loader.tags.get(id(node))
        if tag is not None and tag not in _WRITABLE[type(node)]:
            short = tag.replace(_CORE, "!!", 1)
            raise _BadNode(
                _line(node.start_mark),
                path,
                f"expected plain YAML, got the tag {short!r} on a {_KIND[type(node)]} (only the "
                f"core schema's !!str, !!int, !!float, !!bool, !!null, !!seq and !!map may be "
                f"written)",
            )

    def _scalar(self, node: yaml.Node, path: tuple[PathPart, ...]) -> Any:
        try:
            return self.loader.construct_object(node)
        except (ValueError, OverflowError, KeyError) as exc:  # KeyError: `!!bool maybe`
            reason = f"not a {node.tag.replace(_CORE, '')}" if isinstance(exc, KeyError) else exc
            raise _BadNode(
                _line(node.start_mark), path, f"cannot read {node.value!r}: {reason}"
            ) from None
