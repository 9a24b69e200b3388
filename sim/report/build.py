"""From a journal to the report model: score it once and lay out the sections in order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.journal.record import Journal
from sim.report.model import Report, Section
from sim.report.sections.actions import action_items_section
from sim.report.sections.cause import detection_section, root_cause_section
from sim.report.sections.context import RunContext
from sim.report.sections.lessons import lessons_sections
from sim.report.sections.scorecard import counterfactual_section, scorecard_section
from sim.report.sections.summary import impact_section, summary_section
from sim.report.sections.timeline import timeline_section
from sim.scoring import score


def build_report(journal: Journal | Mapping[str, Any]) -> Report:
    """Score the journal and lay out the post-mortem (no file I/O, no drawing)."""
    j = as_journal(journal)
    sc = score(j)
    ctx = RunContext(j, sc)
    sections: list[Section] = [summary_section(ctx), impact_section(ctx), scorecard_section(ctx)]
    if ctx.counterfactuals:
        sections.append(counterfactual_section(ctx))
    sections += [
        timeline_section(ctx),
        root_cause_section(ctx),
        detection_section(ctx),
        *lessons_sections(ctx),
        action_items_section(ctx),
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
