"""The report templates: every file in sim/report/templates/ is used, and the HTML escapes text."""

from __future__ import annotations

import copy
from importlib import resources
from typing import Any

import pytest
from jinja2 import Environment, PackageLoader

from sim.journal import Journal
from sim.report import render, render_html, render_markdown
from tests.test_report_postmortem import TagChecker

IMAGES = {"report-timeline.png": b"\x89PNGfake", "report-phases.png": b"\x89PNG2"}
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def hostile(seed_journal: Journal) -> Journal:
    """The seed run with markup in a change description, an alert summary and step evidence."""
    data = copy.deepcopy(dict(seed_journal.data))
    mig = next(c for c in data["changes"] if c["id"] == "mig-2041")
    mig["description"] = f"{SCRIPT} drops users.password_hash"
    data["alerts"][0]["summary"] = "<img src=x onerror=alert(1)> login fails"
    data["response"]["steps"][0]["evidence"] = "<b>bold</b> & `not code`"
    return Journal(data)


@pytest.fixture(scope="module")
def page(hostile: Journal) -> TagChecker:
    checker = TagChecker()
    checker.feed(render_html(hostile, images=IMAGES))
    checker.close()
    return checker


def test_every_template_is_used(hostile: Journal, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rendering a report as Markdown and HTML loads every file in the templates folder."""
    loaded: set[str] = set()
    get_source = PackageLoader.get_source

    def recording(self: PackageLoader, environment: Environment, template: str) -> Any:
        loaded.add(template)
        return get_source(self, environment, template)

    monkeypatch.setattr(PackageLoader, "get_source", recording)
    render.environment.cache_clear()  # a new environment: no template compiled yet
    render_markdown(hostile)
    render_html(hostile, images=IMAGES)
    folder = resources.files("sim.report") / "templates"
    assert loaded == {entry.name for entry in folder.iterdir()}


def test_html_shows_markup_from_the_journal_as_text(page: TagChecker) -> None:
    """A <script> in a change description, an <img> in an alert and <b> in evidence stay text."""
    assert page.stack == []
    assert page.problems == []
    assert "script" not in page.counts
    assert "b" not in page.counts
    assert len(page.images) == 2  # the two figures, not the alert's <img>
    text = "".join(page.text)
    assert f"{SCRIPT} drops users.password_hash" in text
    assert "<img src=x onerror=alert(1)> login fails" in text
    assert "<b>bold</b> & `not code`" in text  # backticks in evidence are no code span


def test_html_keeps_its_own_inline_markup(page: TagChecker) -> None:
    """Code spans, badges and bold leads are real elements around escaped text."""
    assert page.counts["code"] > 10
    assert page.counts["strong"] > 5
    assert {"badge bad", "badge good", "badge warn"} <= set(page.classes)


def test_markdown_escapes_markup_from_the_journal(hostile: Journal) -> None:
    """The same texts are backslashed in the Markdown, so they cannot become HTML there."""
    md = render_markdown(hostile)
    assert "<script>" not in md
    assert "\\<script\\>alert(1)\\</script\\>" in md
    assert "\\<b\\>bold\\</b\\> \\& \\`not code\\`" in md
