"""The report model as text: the Jinja environment, its filters, and the Markdown and HTML pages.

The templates live in ``sim/report/templates/``: ``report.md.j2`` and ``report.html.j2`` lay
out the page, ``blocks.md.j2`` and ``blocks.html.j2`` hold one macro per kind of block
(named after ``Block.kind``) and the inline pieces (cells, code spans, badges), and
``report.css`` is the page's style sheet, inlined by the HTML template.

HTML templates (``*.html.j2``) are autoescaped: every piece of report text is escaped, and the
only markup is the templates' own. Markdown templates escape text with the ``md_escape``
filter, which backslashes what Markdown would take for markup. Jinja2 loads on the first render.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import TYPE_CHECKING

from sim.report.model import Code, Report

if TYPE_CHECKING:
    from jinja2 import Environment

MARKDOWN_TEMPLATE = "report.md.j2"
HTML_TEMPLATE = "report.html.j2"

_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|&])")
_MD_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_BACKTICKS = re.compile(r"`+")
_CODE_SPAN = re.compile(r"(`[^`]+`)")


def md_escape(text: str, line_start: bool = True) -> str:
    """Text for Markdown: punctuation that would become markup (or HTML) is backslashed.

    With ``line_start``, the text may begin a line: a leading ``#``, ``-``, ``+`` or ``1.``
    is escaped too, so it cannot become a heading or a list.
    """
    text = " ".join(str(text).split("\n"))
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _MD_UNDERSCORE.sub(r"\\_", text)
    if not line_start:
        return text
    # what would start a heading or a list: "# …", "- …", "+ …", "1. …"
    return re.sub(r"^(\d*)([#+.)-])(?=[\s#]|$)", r"\1\\\2", text)


def md_code(text: str) -> str:
    """A Markdown code span, fenced with one backtick more than the text's longest run."""
    text = " ".join(text.split("\n"))
    ticks = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (ticks + 1)
    pad = " " if ticks else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_fence(lines: Iterable[str]) -> str:
    """The fence of a Markdown code block: at least three backticks, more than any run inside."""
    longest = max((len(m) for line in lines for m in _BACKTICKS.findall(line)), default=0)
    return "`" * max(3, longest + 1)


def code_spans(text: str) -> list[str | Code]:
    """Text cut into plain parts and the `backticked` literals between them (as ``Code``)."""
    return [
        Code(part[1:-1]) if part.startswith("`") and part.endswith("`") and len(part) > 1 else part
        for part in _CODE_SPAN.split(text)
    ]


@cache
def environment() -> Environment:
    """The Jinja environment of the report templates (autoescaping the ``*.html.j2`` ones)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("sim.report", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        md_escape=md_escape, md_code=md_code, md_fence=md_fence, code_spans=code_spans
    )
    return env


def markdown(report: Report) -> str:
    """Render a built report as Markdown (GitHub-flavoured tables).

    The text ends in one newline, with no trailing blanks (journal text may end in some).
    """
    return environment().get_template(MARKDOWN_TEMPLATE).render(report=report).rstrip() + "\n"


def html_page(report: Report, images: Mapping[str, bytes]) -> str:
    """Render a built report as HTML, embedding ``images`` (file name → PNG bytes).

    A figure whose file name is missing from ``images`` is left out.
    """
    sources = {
        name: "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        for name, data in images.items()
    }
    return environment().get_template(HTML_TEMPLATE).render(report=report, images=sources)
