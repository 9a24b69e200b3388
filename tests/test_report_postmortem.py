"""The post-mortem report: Markdown and HTML from a journal, its rules, and `chaosdrill report`.

The journals are real seed-7 runs of the seed scenario with a hand-written ``response`` (the
responder chases the ISP blip and the LB change, restarts auth and rolls back its deploy —
both wrong — then diagnoses and rolls back the migration) and ``counterfactuals`` section,
as the responder framework writes them.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

import pytest

import sim
from sim.journal import Journal
from sim.report import render_html, render_markdown, write_report
from sim.scenario import Scenario
from tests.conftest import ROOT

UNRESOLVED_HORIZON = 3000.0  # the fault starts at 2400 s and is rolled back at 4800 s


def step(
    i: int,
    t: float,
    end: float,
    call: str,
    kind: str,
    evidence: str,
    *,
    target: str | None = None,
    lead: str | None = None,
    herring: str | None = None,
    remedied: tuple[str, ...] = (),
    ok: bool = True,
    harmful: bool = False,
    harm: str | None = None,
) -> dict[str, Any]:
    return {
        "i": i,
        "t": t,
        "end": end,
        "call": call,
        "kind": kind,
        "target": target,
        "ok": ok,
        "evidence": evidence,
        "lead": lead,
        "herring": herring,
        "remedied": list(remedied),
        "harmful": harmful,
        "harm": harm,
    }


STEPS = [
    step(
        0,
        2670,
        2700,
        "status",
        "observe",
        "3 critical alerts: login, checkout and pay fail 100 % of requests",
    ),
    step(
        1,
        2700,
        2760,
        "changes",
        "observe",
        "4 changes in the last hour: chg-lb-412, notice-isp-0314, dep-auth-3.8.0, mig-2041",
    ),
    step(
        2,
        2760,
        2880,
        "logs",
        "observe",
        "db ERROR: column users.password_hash does not exist; auth WARN rate-limit headers",
        lead="component:auth",
    ),
    step(
        3,
        2880,
        3120,
        "net",
        "observe",
        "transit p95 +100 ms from 08:20 to 08:26; no packet loss",
        target="isp",
        lead="network",
        herring="isp-latency-blip",
    ),
    step(
        4,
        3120,
        3300,
        "lb",
        "observe",
        "LB config changed at 08:12 (idle timeout, health path); all backends healthy",
        target="lb",
        lead="lb",
        herring="lb-config-change",
    ),
    step(
        5,
        3300,
        3390,
        "restart",
        "act",
        "rolling restart of auth: 3 instances; errors unchanged",
        target="auth",
        lead="component:auth",
    ),
    step(
        6,
        3720,
        4020,
        "rollback",
        "act",
        "auth rolled back to 3.7.2; errors unchanged",
        target="dep-auth-3.8.0",
        lead="change:dep-auth-3.8.0",
    ),
    step(
        7,
        4680,
        4700,
        "diagnose",
        "declare",
        "cause: mig-2041 dropped users.password_hash and renamed orders.total_cents",
        target="mig-2041",
        lead="change:mig-2041",
    ),
    step(
        8,
        4800,
        5160,
        "rollback",
        "act",
        "mig-2041 rolled back; login and checkout recover",
        target="mig-2041",
        lead="change:mig-2041",
        remedied=("users-orders-schema-break",),
    ),
    step(
        9,
        5170,
        5190,
        "notify",
        "communicate",
        "status page: logins and checkouts failed 08:40 to 09:26, fixed",
    ),
    step(
        10,
        5190,
        5220,
        "update",
        "communicate",
        "stakeholders told: 46 minutes of failed logins and checkouts",
    ),
    step(11, 5230, 5230, "mitigated", "declare", "errors back under the SLO threshold"),
    step(12, 5460, 5460, "resolved", "declare", "all alerts resolved, incident closed"),
]


def with_response(
    data: dict[str, Any], steps: list[dict[str, Any]] | None = None, **response: Any
) -> dict[str, Any]:
    """A copy of a journal's data with the response and counterfactual sections added."""
    out = copy.deepcopy(data)
    steps = copy.deepcopy(STEPS if steps is None else steps)
    for f in out["summary"]["faults"]:
        f.setdefault("start", 2400.0)
        f.setdefault("targets", ["mig-2041", "db"])
        f.setdefault("remedies", {"rollback_migration": 360.0})
    out["summary"].setdefault("error_threshold", 0.05)
    out["summary"].setdefault("slo", {"objective": 0.999, "window": 2592000.0})
    diagnosis = next(
        (
            {"at": s["t"], "cause": s["target"], "step": s["i"]}
            for s in steps
            if s["call"] == "diagnose"
        ),
        None,
    )
    calls = {s["call"]: s["t"] for s in reversed(steps)}
    out["response"] = {
        "responder": "seed",
        "description": "the scripted drill responder of the seed scenario",
        "started_at": 2662.903442,
        "steps": steps,
        "diagnosis": diagnosis,
        "notified_at": calls.get("notify"),
        "stakeholders_at": calls.get("update"),
        "mitigated_at": calls.get("mitigated"),
        "resolved_at": calls.get("resolved"),
        **response,
    }
    out["counterfactuals"] = {
        "none": {
            "responder": "none",
            "seed": out["seed"],
            "mitigated_at": None,
            "resolved_at": None,
            "errors_stopped": None,
            "lost_revenue": 541234.5,
            "failed_checkouts": 290,
            "failed_requests": 21030,
        },
        "oracle": {
            "responder": "oracle",
            "seed": out["seed"],
            "mitigated_at": 3180.0,
            "resolved_at": 3480.0,
            "errors_stopped": 3150.0,
            "lost_revenue": 88120.0,
            "failed_checkouts": 47,
            "failed_requests": 3410,
        },
    }
    out["scoring"] = {
        "weights": {
            "detection": 15,
            "mitigation": 25,
            "resolution": 20,
            "impact": 20,
            "conduct": 20,
        }
    }
    return out


@pytest.fixture(scope="module")
def drill(seed_journal: Journal) -> Journal:
    data = with_response(dict(seed_journal.data))
    mig = next(c for c in data["changes"] if c["id"] == "mig-2041")
    mig["description"] += " <script>alert('x')</script> & more"
    return Journal(data)


@pytest.fixture(scope="module")
def unresolved(seed_scenario: Scenario) -> Journal:
    """A run that ends before the rollback: the fault never ends."""
    journal = sim.run(seed_scenario, seed=7, horizon=UNRESOLVED_HORIZON)
    early = [s for s in STEPS if s["end"] <= UNRESOLVED_HORIZON]
    return Journal(with_response(dict(journal.data), early))


@pytest.fixture(scope="module")
def markdown(drill: Journal) -> str:
    return render_markdown(drill)


@pytest.fixture(scope="module")
def page(drill: Journal) -> str:
    return render_html(
        drill, images={"report-timeline.png": b"\x89PNGfake", "report-phases.png": b"\x89PNG2"}
    )


def test_markdown_has_every_step_and_the_numbers(markdown: str, drill: Journal) -> None:
    """Every step's evidence, the lost revenue with its currency and the score are in the report."""
    for s in drill.data["response"]["steps"]:
        assert s["evidence"] in markdown, s["evidence"]
    lost = f"{drill.summary['lost_revenue']:,.0f} {drill.data['currency']}"
    assert lost in markdown
    assert f"{drill.summary['failed_requests']:,}" in markdown
    for section in (
        "Impact",
        "Scorecard",
        "Counterfactuals",
        "Timeline",
        "Root cause",
        "Detection",
        "Action items",
    ):
        assert f"## {section}" in markdown
    assert "](report-timeline.png)" in markdown
    assert "](report-phases.png)" in markdown
    assert "red herring: isp-latency-blip" in markdown
    assert "ALTER TABLE users DROP COLUMN password\\_hash;" not in markdown  # code stays verbatim
    assert "ALTER TABLE users DROP COLUMN password_hash;" in markdown


def test_timeline_is_in_time_order(markdown: str) -> None:
    """The timeline table's rows are sorted by clock time."""
    table = markdown.split("## Timeline", 1)[1].split("## Root cause", 1)[0]
    times = [line.split("|")[1].strip() for line in table.splitlines() if line.startswith("| 0")]
    assert len(times) > 20
    assert times == sorted(times)


def test_flags_and_lessons(markdown: str) -> None:
    """Wrong actions, herrings and the remedy are flagged; lessons name the herring minutes."""
    assert "**wrong**" in markdown
    assert "**remedied: users-orders-schema-break**" in markdown
    did_not = markdown.split("## What did not go well", 1)[1].split("## Action items", 1)[0]
    assert "Red herrings chased" in did_not
    assert "isp-latency-blip" in did_not
    assert "Actions that did not help" in did_not
    went_well = markdown.split("## What went well", 1)[1].split("## What did not", 1)[0]
    assert "Right diagnosis" in went_well


def test_action_items_from_the_run(markdown: str, seed_journal: Journal) -> None:
    """A migration fault gives expand/contract and a CI check; herrings give the change-feed item,
    a run without herrings does not."""
    items = markdown.split("## Action items", 1)[1]
    assert "expand/contract" in items
    assert "migration compatibility check in CI" in items
    assert "benign changes and maintenance notices in the change feed" in items
    clean = [s for s in STEPS if not s["herring"]]
    other = render_markdown(with_response(dict(seed_journal.data), clean))
    assert "change feed" not in other.split("## Action items", 1)[1]
    assert "Red herrings chased" not in other
    assert "expand/contract" in other


def test_unresolved_run_says_unresolved(unresolved: Journal) -> None:
    """A fault that never ended shows "unresolved" — in the scorecard and the items — never 0."""
    md = render_markdown(unresolved)
    scorecard = md.split("### Phases", 1)[1].split("### Parts", 1)[0]
    rows = {
        line.split("|")[1].strip(): line for line in scorecard.splitlines() if line.startswith("| ")
    }
    assert "unresolved" in rows["mitigation"]
    assert "unresolved" in rows["resolution"]
    assert "| 0s |" not in rows["resolution"]
    assert "still active when the drill ended" in md
    assert "Finish remediating users-orders-schema-break" in md


def test_html_is_well_formed_with_tables_and_images(page: str) -> None:
    """Balanced tags, the tables, and both pictures embedded as data URIs."""
    checker = TagChecker()
    checker.feed(page)
    checker.close()
    assert checker.stack == [], checker.stack
    assert checker.problems == []
    assert checker.counts["table"] >= 6
    images = [src for src in checker.images if src.startswith("data:image/png;base64,")]
    assert len(images) == 2
    assert page.startswith("<!DOCTYPE html>")


def test_html_escapes_journal_text(page: str, markdown: str, drill: Journal) -> None:
    """A <script> in a change description stays text in both renderings."""
    checker = TagChecker()
    checker.feed(page)
    checker.close()
    text = "".join(checker.text)
    assert "<script>" not in page
    assert "script" not in checker.counts
    assert "<script>alert('x')</script> & more" in text
    assert "<script>" not in markdown
    assert "\\<script\\>" in markdown
    for s in drill.data["response"]["steps"]:
        assert s["evidence"] in text


def test_write_report_writes_four_files(drill: Journal, tmp_path: Path) -> None:
    """report.md, report.html and the two PNGs, nothing else (no temporary files left)."""
    written = write_report(drill, tmp_path / "out")
    names = sorted(p.name for p in written)
    assert names == ["report-phases.png", "report-timeline.png", "report.html", "report.md"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == names
    for p in written:
        assert p.stat().st_size > 1000
    assert (tmp_path / "out" / "report-phases.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,iVBORw0KGgo') == 2  # the two PNGs, inline


def test_journal_without_response(seed_journal: Journal) -> None:
    """A journal without a responder (the older format) still reports, without that part."""
    data = {k: v for k, v in seed_journal.data.items() if k not in ("response", "counterfactuals")}
    md = render_markdown(data)
    assert "The journal records no responder." in md
    assert "## Counterfactuals" not in md
    assert "## Timeline" in md
    assert "expand/contract" in md


# -- the command ----------------------------------------------------------------------------
def chaosdrill(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


def test_report_command_writes_the_files(drill: Journal, tmp_path: Path) -> None:
    """`chaosdrill report JOURNAL --out DIR` exits 0 and writes the report."""
    path = drill.write(tmp_path / "journal.json")
    proc = chaosdrill("report", str(path), "--out", str(tmp_path / "rep"))
    assert proc.returncode == 0, proc.stderr
    for name in ("report.md", "report.html", "report-timeline.png", "report-phases.png"):
        assert (tmp_path / "rep" / name).stat().st_size > 1000
    assert "report.html" in proc.stdout


@pytest.mark.parametrize("kind", ["missing", "not-json", "not-a-journal"])
def test_report_command_rejects_bad_input(kind: str, tmp_path: Path) -> None:
    """A missing file, broken JSON or JSON that is no journal: one line on stderr, exit 1."""
    path = tmp_path / "journal.json"
    if kind == "not-json":
        path.write_text("{not json")
    elif kind == "not-a-journal":
        path.write_text(json.dumps({"hello": "world"}))
    proc = chaosdrill("report", str(path), "--out", str(tmp_path / "rep"))
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert str(path) in lines[0]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "rep").exists()


class TagChecker(HTMLParser):
    """Balanced tags (void elements aside), counts per tag, the classes used, the images'
    sources and the text (entities decoded)."""

    VOID: ClassVar[frozenset[str]] = frozenset({"meta", "img", "br", "hr", "link", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.counts: dict[str, int] = {}
        self.images: list[str] = []
        self.classes: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.counts[tag] = self.counts.get(tag, 0) + 1
        attributes = dict(attrs)
        if tag == "img":
            self.images.append(attributes.get("src") or "")
        if attributes.get("class"):
            self.classes.append(str(attributes["class"]))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
