"""The post-mortem of a run, from a journal to Markdown, HTML and pictures.

``build_report`` (``sim.report.build``) reads the journal and ``sim.scoring.score(journal)``
and lays out a small document model (``sim.report.model``) holding plain text only; the
sections that fill it are ``sim.report.sections``. ``sim.report.render`` renders that one
model through the Jinja templates in ``sim/report/templates/``, so the Markdown and the HTML
say the same thing; both escape every piece of text, because change descriptions, log lines
and evidence are written by other people and may contain markup.

``render_markdown`` is pure. ``render_html`` embeds the two pictures as data URIs: pass their
PNG bytes as ``images``, or leave it out and they are drawn into a temporary folder (the only
file I/O it does). ``write_report`` writes ``report.md``, ``report.html``,
``report-timeline.png`` and ``report-phases.png`` into a folder, each atomically.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.atomic import write_text
from sim.report.build import as_journal, build_report
from sim.report.model import PHASES_PNG, TIMELINE_PNG, Report
from sim.report.render import html_page, markdown, md_escape

if TYPE_CHECKING:
    from sim.journal.record import Journal
    from sim.scoring import Scorecard

__all__ = [
    "PHASES_PNG",
    "REPORT_FILES",
    "REPORT_HTML",
    "REPORT_MD",
    "TIMELINE_PNG",
    "Report",
    "build_report",
    "draw_figures",
    "html_page",
    "markdown",
    "md_escape",
    "render_html",
    "render_markdown",
    "write_report",
]

REPORT_MD = "report.md"
REPORT_HTML = "report.html"
REPORT_FILES = (REPORT_MD, REPORT_HTML, TIMELINE_PNG, PHASES_PNG)


def render_markdown(journal: Journal | Mapping[str, Any]) -> str:
    """The post-mortem as Markdown; the pictures are referenced by file name (``report-*.png``)."""
    return markdown(build_report(journal))


def render_html(
    journal: Journal | Mapping[str, Any], images: Mapping[str, bytes] | None = None
) -> str:
    """The post-mortem as one self-contained HTML page (inline CSS, PNGs as data URIs).

    ``images`` maps the figure file names (``report-timeline.png``, ``report-phases.png``)
    to PNG bytes. Without it the pictures are drawn into a temporary folder, read and
    embedded; the folder is removed. A figure whose bytes are missing is left out.
    """
    report = build_report(journal)
    if images is None:
        with tempfile.TemporaryDirectory(prefix="chaosdrill-report-") as tmp:
            paths = draw_figures(as_journal(journal), Path(tmp), report.scorecard)
            images = {p.name: p.read_bytes() for p in paths}
    return html_page(report, images)


def draw_figures(journal: Journal, out_dir: Path, scorecard: Scorecard | None = None) -> list[Path]:
    """Draw the metrics timeline and the phase chart into ``out_dir`` (atomically)."""
    from sim.report.phases import plot_phases
    from sim.report.timeline import plot_timeline

    return [
        plot_timeline(journal, out_dir / TIMELINE_PNG),
        plot_phases(journal, out_dir / PHASES_PNG, scorecard=scorecard),
    ]


def write_report(
    journal: Journal | Mapping[str, Any], out_dir: Path, *, report: Report | None = None
) -> list[Path]:
    """Write ``report.md``, ``report.html`` and the two pictures into ``out_dir``.

    The journal is scored once (or not at all when its built ``report`` is given) and the
    pictures are drawn once (the HTML embeds the same bytes). Each file is written to a
    temporary name in ``out_dir`` and renamed, so a reader never sees half a file. Returns
    the paths: Markdown, HTML, timeline, phase chart.
    """
    j = as_journal(journal)
    if report is None:
        report = build_report(j)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = draw_figures(j, out_dir, report.scorecard)
    images = {p.name: p.read_bytes() for p in figures}
    md = write_text(out_dir / REPORT_MD, markdown(report))
    page = write_text(out_dir / REPORT_HTML, html_page(report, images))
    return [md, page, *figures]
