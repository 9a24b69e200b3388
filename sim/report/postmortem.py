"""The post-mortem of a run: a report model built from the journal, rendered as Markdown and HTML.

``build_report`` reads the journal and ``sim.scoring.score(journal)`` and turns them into a
small document model (sections of paragraphs, tables, lists, code and figures) holding plain
text only. Every number in it comes from the journal or the scorecard; the judgements
("what went well", "action items") are rules over those numbers, with their thresholds
named below. The two renderers walk the same model, so the Markdown and the HTML say the
same thing; they escape every piece of text, because change descriptions, log lines and
evidence are written by other people and may contain markup.

``render_markdown`` is pure. ``render_html`` embeds the two pictures as data URIs: pass their
PNG bytes as ``images``, or leave it out and they are drawn into a temporary folder (the only
file I/O it does). ``write_report`` writes ``report.md``, ``report.html``,
``report-timeline.png`` and ``report-phases.png`` into a folder, each atomically.
"""

from __future__ import annotations

import base64
import html
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.journal.record import Journal
from sim.scenario.durations import format_duration, wall_clock
from sim.scoring.score import NOTIFY_WITHIN, STAKEHOLDER_WITHIN

if TYPE_CHECKING:
    from sim.scoring import Phase, Scorecard

REPORT_MD = "report.md"
REPORT_HTML = "report.html"
TIMELINE_PNG = "report-timeline.png"
PHASES_PNG = "report-phases.png"
REPORT_FILES = (REPORT_MD, REPORT_HTML, TIMELINE_PNG, PHASES_PNG)

# Thresholds of the judgement rules (seconds). They are what an on-call team would call
# "fast" or "slow" for a shop-wide outage; the report states them where it uses them.
FAST_DETECTION = 300.0  # errors began → detected
SLOW_DETECTION = 600.0
FAST_ACK = 300.0  # page → acknowledged
SLOW_ACK = 900.0
# Communication is judged by scoring's limits (delays counted from the acknowledgement).
QUICK_NOTIFY = NOTIFY_WITHIN
LATE_STAKEHOLDERS = STAKEHOLDER_WITHIN
MAX_TICKET_ROWS = 1  # tickets are many: the timeline shows the first, the impact the count

PHASE_ORDER = ("impact", "detection", "acknowledgement", "diagnosis", "mitigation", "resolution")


# -- the document model ---------------------------------------------------------------------
@dataclass(frozen=True)
class Code:
    """Inline literal text: an id, a version, a statement."""

    text: str


@dataclass(frozen=True)
class Badge:
    """A flag on a row; ``tone`` picks its colour: bad, warn, good, info or muted."""

    text: str
    tone: str = "info"


@dataclass(frozen=True)
class Mixed:
    """Text and literals in one cell: ``("restart ", Code("auth"))``."""

    parts: tuple[str | Code, ...]


Cell = str | Code | Mixed | tuple[Badge, ...]


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    numeric: frozenset[int] = frozenset()  # columns aligned right
    caption: str = ""
    css: str = ""  # an extra class for the HTML table


@dataclass(frozen=True)
class Paragraph:
    text: str
    lead: str = ""  # bold words before the text


@dataclass(frozen=True)
class Item:
    lead: str
    text: str = ""


@dataclass(frozen=True)
class Bullets:
    items: tuple[Item, ...]
    ordered: bool = False
    tone: str = ""  # "good" / "bad": a coloured marker in HTML


@dataclass(frozen=True)
class CodeBlock:
    lines: tuple[str, ...]
    language: str = ""


@dataclass(frozen=True)
class Figure:
    name: str  # file name next to the report, and the key of the embedded image
    alt: str
    caption: str


@dataclass(frozen=True)
class Facts:
    pairs: tuple[tuple[str, Cell], ...]


@dataclass(frozen=True)
class Subheading:
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


# -- building the model from a journal ------------------------------------------------------
def build_report(journal: Journal | Mapping[str, Any]) -> Report:
    """Score the journal and lay out the post-mortem (no file I/O, no drawing)."""
    from sim.scoring import score

    j = as_journal(journal)
    sc = score(j)
    ctx = _Context(j, sc)
    sections = [
        _summary_section(ctx),
        _impact_section(ctx),
        _scorecard_section(ctx),
    ]
    if ctx.counterfactuals:
        sections.append(_counterfactual_section(ctx))
    sections += [
        _timeline_section(ctx),
        _root_cause_section(ctx),
        _detection_section(ctx),
        *_lessons_sections(ctx),
        _action_items_section(ctx),
    ]
    start = ctx.start
    subtitle = (
        f"Drill of {start:%Y-%m-%d}, {start:%H:%M}–{ctx.clock(ctx.horizon)[:5]} "
        f"{start.tzname() or ''}".rstrip()
        + f" · responder: {ctx.responder}"
        + (f" — {ctx.response['description']}" if ctx.response.get("description") else "")
    )
    title = f"Post-mortem: {j.scenario_name} — seed {j.seed}"
    return Report(title, subtitle, float(sc.score), tuple(sections), sc)


def as_journal(journal: Journal | Mapping[str, Any]) -> Journal:
    return journal if isinstance(journal, Journal) else Journal(journal)


class _Context:
    """The journal and scorecard with the look-ups and formats every section needs."""

    def __init__(self, journal: Journal, sc: Scorecard) -> None:
        data = journal.data
        self.journal = journal
        self.data = data
        self.sc = sc
        self.summary = journal.summary
        self.start = datetime.fromisoformat(str(data["clock_start"]))
        self.horizon = float(data["horizon"])
        self.currency = str(data.get("currency") or sc.currency or "")
        self.response: Mapping[str, Any] = data.get("response") or {}
        self.steps: list[Mapping[str, Any]] = sorted(
            self.response.get("steps") or [], key=lambda s: (float(s["t"]), int(s["i"]))
        )
        self.responder = str(self.response.get("responder") or sc.responder or "none")
        self.counterfactuals: Mapping[str, Any] = data.get("counterfactuals") or {}
        started = self.summary.get("errors_started")
        self.impact: float | None = None if started is None else float(started)
        stopped = self.summary.get("errors_stopped")
        self.stopped: float | None = None if stopped is None else float(stopped)
        self.faults: list[Mapping[str, Any]] = list(self.summary.get("faults") or [])
        self.changes: dict[str, Mapping[str, Any]] = {
            str(c["id"]): c for c in data.get("changes") or []
        }
        self.herrings = {str(h["id"]): h for h in data.get("red_herrings") or []}
        conduct = sc.conduct
        self.wrong = {int(i) for i in conduct.get("wrong_actions") or []}
        self.harmful = {int(i) for i in conduct.get("harmful_actions") or []}
        self.harmful |= {int(s["i"]) for s in self.steps if s.get("harmful")}
        self.chased = [str(h) for h in conduct.get("herrings") or []]
        self.incidents: list[Mapping[str, Any]] = list(
            (data.get("paging") or {}).get("incidents") or []
        )

    # formats
    def clock(self, t: float) -> str:
        return wall_clock(self.start, t)

    def since(self, t: float | None) -> str:
        """``+4m23s`` after the impact began, ``−12m`` before it; empty without an impact."""
        if t is None or self.impact is None:
            return ""
        d = round(t - self.impact)
        return f"{'−' if d < 0 else '+'}{format_duration(abs(d))}"

    def at(self, t: float | None, never: str = "never") -> str:
        """``08:44:23 (+4m23s)``, or ``never``."""
        if t is None:
            return never
        since = self.since(t)
        return f"{self.clock(t)} ({since})" if since else self.clock(t)

    def money(self, value: float) -> str:
        return f"{value:,.0f} {self.currency}".rstrip()

    def step_label(self, step: Mapping[str, Any]) -> str:
        """``restart auth`` as inline code (backticks), for list items."""
        target = step.get("target")
        return f"`{step['call']} {target}`" if target else f"`{step['call']}`"

    def step(self, i: int) -> Mapping[str, Any] | None:
        return next((s for s in self.steps if int(s["i"]) == i), None)

    def fault_targets(self) -> set[str]:
        return {str(t) for f in self.faults for t in f.get("targets") or []}

    def diagnosis(self) -> tuple[Mapping[str, Any] | None, bool]:
        """The responder's declared cause and whether some fault lists it as a target."""
        found = self.response.get("diagnosis")
        if not found:
            return None, False
        return found, str(found.get("cause")) in self.fault_targets()

    def phase(self, name: str) -> Phase | None:
        return self.sc.phases.get(name)

    def unresolved(self) -> bool:
        """A fault still active at the horizon, or a mitigation/resolution phase never reached."""
        if any(f.get("ended") is None for f in self.faults):
            return True
        if not self.response:  # a journal without a responder declares nothing
            return False
        return any(
            (phase := self.phase(n)) is not None and phase.status == "unresolved"
            for n in ("mitigation", "resolution")
        )


def _duration(seconds: float | None) -> str:
    return "—" if seconds is None else format_duration(round(seconds))


def _pct(fraction: float, digits: int = 1) -> str:
    return f"{fraction * 100:,.{digits}f} %"


def _count(n: float) -> str:
    return f"{round(n):,}"


# -- sections -------------------------------------------------------------------------------
def _summary_section(ctx: _Context) -> Section:
    s = ctx.summary
    sentences: list[str] = []
    when = f"{ctx.start:%Y-%m-%d}"
    for f in ctx.faults:
        t0 = f.get("start", ctx.impact)
        head = f"At {ctx.clock(float(t0))} on {when}" if t0 is not None else f"On {when}"
        change = _change_behind(ctx, f)
        what = f"the fault {f['id']} ({f.get('description', f.get('type', '?'))})"
        if change is not None:
            sentences.append(
                f"{head}, {change.get('kind', 'change')} {change['id']} "
                f"(“{change.get('description', '')}”) caused {what}."
            )
        else:
            sentences.append(f"{head}, {what} began.")
    if ctx.impact is None:
        sentences.append("Shoppers saw no errors during the drill.")
    elif ctx.stopped is not None:
        sentences.append(
            f"Shoppers saw errors from {ctx.clock(ctx.impact)} to {ctx.clock(ctx.stopped)} "
            f"({_duration(ctx.stopped - ctx.impact)}; peak error ratio "
            f"{_pct(float(s.get('peak_error_ratio', 0.0)))})."
        )
    else:
        sentences.append(
            f"Shoppers saw errors from {ctx.clock(ctx.impact)} until the drill ended at "
            f"{ctx.clock(ctx.horizon)}: still unresolved after "
            f"{_duration(ctx.horizon - ctx.impact)}."
        )
    if s.get("detected_at") is not None:
        ttd = s.get("time_to_detect")
        after = f", {_duration(float(ttd))} after errors began" if ttd is not None else ""
        text = f"It was detected at {ctx.clock(float(s['detected_at']))} by {s.get('detection_channel')}{after}"
        if s.get("acknowledged_at") is not None:
            text += f"; the page was acknowledged at {ctx.clock(float(s['acknowledged_at']))}"
        sentences.append(text + ".")
    elif ctx.impact is not None:
        sentences.append("It was not detected within the drill.")
    response = _response_sentence(ctx)
    impact = ctx.sc.impact
    failed = float(impact.get("failed_requests", s["failed_requests"]))
    lost = float(impact.get("lost_revenue", s["lost_revenue"]))
    if failed or lost:
        cost = (
            f"{_count(failed)} requests and "
            f"{_count(impact.get('failed_checkouts', s['failed_checkouts']))} checkouts failed, "
            f"{_count(impact.get('affected_users', s.get('failed_sessions', 0)))} shopping "
            f"sessions gave up after errors and {ctx.money(lost)} of revenue was lost."
        )
    else:
        cost = "No request failed and no revenue was lost."
    cost += f" Score: {ctx.sc.score:.1f} / 100."
    return Section(
        "Summary", (Paragraph(" ".join(sentences)), Paragraph(response), Paragraph(cost))
    )


def _response_sentence(ctx: _Context) -> str:
    """What the responder declared and did, and how the faults ended."""
    if not ctx.response:
        return "The journal records no responder."
    if not ctx.steps:
        return f"The responder ({ctx.responder}) took no steps."
    parts = []
    diag, correct = ctx.diagnosis()
    if diag is not None:
        verdict = "correctly" if correct else "wrongly"
        parts.append(
            f"{verdict} named {diag['cause']} as the cause at {ctx.clock(float(diag['at']))}"
        )
    else:
        parts.append("never declared a cause")
    said = [
        f"{verb} at {ctx.clock(float(ctx.response[key]))}"
        for key, verb in (("mitigated_at", "mitigated"), ("resolved_at", "resolved"))
        if ctx.response.get(key) is not None
    ]
    parts.append(
        "declared the incident " + _join(said)
        if said
        else "never declared it mitigated or resolved"
    )
    text = f"The responder ({ctx.responder}) " + "; ".join(parts) + "."
    fixed = {str(f): st for st in ctx.steps for f in st.get("remedied") or []}
    ends = {str(e["id"]): e for e in ctx.journal.events("fault.end")}
    for f in ctx.faults:
        fid = str(f["id"])
        if fid in fixed:
            st = fixed[fid]
            target = f" {st['target']}" if st.get("target") else ""
            text += f" Its {st['call']}{target} ended {fid} at {ctx.clock(float(st['end']))}."
        elif f.get("ended") is not None:
            cause = ends.get(fid, {}).get("cause")
            how = f" ({cause})" if cause else ""
            text += f" {fid} ended without the responder at {ctx.clock(float(f['ended']))}{how}."
        else:
            text += f" {fid} was still active when the drill ended."
    premature = int(ctx.sc.conduct.get("premature_resolutions") or 0)
    if premature:
        text += f" {premature} resolution declaration(s) came while a fault was still active."
    return text


def _codes(names: Iterable[str]) -> list[str]:
    """Names as inline code (backticks) for list items, which render them as literals."""
    return [f"`{n}`" for n in names]


def _join(parts: Sequence[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _impact_section(ctx: _Context) -> Section:
    s, impact = ctx.summary, ctx.sc.impact
    failed = float(impact.get("failed_requests", s["failed_requests"]))
    requests = float(s.get("requests") or 0)
    rows: list[tuple[Cell, ...]] = [
        (
            "failed requests",
            _count(failed),
            f"of {_count(requests)} requests ({_pct(failed / requests, 2)})" if requests else "",
        ),
        (
            "failed checkouts",
            _count(impact.get("failed_checkouts", s["failed_checkouts"])),
            f"of {_count(s.get('checkout_attempts', 0))} checkout attempts",
        ),
        (
            "affected users",
            _count(impact.get("affected_users", s.get("failed_sessions", 0))),
            "sessions that gave up after an error",
        ),
        (
            "lost revenue",
            ctx.money(float(impact.get("lost_revenue", s["lost_revenue"]))),
            f"revenue taken during the drill: {ctx.money(float(s.get('revenue', 0.0)))}",
        ),
    ]
    budget = impact.get("error_budget_spent")
    if budget is not None:
        slo = s.get("slo") or {}
        objective = slo.get("objective")
        context = (
            f"of the 30-day error budget at {objective * 100:g} % availability"
            if isinstance(objective, int | float)
            else "of the error budget"
        )
        rows.append(("error budget spent", _pct(float(budget)), context))
    escalations = len((ctx.data.get("complaints") or {}).get("escalations") or [])
    rows.append(
        (
            "support tickets",
            _count(s.get("tickets", 0)),
            f"{escalations} escalation(s) to engineering by customer service",
        )
    )
    if ctx.impact is not None:
        end = ctx.stopped if ctx.stopped is not None else ctx.horizon
        rows.append(
            (
                "duration of impact",
                _duration(end - ctx.impact),
                f"peak error ratio {_pct(float(s.get('peak_error_ratio', 0.0)))}"
                + ("" if ctx.stopped is not None else "; unresolved: errors ran to the horizon"),
            )
        )
    table = Table(("measure", "value", "context"), tuple(rows), numeric=frozenset({1}))
    return Section("Impact", (table,))


def _scorecard_section(ctx: _Context) -> Section:
    sc = ctx.sc
    rows: list[tuple[Cell, ...]] = []
    for name in [*PHASE_ORDER, *[n for n in sc.phases if n not in PHASE_ORDER]]:
        phase = sc.phases.get(name)
        if phase is None:
            continue
        if phase.status == "unresolved":
            clock: Cell = "unresolved"
            since: Cell = "unresolved"
            status: Cell = (Badge("unresolved", "bad"),)
        elif phase.status == "n/a" or phase.at is None:
            clock, since, status = "n/a", "n/a", (Badge("n/a", "muted"),)
        else:
            clock = ctx.clock(phase.at)
            since = (
                "0s"
                if phase.since_impact is None or name == "impact"
                else f"+{_duration(phase.since_impact)}"
            )
            status = (Badge("ok", "good"),)
        rows.append((name, clock, since, status, str(phase.note or "")))
    phases = Table(
        ("phase", "time", "since impact", "status", "note"),
        tuple(rows),
        numeric=frozenset({2}),
        css="wide",
    )
    total_weight = sum(float(w) for w in sc.weights.values()) or 1.0
    part_rows: list[tuple[Cell, ...]] = []
    for name, value in sc.parts.items():
        weight = float(sc.weights.get(name, 0.0))
        part_rows.append(
            (
                name,
                f"{value:.2f}",
                f"{weight:g} ({weight / total_weight:.0%})",
                f"{100 * value * weight / total_weight:.1f}",
            )
        )
    part_rows.append(("total", "", f"{total_weight:g}", f"{sc.score:.1f}"))
    parts = Table(
        ("part", "score (0–1)", "weight (share)", "points"),
        tuple(part_rows),
        numeric=frozenset({1, 2, 3}),
        css="parts",
    )
    return Section(
        "Scorecard",
        (
            Paragraph(f"{sc.score:.1f} / 100", lead="Score:"),
            Figure(
                PHASES_PNG,
                "Phase chart: impact, detection, acknowledgement, diagnosis, mitigation and "
                "resolution, with the responder's steps",
                "Each phase bar runs from the start of impact to its milestone; unresolved "
                "phases run to the end of the drill. Below: the responder's steps by kind, "
                "red herrings highlighted in yellow.",
            ),
            Subheading("Phases"),
            phases,
            Subheading("Parts of the score"),
            parts,
        ),
    )


def _counterfactual_section(ctx: _Context) -> Section:
    s, resp = ctx.summary, ctx.response
    never = "never"
    rows: list[tuple[Cell, ...]] = [
        (
            f"this run ({ctx.responder})",
            ctx.clock(float(resp["mitigated_at"]))
            if resp.get("mitigated_at") is not None
            else never,
            ctx.clock(float(resp["resolved_at"])) if resp.get("resolved_at") is not None else never,
            ctx.clock(ctx.stopped) if ctx.stopped is not None else "still failing",
            _count(s["failed_requests"]),
            _count(s["failed_checkouts"]),
            ctx.money(float(s["lost_revenue"])),
        )
    ]
    names = {"none": "do nothing", "oracle": "oracle (knows the cause, acts at once)"}
    for key, cf in ctx.counterfactuals.items():
        rows.append(
            (
                names.get(key, key)
                + (f" ({cf['responder']})" if cf.get("responder", key) != key else ""),
                ctx.clock(float(cf["mitigated_at"]))
                if cf.get("mitigated_at") is not None
                else never,
                ctx.clock(float(cf["resolved_at"])) if cf.get("resolved_at") is not None else never,
                ctx.clock(float(cf["errors_stopped"]))
                if cf.get("errors_stopped") is not None
                else "still failing",
                _count(cf.get("failed_requests", 0)),
                _count(cf.get("failed_checkouts", 0)),
                ctx.money(float(cf.get("lost_revenue", 0.0))),
            )
        )
    table = Table(
        (
            "run (responder)",
            "declared mitigated",
            "declared resolved",
            "errors stopped",
            "failed requests",
            "failed checkouts",
            "lost revenue",
        ),
        tuple(rows),
        numeric=frozenset({4, 5, 6}),
        css="wide",
    )
    blocks: list[Block] = [
        Paragraph(
            "The same scenario and seed replayed with other responders: doing nothing, and an "
            "oracle that knows the cause and acts at once."
        ),
        table,
    ]
    blocks += [Paragraph(text) for text in _counterfactual_sentences(ctx)]
    return Section("Counterfactuals", tuple(blocks))


def _counterfactual_sentences(ctx: _Context) -> list[str]:
    """The scorecard's comparison in words (keys documented on ``sim.scoring.Scorecard``)."""
    cf = ctx.sc.counterfactual or {}
    out = []
    saved_min, saved_rev = cf.get("saved_minutes"), cf.get("saved_revenue")
    if saved_rev is not None:
        if saved_rev >= 0:
            text = f"Against doing nothing, the response saved {ctx.money(saved_rev)}"
            if saved_min is not None and saved_min > 0:
                text += f" and cut {_minutes(saved_min)} of impact"
            elif saved_min is not None and saved_min < 0:
                text += f", though the impact lasted {_minutes(-saved_min)} longer"
            out.append(text + ".")
        else:
            out.append(f"Doing nothing would have cost {ctx.money(-saved_rev)} less.")
    gap_min, gap_rev = cf.get("oracle_gap_minutes"), cf.get("oracle_gap_revenue")
    if gap_min is not None or gap_rev is not None:
        bits = []
        if gap_min is not None and gap_min > 0:
            bits.append(f"ended the impact {_minutes(gap_min)} sooner")
        if gap_rev is not None and gap_rev > 0:
            bits.append(f"lost {ctx.money(gap_rev)} less")
        if bits:
            out.append("The oracle would have " + _join(bits) + ".")
        else:
            out.append("This run did as well as the oracle, or better.")
    gap_res = cf.get("resolve_gap_minutes")
    if gap_res is not None:
        out.append(f"The oracle declared the incident resolved {_minutes(gap_res)} sooner.")
    elif ctx.counterfactuals.get("oracle") is not None:
        out.append("The gap to the oracle's resolution is undefined: this run never resolved.")
    return out


def _minutes(value: float) -> str:
    return f"{value:,.0f} minute{'' if round(value) == 1 else 's'}"


def _timeline_section(ctx: _Context) -> Section:
    rows = sorted(_timeline_rows(ctx), key=lambda r: r[0])
    table = Table(
        ("time", "since impact", "kind", "event", "details", "lead", "flags"),
        tuple(
            (ctx.clock(t), ctx.since(t), kind, _event_cell(event, target), details, lead, flags)
            for t, kind, event, target, details, lead, flags in rows
        ),
        numeric=frozenset({1}),
        css="timeline wide",
    )
    return Section(
        "Timeline",
        (
            Figure(
                TIMELINE_PNG,
                "Metrics timeline: error ratio, latency and orders with alerts, pages and changes",
                "Error ratio, p95 latency and orders over the drill, with changes, faults, "
                "alerts, pages, tickets, the detection and red herrings.",
            ),
            Paragraph(
                "Changes, faults, alerts, pages, customer escalations and every step of the "
                "responder (numbered #0, #1 …; kind observe, act, communicate or declare), in "
                "time order."
            ),
            table,
        ),
    )


Row = tuple[float, str, Cell, Cell, str, str, tuple[Badge, ...]]
# time, source, event, target, details, lead, flags


def _event_cell(event: Cell, target: Cell) -> Cell:
    """The event and its target in one cell: ``page`` + ``Chris`` → "page Chris"."""
    if isinstance(event, str) and isinstance(target, Code | str) and target:
        return Mixed((event, " ", target))
    return event


def _timeline_rows(ctx: _Context) -> list[Row]:
    rows: list[Row] = []
    herring_changes = {str(h.get("change")): h for h in ctx.herrings.values() if h.get("change")}
    causes = ctx.fault_targets() | {str(f.get("change")) for f in ctx.faults if f.get("change")}
    fault_info = {str(f["id"]): f for f in ctx.faults}
    alert_info = {str(a["id"]): a for a in ctx.data.get("alerts") or []}
    tickets = 0
    has_steps = bool(ctx.steps)
    for e in ctx.journal.events():
        kind, t = str(e["kind"]), float(e["t"])
        if kind == "change":
            cid = str(e["id"])
            flags: tuple[Badge, ...] = ()
            if cid in causes:
                flags = (Badge("cause", "bad"),)
            elif cid in herring_changes:
                flags = (Badge(f"red herring: {herring_changes[cid]['id']}", "muted"),)
            rows.append(
                (
                    t,
                    "change",
                    f"{e.get('change_kind', 'change')}",
                    Code(cid),
                    f"{e.get('description', '')} — {e.get('author', '?')}",
                    "",
                    flags,
                )
            )
        elif kind == "fault.start":
            fid = str(e["id"])
            info = fault_info.get(fid, {})
            rows.append(
                (
                    t,
                    "fault",
                    "fault starts",
                    Code(fid),
                    str(info.get("description") or e.get("type", "")),
                    "",
                    (Badge("fault", "bad"),),
                )
            )
        elif kind == "fault.end":
            rows.append(
                (t, "fault", "fault ends", Code(str(e["id"])), str(e.get("cause", "")), "", ())
            )
        elif kind in ("alert.firing", "alert.resolved"):
            aid = str(e.get("alert", ""))
            info = alert_info.get(aid, {})
            severity = str(e.get("severity", info.get("severity", "")))
            firing = kind == "alert.firing"
            rows.append(
                (
                    t,
                    "alert",
                    "alert firing" if firing else "alert resolved",
                    Code(aid),
                    str(info.get("summary", "")) if firing else "",
                    "",
                    (Badge(severity, _severity_tone(severity)),) if firing else (),
                )
            )
        elif kind == "page":
            alerts = e.get("alerts") or []
            rows.append(
                (
                    t,
                    "pager",
                    "page",
                    str(e.get("to", "")),
                    f"{e.get('incident', '')}: {len(alerts)} alert(s)",
                    "",
                    (),
                )
            )
        elif kind == "page.escalated":
            rows.append(
                (
                    t,
                    "pager",
                    "page escalated",
                    str(e.get("to", "")),
                    f"{e.get('incident', '')}: no acknowledgement after "
                    f"{_duration(float(e.get('after', 0.0)))}",
                    "",
                    (Badge("escalated", "warn"),),
                )
            )
        elif kind == "page.acknowledged":
            rows.append(
                (
                    t,
                    "pager",
                    "page acknowledged",
                    str(e.get("by", "")),
                    f"{e.get('incident', '')}: {_duration(float(e.get('after', 0.0)))} after the page",
                    "",
                    (),
                )
            )
        elif kind == "complaints.escalated":
            topics = ", ".join(f"{k} {v}" for k, v in (e.get("topics") or {}).items())
            rows.append(
                (
                    t,
                    "customers",
                    "customer-service escalation",
                    "engineering",
                    f"{e.get('tickets')} tickets within {_duration(float(e.get('window', 0.0)))}"
                    + (f" ({topics})" if topics else ""),
                    "",
                    (),
                )
            )
        elif kind == "ticket":
            tickets += 1
            if tickets <= MAX_TICKET_ROWS:
                rows.append(
                    (
                        t,
                        "customers",
                        "first support ticket",
                        Code(str(e.get("id", ""))),
                        f"{e.get('subject', '')} ({e.get('channel', '')}, step {e.get('step', '?')})",
                        "",
                        (),
                    )
                )
        elif kind == "incident.closed":
            rows.append(
                (t, "pager", "incident closed", Code(str(e.get("incident", ""))), "", "", ())
            )
        elif kind in ("action.start", "action.end") and not has_steps:
            remedied = e.get("remedied") or []
            rows.append(
                (
                    t,
                    "action",
                    kind.replace(".", " "),
                    Code(f"{e.get('action')} {e.get('target')}"),
                    f"remedied {', '.join(remedied)}" if remedied else "",
                    "",
                    (Badge("remedied", "good"),) if remedied else (),
                )
            )
    rows += [_step_row(ctx, s) for s in ctx.steps]
    return rows


def _severity_tone(severity: str) -> str:
    return {"critical": "bad", "warning": "warn"}.get(severity, "info")


def _step_row(ctx: _Context, step: Mapping[str, Any]) -> Row:
    i = int(step["i"])
    t, end = float(step["t"]), float(step.get("end", step["t"]))
    details = str(step.get("evidence", ""))
    if step.get("harm"):
        details += f" — harm: {step['harm']}"
    parts: list[str | Code] = [f"#{i} {step['call']}"]
    if step.get("target"):
        parts += [" ", Code(str(step["target"]))]
    if end > t:
        parts.append(f" ({_duration(end - t)})")
    return (
        t,
        str(step.get("kind", "?")),
        Mixed(tuple(parts)),
        "",
        details,
        str(step.get("lead") or ""),
        _step_flags(ctx, step),
    )


def _step_flags(ctx: _Context, step: Mapping[str, Any]) -> tuple[Badge, ...]:
    i = int(step["i"])
    flags = []
    if step.get("herring"):
        flags.append(Badge(f"red herring: {step['herring']}", "warn"))
    if i in ctx.wrong:
        flags.append(Badge("wrong", "bad"))
    if i in ctx.harmful:
        flags.append(Badge("harmful", "bad"))
    if step.get("ok") is False:
        flags.append(Badge("failed", "bad"))
    diag, correct = ctx.diagnosis()
    if diag is not None and diag.get("step") is not None and int(diag["step"]) == i:
        flags.append(Badge("right cause", "good") if correct else Badge("wrong cause", "bad"))
    if step.get("remedied"):
        flags.append(Badge(f"remedied: {', '.join(step['remedied'])}", "good"))
    return tuple(flags)


def _change_behind(ctx: _Context, fault: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The change a fault came with: one it names, else one of its targets, else (journals
    from before faults listed targets) a change at the fault's start on one of its components."""
    for cid in [fault.get("change"), *(fault.get("targets") or [])]:
        if cid is not None and str(cid) in ctx.changes:
            return ctx.changes[str(cid)]
    fid = str(fault["id"])
    for e in ctx.journal.events("fault.start"):
        if str(e["id"]) != fid:
            continue
        for change in ctx.changes.values():
            same_time = abs(float(change.get("at", -1.0)) - float(e["t"])) < 1.0
            if same_time and set(change.get("components") or []) & set(e.get("components") or []):
                return change
    return None


def _root_cause_section(ctx: _Context) -> Section:
    blocks: list[Block] = []
    if not ctx.faults:
        blocks.append(Paragraph("No fault was injected in this run."))
    ends = {str(e["id"]): e for e in ctx.journal.events("fault.end")}
    for f in ctx.faults:
        fid = str(f["id"])
        blocks.append(Subheading(f"Fault {fid} ({f.get('type', '?')})"))
        start = f.get("start")
        if start is None:
            starts = [float(e["t"]) for e in ctx.journal.events("fault.start") if e["id"] == fid]
            start = starts[0] if starts else None
        text = str(f.get("description", ""))
        if start is not None:
            text += f". Started at {ctx.clock(float(start))}"
            if f.get("ended") is not None:
                ended = float(f["ended"])
                cause = ends.get(fid, {}).get("cause")
                text += f", ended at {ctx.clock(ended)} after {_duration(ended - float(start))}"
                text += f" ({cause})." if cause else "."
            else:
                text += ", still active when the drill ended: unresolved."
        blocks.append(Paragraph(text))
        remedies = f.get("remedies") or {}
        targets = f.get("targets") or []
        if remedies or targets:
            text = " or ".join(
                f"{a} (takes {_duration(float(sec))})" for a, sec in remedies.items()
            )
            if targets:
                aimed = " or ".join(str(t) for t in targets)
                text = f"{text}, aimed at {aimed}" if text else f"an action aimed at {aimed}"
            blocks.append(Paragraph(text + ".", lead="Known remedy:"))
        change = _change_behind(ctx, f)
        if change is not None:
            blocks.append(
                Paragraph(
                    f"{change['id']}, a {change.get('kind', 'change')} by "
                    f"{change.get('author', '?')} at {ctx.clock(float(change.get('at', 0.0)))}: "
                    f"{change.get('description', '')}",
                    lead="The change behind it:",
                )
            )
            statements = tuple(str(s) for s in change.get("statements") or [])
            if statements:
                blocks.append(CodeBlock(statements, "sql"))
    diag, correct = ctx.diagnosis()
    if diag is not None:
        verdict = "correct" if correct else "not a cause of any fault"
        blocks.append(
            Paragraph(
                f"{diag.get('cause')} at {ctx.at(float(diag['at']))} — {verdict}.",
                lead="The responder's diagnosis:",
            )
        )
    elif ctx.response:
        blocks.append(Paragraph("none declared.", lead="The responder's diagnosis:"))
    first = ctx.summary.get("first_errors") or []
    if first:
        blocks.append(Subheading("First errors seen by shoppers"))
        blocks.append(
            Table(
                ("time", "since impact", "endpoint", "error", "message"),
                tuple(
                    (
                        ctx.clock(float(e["first_seen"])),
                        ctx.since(float(e["first_seen"])),
                        str(e.get("endpoint", "")),
                        Code(str(e.get("error_class", ""))),
                        str(e.get("message", "")),
                    )
                    for e in first
                ),
                numeric=frozenset({1}),
                css="wide",
            )
        )
    return Section("Root cause", tuple(blocks))


def _detection_section(ctx: _Context) -> Section:
    s = ctx.summary
    found = ctx.data.get("detection") or {}
    facts: list[tuple[str, Cell]] = []
    if s.get("detected_at") is not None:
        ttd = s.get("time_to_detect")
        via = f" via {found['via']}" if found.get("via") else ""
        facts.append(
            (
                "detected",
                f"{ctx.clock(float(s['detected_at']))} by {s.get('detection_channel')}{via}"
                + (f", {_duration(float(ttd))} after errors began" if ttd is not None else ""),
            )
        )
    else:
        facts.append(("detected", "not within the drill"))
    for inc in ctx.incidents:
        if inc.get("paged_at") is not None:
            facts.append(
                (
                    f"paged ({inc.get('id')})",
                    f"{ctx.clock(float(inc['paged_at']))} to {', '.join(inc.get('paged') or [])}"
                    + (
                        f"; escalated at {ctx.clock(float(inc['escalated_at']))}"
                        if inc.get("escalated_at") is not None
                        else ""
                    ),
                )
            )
        if inc.get("acknowledged_at") is not None and inc.get("paged_at") is not None:
            ack = float(inc["acknowledged_at"])
            facts.append(
                (
                    f"acknowledged ({inc.get('id')})",
                    f"{ctx.clock(ack)} by {inc.get('acknowledged_by', '?')}, "
                    f"{_duration(ack - float(inc['paged_at']))} after the page",
                )
            )
    if ctx.response.get("started_at") is not None:
        facts.append(("responder started", ctx.at(float(ctx.response["started_at"]))))
    blocks: list[Block] = [Facts(tuple(facts))]
    channels = found.get("first_by_channel") or {}
    if channels:
        blocks.append(Subheading("First signal per channel"))
        blocks.append(
            Table(
                ("channel", "first signal", "since impact"),
                tuple(
                    (str(ch), ctx.clock(float(t)), ctx.since(float(t)))
                    for ch, t in sorted(channels.items(), key=lambda kv: float(kv[1]))
                ),
                numeric=frozenset({2}),
            )
        )
    alerts = sorted(ctx.data.get("alerts") or [], key=lambda a: float(a.get("starts_at", 0.0)))
    paged = {str(a) for inc in ctx.incidents for a in inc.get("alerts") or []}
    if alerts:
        blocks.append(Subheading("Alerts"))
        rows: list[tuple[Cell, ...]] = []
        for a in alerts:
            t0 = float(a["starts_at"])
            t1 = a.get("ends_at")
            flags = [Badge(str(a.get("severity", "")), _severity_tone(str(a.get("severity"))))]
            if str(a["id"]) in paged:
                flags.append(Badge("paged", "info"))
            rows.append(
                (
                    Code(str(a["id"])),
                    tuple(flags),
                    ctx.clock(t0),
                    ctx.since(t0),
                    ctx.clock(float(t1)) if t1 is not None else "still firing",
                    str(a.get("summary", "")),
                )
            )
        blocks.append(
            Table(
                ("alert", "flags", "fired", "since impact", "resolved", "summary"),
                tuple(rows),
                numeric=frozenset({3}),
                css="alerts wide",
            )
        )
    else:
        blocks.append(Paragraph("No alert fired."))
    return Section("Detection", tuple(blocks))


# -- judgements: what went well, what did not, what to do -----------------------------------
def _lessons(ctx: _Context) -> tuple[list[Item], list[Item]]:
    """``(went well, did not)``: rules over the run's timings and the scorecard's conduct."""
    s, conduct = ctx.summary, ctx.sc.conduct
    good: list[Item] = []
    bad: list[Item] = []
    ttd = s.get("time_to_detect")
    if ctx.impact is not None:
        if ttd is None:
            bad.append(Item("No detection.", "Nothing alerted or escalated within the drill."))
        elif float(ttd) <= FAST_DETECTION:
            good.append(
                Item(
                    "Fast detection.",
                    f"Detected by {s.get('detection_channel')} {_duration(float(ttd))} after "
                    f"errors began (within {_duration(FAST_DETECTION)}).",
                )
            )
        elif float(ttd) > SLOW_DETECTION:
            bad.append(
                Item(
                    "Slow detection.",
                    f"Detection took {_duration(float(ttd))} (by {s.get('detection_channel')}); "
                    f"more than {_duration(SLOW_DETECTION)} of errors went unnoticed.",
                )
            )
    for inc in ctx.incidents:
        if inc.get("paged_at") is None:
            continue
        if inc.get("acknowledged_at") is None:
            bad.append(Item("Page never acknowledged.", f"{inc.get('id')} was not acknowledged."))
            continue
        ack = float(inc["acknowledged_at"]) - float(inc["paged_at"])
        if ack <= FAST_ACK and inc.get("escalated_at") is None:
            good.append(
                Item(
                    "Quick acknowledgement.",
                    f"{inc.get('id')} acknowledged {_duration(ack)} after the page.",
                )
            )
        elif ack > SLOW_ACK or inc.get("escalated_at") is not None:
            esc = (
                ", after escalating to the secondary" if inc.get("escalated_at") is not None else ""
            )
            bad.append(
                Item(
                    "Slow acknowledgement.",
                    f"{inc.get('id')} took {_duration(ack)} to acknowledge{esc}.",
                )
            )
    if ctx.response:
        notify = conduct.get("notify_delay")
        if ctx.impact is not None:
            if notify is None:
                bad.append(
                    Item("Users were never told.", "No status-page notice during the drill.")
                )
            elif float(notify) <= QUICK_NOTIFY:
                good.append(
                    Item(
                        "Quick notification.",
                        f"The status page went up {_duration(float(notify))} after the page was "
                        "acknowledged.",
                    )
                )
            else:
                bad.append(
                    Item(
                        "Late notification.",
                        f"Users were told only {_duration(float(notify))} after the page was "
                        f"acknowledged (aim: within {_duration(QUICK_NOTIFY)}).",
                    )
                )
            stake = conduct.get("stakeholder_delay")
            if stake is None:
                bad.append(Item("No stakeholder update.", "Nobody briefed the business."))
            elif float(stake) > LATE_STAKEHOLDERS:
                bad.append(
                    Item(
                        "Late stakeholder update.",
                        f"The first came {_duration(float(stake))} after acknowledgement.",
                    )
                )
        diag, correct = ctx.diagnosis()
        if diag is not None and correct:
            good.append(
                Item(
                    "Right diagnosis.",
                    f"`{diag.get('cause')}` named as the cause at {ctx.at(float(diag['at']))}.",
                )
            )
        elif diag is not None:
            bad.append(
                Item(
                    "Wrong diagnosis.", f"`{diag.get('cause')}` was declared the cause; it was not."
                )
            )
        elif ctx.faults:
            bad.append(Item("No diagnosis declared.", "The responder never named a cause."))
        for fix in (st for st in ctx.steps if st.get("remedied")):
            good.append(
                Item(
                    "Effective remedy.",
                    f"{ctx.step_label(fix)} ended {_join(_codes(fix['remedied']))} at "
                    f"{ctx.clock(float(fix.get('end', fix['t'])))}.",
                )
            )
        if ctx.chased:
            minutes = float(conduct.get("herring_seconds") or 0.0) / 60
            bad.append(
                Item(
                    "Red herrings chased.",
                    f"{_join(_codes(ctx.chased))}: {minutes:.0f} minutes spent on leads that were not the cause.",
                )
            )
        elif ctx.herrings and ctx.steps:
            good.append(
                Item(
                    "No red herrings chased.",
                    f"None of the {len(ctx.herrings)} distractions ({_join(_codes(ctx.herrings))}) drew the responder off.",
                )
            )
        if ctx.wrong:
            labels = [ctx.step_label(w) for i in sorted(ctx.wrong) if (w := ctx.step(i))]
            bad.append(Item("Actions that did not help.", f"{_join(labels)}."))
        for i in sorted(ctx.harmful):
            st = ctx.step(i)
            if st is not None:
                harm = f": {st['harm']}" if st.get("harm") else ""
                bad.append(
                    Item(
                        "Harmful action.",
                        f"{ctx.step_label(st)} at {ctx.clock(float(st['t']))}{harm}.",
                    )
                )
        failed = [st for st in ctx.steps if st.get("ok") is False]
        if failed:
            bad.append(
                Item(
                    "Failed steps.",
                    _join([f"{ctx.step_label(st)} at {ctx.clock(float(st['t']))}" for st in failed])
                    + ".",
                )
            )
        premature = int(conduct.get("premature_resolutions") or 0)
        if premature:
            bad.append(
                Item(
                    "Premature resolution.",
                    f"Declared resolved {premature} time(s) while a fault was still active.",
                )
            )
    if ctx.unresolved():
        active = [str(f["id"]) for f in ctx.faults if f.get("ended") is None]
        bad.append(
            Item(
                "Unresolved.",
                (f"{_join(_codes(active))} still active when the drill ended." if active else "")
                or "The incident was never declared mitigated or resolved.",
            )
        )
    return good, bad


def _lessons_sections(ctx: _Context) -> list[Section]:
    good, bad = _lessons(ctx)
    return [
        Section(
            "What went well",
            (Bullets(tuple(good), tone="good"),) if good else (Paragraph("Nothing stood out."),),
        ),
        Section(
            "What did not go well",
            (Bullets(tuple(bad), tone="bad"),) if bad else (Paragraph("Nothing stood out."),),
        ),
    ]


def _action_items(ctx: _Context) -> list[Item]:
    """Follow-ups derived from the run: the faults' kinds, the detection, the conduct."""
    items: list[Item] = []
    for f in ctx.faults:
        items += _fault_items(ctx, f)
    s, conduct = ctx.summary, ctx.sc.conduct
    ttd = s.get("time_to_detect")
    if ctx.impact is not None and (ttd is None or float(ttd) > SLOW_DETECTION):
        monitors = sorted(
            {
                f"{a.get('monitor')} (threshold {a.get('threshold')})"
                for a in ctx.data.get("alerts") or []
                if a.get("severity") == "critical"
            }
        )
        why = (
            f"detection took {_duration(float(ttd))} after errors began"
            if ttd is not None
            else "nothing detected the outage"
        )
        items.append(
            Item(
                "Alert sooner: lower the threshold or the `for` duration of the paging alerts",
                f"{why} (target: {_duration(SLOW_DETECTION)})"
                + (
                    f"; candidates: {_join(monitors)}."
                    if monitors
                    else "; add an alert on the failing endpoints."
                ),
            )
        )
    elif ctx.impact is not None and s.get("detection_channel") not in (None, "alert"):
        items.append(
            Item(
                "Page on the failing endpoints",
                f"{s.get('detection_channel')} found the outage before any alert paged.",
            )
        )
    for inc in ctx.incidents:
        if inc.get("paged_at") is None:
            continue
        ack = inc.get("acknowledged_at")
        if (
            ack is None
            or float(ack) - float(inc["paged_at"]) > SLOW_ACK
            or inc.get("escalated_at") is not None
        ):
            items.append(
                Item(
                    "Review the paging set-up",
                    f"{inc.get('id')} was "
                    + (
                        "never acknowledged"
                        if ack is None
                        else f"acknowledged {_duration(float(ack) - float(inc['paged_at']))} after the page"
                    )
                    + "; check notification channels and the escalation delay.",
                )
            )
    if ctx.chased:
        herrings = [ctx.herrings.get(h, {"id": h}) for h in ctx.chased]
        changes = [str(h["change"]) for h in herrings if h.get("change")]
        items.append(
            Item(
                "Annotate benign changes and maintenance notices in the change feed",
                f"{_join(_codes(ctx.chased))} cost "
                f"{float(conduct.get('herring_seconds') or 0.0) / 60:.0f} minutes"
                + (
                    f"; mark {_join(_codes(changes))} in the feed with the expected effect (and “no action needed”)"
                    if changes
                    else ""
                )
                + ".",
            )
        )
        noisy = [h for h in herrings if h.get("kind") in ("log_noise", "slow_component")]
        for h in noisy:
            items.append(
                Item(
                    f"Quiet the known noise of {h.get('target')}",
                    f"`{h['id']}`: {h.get('note', '')}".rstrip(": "),
                )
            )
    if ctx.wrong:
        labels = [ctx.step_label(st) for i in sorted(ctx.wrong) if (st := ctx.step(i))]
        items.append(
            Item(
                "Check the first errors and recent changes before acting",
                f"{_join(labels)} did not help; the shoppers' first errors pointed at the cause "
                "(add them to the alert's runbook link).",
            )
        )
    for i in sorted(ctx.harmful):
        st = ctx.step(i)
        if st is not None:
            items.append(
                Item(
                    f"Add a runbook guard to {ctx.step_label(st)}",
                    (st.get("harm") or "it made the outage worse")
                    + ": require a confirmation stating what still serves shoppers.",
                )
            )
    if ctx.response and ctx.impact is not None:
        notify = conduct.get("notify_delay")
        if notify is None or float(notify) > QUICK_NOTIFY:
            items.append(
                Item(
                    "Prepare a status-page template",
                    (
                        "users were never told"
                        if notify is None
                        else f"the first notice came {_duration(float(notify))} after acknowledgement"
                    )
                    + f"; a template per shop function lets the first notice go out within {_duration(QUICK_NOTIFY)}.",
                )
            )
        stake = conduct.get("stakeholder_delay")
        if stake is None or float(stake) > LATE_STAKEHOLDERS:
            items.append(
                Item(
                    "Set a stakeholder update cadence",
                    "no stakeholder update was sent."
                    if stake is None
                    else f"the first update came {_duration(float(stake))} after acknowledgement.",
                )
            )
    if int(conduct.get("premature_resolutions") or 0):
        threshold = ctx.summary.get("error_threshold")
        level = f" under {_pct(float(threshold), 0)}" if threshold is not None else ""
        items.append(
            Item(
                "Add a resolution checklist",
                f"resolved was declared while a fault was active; confirm alerts resolved and errors{level} first.",
            )
        )
    if ctx.unresolved():
        active = [f for f in ctx.faults if f.get("ended") is None]
        for f in active:
            remedies = " or ".join(str(a) for a in (f.get("remedies") or {}))
            targets = " or ".join(str(t) for t in f.get("targets") or [])
            items.append(
                Item(
                    f"Finish remediating {f['id']}",
                    "still active at the end of the drill"
                    + (f"; known remedy: {remedies}" if remedies else "")
                    + (f" on {targets}" if targets else "")
                    + ". Write it into the runbook and rehearse it.",
                )
            )
        if not active:
            items.append(
                Item(
                    "Close the incident properly",
                    "the faults ended but mitigation or resolution was never declared.",
                )
            )
    return items


def _fault_items(ctx: _Context, fault: Mapping[str, Any]) -> list[Item]:
    kind = str(fault.get("type", ""))
    change = _change_behind(ctx, fault)
    cid = f" ({change['id']})" if change is not None else ""
    components = _fault_components(ctx, fault)
    target = _join(components) or "the failing component"
    if kind == "schema_migration":
        return [
            Item(
                "Use expand/contract migrations",
                f"the migration{cid} dropped or renamed columns the running code still used; add "
                "new columns first, switch the code, and contract only after no release reads the old ones.",
            ),
            Item(
                "Add a migration compatibility check in CI",
                "run the current release's queries (or its test suite) against the migrated schema "
                "before a migration may deploy.",
            ),
        ]
    rules = {
        "crash": (
            f"Make {target} survive instance loss",
            "keep spare instances, restart crashed ones automatically and alert on healthy-instance count.",
        ),
        "latency": (
            f"Set timeouts and a latency alert for {target}",
            "callers waited on a slow component; bound the wait and page on p95 before shoppers notice.",
        ),
        "error_rate": (
            f"Canary releases with automatic rollback for {target}",
            f"an error-rate fault{cid} reached every shopper; a canary stage would have caught it.",
        ),
        "capacity_loss": (
            f"Keep capacity headroom on {target}",
            "alert on saturation (queueing, rejected requests) and scale out before requests fail.",
        ),
        "third_party_outage": (
            f"Add a circuit breaker and a fallback for {target}",
            "the provider's outage became the shop's; fail fast, degrade gracefully and watch the "
            "provider's status page.",
        ),
    }
    if kind in rules:
        title, why = rules[kind]
        return [Item(title, why)]
    return []


def _fault_components(ctx: _Context, fault: Mapping[str, Any]) -> list[str]:
    fid = str(fault["id"])
    for e in ctx.journal.events("fault.start"):
        if str(e["id"]) == fid and e.get("components"):
            return [str(c) for c in e["components"]]
    return [str(t) for t in fault.get("targets") or [] if str(t) not in ctx.changes]


def _action_items_section(ctx: _Context) -> Section:
    items = _action_items(ctx)
    if not items:
        return Section("Action items", (Paragraph("None derived from this run."),))
    return Section("Action items", (Bullets(tuple(items), ordered=True),))


# -- Markdown -------------------------------------------------------------------------------
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|&])")
_MD_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


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


def _md_code(text: str) -> str:
    text = " ".join(text.split("\n"))
    ticks = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (ticks + 1)
    pad = " " if ticks else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _md_inline(text: str) -> str:
    """Escaped text, where `backticked` parts stay code."""
    parts = re.split(r"(`[^`]+`)", text)
    return "".join(
        _md_code(p[1:-1])
        if p.startswith("`") and p.endswith("`") and len(p) > 1
        else md_escape(p, line_start=n == 0)
        for n, p in enumerate(parts)
    )


def _md_cell(cell: Cell) -> str:
    if isinstance(cell, Mixed):
        return "".join(_md_cell(p) for p in cell.parts)
    if isinstance(cell, Code):
        return _md_code(cell.text).replace("|", "\\|") if cell.text else ""
    if isinstance(cell, tuple):
        return ", ".join(f"**{md_escape(b.text)}**" for b in cell)
    return md_escape(cell)


def render_markdown(journal: Journal | Mapping[str, Any]) -> str:
    """The post-mortem as Markdown; the pictures are referenced by file name (``report-*.png``)."""
    return markdown(build_report(journal))


def markdown(report: Report) -> str:
    """Render a built report as Markdown (GitHub-flavoured tables)."""
    out = [f"# {md_escape(report.title)}", "", md_escape(report.subtitle), ""]
    for section in report.sections:
        out += [f"## {md_escape(section.title)}", ""]
        for block in section.blocks:
            out += _md_block(block)
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def _md_block(block: Block) -> list[str]:
    if isinstance(block, Paragraph):
        lead = f"**{md_escape(block.lead)}** " if block.lead else ""
        return [lead + md_escape(block.text)]
    if isinstance(block, Subheading):
        return [f"### {md_escape(block.text)}"]
    if isinstance(block, Figure):
        return [f"![{md_escape(block.alt)}]({block.name})", "", f"*{md_escape(block.caption)}*"]
    if isinstance(block, CodeBlock):
        longest = max((len(m) for line in block.lines for m in re.findall(r"`+", line)), default=0)
        fence = "`" * max(3, longest + 1)
        return [f"{fence}{block.language}", *block.lines, fence]
    if isinstance(block, Facts):
        return [f"- **{md_escape(k)}:** {_md_cell(v)}" for k, v in block.pairs]
    if isinstance(block, Bullets):
        lines = []
        for n, item in enumerate(block.items, 1):
            mark = f"{n}." if block.ordered else "-"
            sep = " " if item.lead.endswith(".") else " — "
            text = f"{sep}{_md_inline(item.text)}" if item.text else ""
            lines.append(f"{mark} **{_md_inline(item.lead)}**{text}")
        return lines
    header = "| " + " | ".join(md_escape(h) for h in block.headers) + " |"
    rule = (
        "|"
        + "|".join("---:" if i in block.numeric else "---" for i in range(len(block.headers)))
        + "|"
    )
    rows = ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
    return [header, rule, *rows]


# -- HTML -----------------------------------------------------------------------------------
_CSS = """
:root { --ink: #1f2328; --muted: #59636e; --rule: #d1d9e0; --zebra: #f6f8fa; --accent: #0b5cad; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 16px/1.55 -apple-system, "Segoe UI", "Helvetica Neue", Arial, "DejaVu Sans", sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 32px 28px 64px; }
h1 { font-size: 30px; line-height: 1.2; margin: 0 0 6px; }
h2 { font-size: 22px; margin: 40px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--rule); }
h3 { font-size: 17px; margin: 24px 0 8px; }
p { margin: 8px 0 12px; }
.sub { color: var(--muted); margin: 0 0 14px; }
.score { display: inline-block; font-weight: 700; font-size: 18px; padding: 4px 14px;
  border-radius: 999px; background: #eef4fb; color: var(--accent); border: 1px solid #c6daf1; }
nav { margin: 18px 0 8px; font-size: 14px; }
nav a { color: var(--accent); text-decoration: none; margin-right: 14px; white-space: nowrap; }
nav a:hover { text-decoration: underline; }
table { border-collapse: collapse; width: auto; min-width: 50%; margin: 10px 0 18px; font-size: 14px; }
table.wide { width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 6px 10px; border-bottom: 1px solid var(--rule); }
th { background: #eaeef2; font-weight: 600; white-space: nowrap; }
tbody tr:nth-child(even) { background: var(--zebra); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.time { white-space: nowrap; font-variant-numeric: tabular-nums; }
table.parts { min-width: 480px; }
table.parts tr:last-child td { font-weight: 700; border-top: 2px solid var(--ink); }
table.timeline { font-size: 13px; }
table.timeline td:nth-child(3) { white-space: nowrap; }
table.timeline td:nth-child(4) { min-width: 190px; }
table.timeline td:nth-child(5) { min-width: 300px; }
table.timeline td:nth-child(7) { min-width: 170px; }
table.timeline .badge { white-space: normal; border-radius: 9px; }
table.timeline td code, table.alerts td code { white-space: nowrap; }
table.alerts td:nth-child(2) { white-space: nowrap; }
code, pre { font-family: "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 0.9em; }
code { background: #eff1f3; padding: 1px 5px; border-radius: 4px; overflow-wrap: anywhere; }
pre { background: #f6f8fa; border: 1px solid var(--rule); border-radius: 6px; padding: 12px 14px;
  overflow-x: auto; line-height: 1.45; }
figure { margin: 14px 0 22px; }
figure img { width: 100%; height: auto; border: 1px solid var(--rule); border-radius: 4px; }
figcaption { color: var(--muted); font-size: 14px; margin-top: 6px; }
.badge { display: inline-block; font-size: 12px; font-weight: 600; line-height: 1.5; padding: 0 7px;
  margin: 1px 3px 1px 0; border-radius: 999px; border: 1px solid; white-space: nowrap; }
.badge.bad { color: #a40e26; background: #ffebe9; border-color: #ffb3b0; }
.badge.warn { color: #7a4b00; background: #fff4d6; border-color: #f0c869; }
.badge.good { color: #116329; background: #dafbe1; border-color: #8fd8a0; }
.badge.info { color: #0b4f99; background: #ddf0ff; border-color: #9ccaf5; }
.badge.muted { color: #59636e; background: #f0f2f4; border-color: #d1d9e0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 8px 0 16px; }
dl.facts dt { font-weight: 600; color: var(--muted); }
dl.facts dd { margin: 0; }
ul.good li::marker { color: #1a7f37; }
ul.bad li::marker { color: #cf222e; }
ul, ol { padding-left: 24px; }
li { margin: 4px 0; }
@media print { main { max-width: none; padding: 0; } h2 { break-after: avoid; } tr { break-inside: avoid; } }
""".strip()


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


def html_page(report: Report, images: Mapping[str, bytes]) -> str:
    """Render a built report as HTML, embedding ``images`` (file name → PNG bytes)."""
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(report.title)}</title>",
        f"<style>\n{_CSS}\n</style>",
        "</head>",
        "<body>",
        "<main>",
        "<header>",
        f"<h1>{e(report.title)}</h1>",
        f'<p class="sub">{e(report.subtitle)}</p>',
        f'<span class="score">score {report.score:.1f} / 100</span>',
        "<nav>"
        + "".join(f'<a href="#{e(s.anchor)}">{e(s.title)}</a>' for s in report.sections)
        + "</nav>",
        "</header>",
    ]
    for section in report.sections:
        out.append(f'<section id="{e(section.anchor)}">')
        out.append(f"<h2>{e(section.title)}</h2>")
        for block in section.blocks:
            out.append(_html_block(block, images))
        out.append("</section>")
    out += ["</main>", "</body>", "</html>"]
    return "\n".join(line for line in out if line) + "\n"


def _html_inline(text: str) -> str:
    """Escaped text, where `backticked` parts become <code>."""
    parts = re.split(r"(`[^`]+`)", text)
    return "".join(
        f"<code>{html.escape(p[1:-1])}</code>"
        if p.startswith("`") and p.endswith("`") and len(p) > 1
        else html.escape(p)
        for p in parts
    )


def _html_cell(cell: Cell) -> str:
    if isinstance(cell, Mixed):
        return "".join(_html_cell(p) for p in cell.parts)
    if isinstance(cell, Code):
        return f"<code>{html.escape(cell.text)}</code>" if cell.text else ""
    if isinstance(cell, tuple):
        return "".join(
            f'<span class="badge {html.escape(b.tone)}">{html.escape(b.text)}</span>' for b in cell
        )
    return html.escape(cell)


def _html_block(block: Block, images: Mapping[str, bytes]) -> str:
    e = html.escape
    if isinstance(block, Paragraph):
        lead = f"<strong>{e(block.lead)}</strong> " if block.lead else ""
        return f"<p>{lead}{e(block.text)}</p>"
    if isinstance(block, Subheading):
        return f"<h3>{e(block.text)}</h3>"
    if isinstance(block, Figure):
        data = images.get(block.name)
        if data is None:
            return ""
        uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        return (
            f'<figure><img src="{uri}" alt="{e(block.alt)}">'
            f"<figcaption>{e(block.caption)}</figcaption></figure>"
        )
    if isinstance(block, CodeBlock):
        cls = f' class="language-{e(block.language)}"' if block.language else ""
        return f"<pre><code{cls}>{e(chr(10).join(block.lines))}</code></pre>"
    if isinstance(block, Facts):
        pairs = "".join(f"<dt>{e(k)}</dt><dd>{_html_cell(v)}</dd>" for k, v in block.pairs)
        return f'<dl class="facts">{pairs}</dl>'
    if isinstance(block, Bullets):
        tag = "ol" if block.ordered else "ul"
        cls = f' class="{e(block.tone)}"' if block.tone else ""
        items = "".join(
            f"<li><strong>{_html_inline(i.lead)}</strong>"
            + (f"{' ' if i.lead.endswith('.') else ' — '}{_html_inline(i.text)}" if i.text else "")
            + "</li>"
            for i in block.items
        )
        return f"<{tag}{cls}>{items}</{tag}>"
    return _html_table(block)


def _html_table(table: Table) -> str:
    e = html.escape
    cls = f' class="{e(table.css)}"' if table.css else ""
    head = "".join(
        f'<th class="num">{e(h)}</th>' if i in table.numeric else f"<th>{e(h)}</th>"
        for i, h in enumerate(table.headers)
    )
    body = []
    for row in table.rows:
        cells = []
        for i, cell in enumerate(row):
            td_cls = "num" if i in table.numeric else ("time" if i == 0 else "")
            attr = f' class="{td_cls}"' if td_cls else ""
            cells.append(f"<td{attr}>{_html_cell(cell)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    caption = f"<caption>{e(table.caption)}</caption>" if table.caption else ""
    return (
        f"<table{cls}>{caption}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


# -- files ----------------------------------------------------------------------------------
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
    md = _write_text(out_dir / REPORT_MD, markdown(report))
    page = _write_text(out_dir / REPORT_HTML, html_page(report, images))
    return [md, page, *figures]


def _write_text(target: Path, text: str) -> Path:
    """Write atomically (as journals are)."""
    from sim.atomic import write_text

    return write_text(target, text)
