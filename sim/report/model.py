"""The post-mortem as data: a small document model of sections and plain-text blocks.

``build_report`` (``sim.report.build``) fills it from a journal; the templates in
``sim/report/templates/`` render it (``sim.report.render``). Every string in the model is
plain text, never markup: the renderers escape it. Item leads and texts may mark literals
with backticks (`` `restart auth` ``); those become code spans.

Each block and inline class names the template macro that renders it in ``kind``
(``Paragraph.kind == "paragraph"``): a new kind of block is a dataclass here and a macro of
that name in ``blocks.md.j2`` and ``blocks.html.j2``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from sim.scoring import Scorecard

# The pictures a report shows, by file name: next to report.md, embedded in report.html.
TIMELINE_PNG = "report-timeline.png"
PHASES_PNG = "report-phases.png"


@dataclass(frozen=True)
class Code:
    """Inline literal text: an id, a version, a statement."""

    kind: ClassVar[str] = "code"
    text: str


@dataclass(frozen=True)
class Badge:
    """A flag on a row; ``tone`` picks its colour: bad, warn, good, info or muted."""

    text: str
    tone: str = "info"


@dataclass(frozen=True)
class Mixed:
    """Text and literals in one cell: ``("restart ", Code("auth"))``."""

    kind: ClassVar[str] = "mixed"
    parts: tuple[str | Code, ...]


Cell = str | Code | Mixed | tuple[Badge, ...]


@dataclass(frozen=True)
class Table:
    kind: ClassVar[str] = "table"
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    numeric: frozenset[int] = frozenset()  # columns aligned right
    caption: str = ""
    css: str = ""  # an extra class for the HTML table


@dataclass(frozen=True)
class Paragraph:
    kind: ClassVar[str] = "paragraph"
    text: str
    lead: str = ""  # bold words before the text


@dataclass(frozen=True)
class Item:
    lead: str
    text: str = ""

    @property
    def joiner(self) -> str:
        """What stands between lead and text: a space after a full sentence, else a dash."""
        return " " if self.lead.endswith(".") else " — "


@dataclass(frozen=True)
class Bullets:
    kind: ClassVar[str] = "bullets"
    items: tuple[Item, ...]
    ordered: bool = False
    tone: str = ""  # "good" / "bad": a coloured marker in HTML


@dataclass(frozen=True)
class CodeBlock:
    kind: ClassVar[str] = "codeblock"
    lines: tuple[str, ...]
    language: str = ""


@dataclass(frozen=True)
class Figure:
    kind: ClassVar[str] = "figure"
    name: str  # file name next to the report, and the key of the embedded image
    alt: str
    caption: str


@dataclass(frozen=True)
class Facts:
    kind: ClassVar[str] = "facts"
    pairs: tuple[tuple[str, Cell], ...]


@dataclass(frozen=True)
class Subheading:
    kind: ClassVar[str] = "subheading"
    text: str


Block = Paragraph | Bullets | Table | CodeBlock | Figure | Facts | Subheading


@dataclass(frozen=True)
class Section:
    title: str
    blocks: tuple[Block, ...]

    @property
    def anchor(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-")


@dataclass(frozen=True)
class Report:
    """The post-mortem as data: title, subtitle and sections of plain-text blocks."""

    title: str
    subtitle: str
    score: float
    sections: tuple[Section, ...]
    scorecard: Scorecard = field(compare=False, repr=False)

    def section(self, title: str) -> Section:
        return next(s for s in self.sections if s.title == title)
