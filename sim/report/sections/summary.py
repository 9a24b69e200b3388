"""The opening of the post-mortem: the summary in three paragraphs and the impact table."""

from __future__ import annotations

from sim.report.model import Cell, Paragraph, Section, Table
from sim.report.sections.context import RunContext, count, duration, join, pct


def summary_section(ctx: RunContext) -> Section:
    """What happened, what the responder did, what it cost."""
    s = ctx.summary
    sentences: list[str] = []
    when = f"{ctx.start:%Y-%m-%d}"
    for f in ctx.faults:
        t0 = f.get("start", ctx.impact)
        head = f"At {ctx.clock(float(t0))} on {when}" if t0 is not None else f"On {when}"
        change = ctx.change_behind(f)
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
            f"({duration(ctx.stopped - ctx.impact)}; peak error ratio "
            f"{pct(float(s.get('peak_error_ratio', 0.0)))})."
        )
    else:
        sentences.append(
            f"Shoppers saw errors from {ctx.clock(ctx.impact)} until the drill ended at "
            f"{ctx.clock(ctx.horizon)}: still unresolved after "
            f"{duration(ctx.horizon - ctx.impact)}."
        )
    if s.get("detected_at") is not None:
        ttd = s.get("time_to_detect")
        after = f", {duration(float(ttd))} after errors began" if ttd is not None else ""
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
            f"{count(failed)} requests and "
            f"{count(impact.get('failed_checkouts', s['failed_checkouts']))} checkouts failed, "
            f"{count(impact.get('affected_users', s.get('failed_sessions', 0)))} shopping "
            f"sessions gave up after errors and {ctx.money(lost)} of revenue was lost."
        )
    else:
        cost = "No request failed and no revenue was lost."
    cost += f" Score: {ctx.sc.score:.1f} / 100."
    return Section(
        "Summary", (Paragraph(" ".join(sentences)), Paragraph(response), Paragraph(cost))
    )


def _response_sentence(ctx: RunContext) -> str:
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
        "declared the incident " + join(said) if said else "never declared it mitigated or resolved"
    )
    text = f"The responder ({ctx.responder}) " + "; ".join(parts) + "."
    fixed = {str(f): st for st in ctx.steps for f in st.get("remedied") or []}
    ends = ctx.fault_ends()
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


def impact_section(ctx: RunContext) -> Section:
    """The cost of the outage, measure by measure."""
    s, impact = ctx.summary, ctx.sc.impact
    failed = float(impact.get("failed_requests", s["failed_requests"]))
    requests = float(s.get("requests") or 0)
    rows: list[tuple[Cell, ...]] = [
        (
            "failed requests",
            count(failed),
            f"of {count(requests)} requests ({pct(failed / requests, 2)})" if requests else "",
        ),
        (
            "failed checkouts",
            count(impact.get("failed_checkouts", s["failed_checkouts"])),
            f"of {count(s.get('checkout_attempts', 0))} shoppers who meant to check out",
        ),
        (
            "affected users",
            count(impact.get("affected_users", s.get("failed_sessions", 0))),
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
        rows.append(("error budget spent", pct(float(budget)), context))
    escalations = len((ctx.data.get("complaints") or {}).get("escalations") or [])
    rows.append(
        (
            "support tickets",
            count(s.get("tickets", 0)),
            f"{escalations} escalation(s) to engineering by customer service",
        )
    )
    if ctx.impact is not None and ctx.sc.incidents:
        # a shift of several incidents: each one's own impact, not the time between them
        each = []
        for inc in ctx.sc.incidents:
            began, mitigation = inc.phases["impact"], inc.phases["mitigation"]
            if began.at is None:
                each.append(f"{inc.name}: none")
            elif mitigation.since_impact is None:
                each.append(f"{inc.name}: {mitigation.note}")
            else:
                each.append(f"{inc.name} {duration(mitigation.since_impact)}")
        rows.append(
            (
                "duration of impact",
                f"{len(ctx.sc.incidents)} incidents",
                "; ".join(each)
                + f"; peak error ratio {pct(float(s.get('peak_error_ratio', 0.0)))}",
            )
        )
    elif ctx.impact is not None:
        end = ctx.stopped if ctx.stopped is not None else ctx.horizon
        rows.append(
            (
                "duration of impact",
                duration(end - ctx.impact),
                f"peak error ratio {pct(float(s.get('peak_error_ratio', 0.0)))}"
                + ("" if ctx.stopped is not None else "; unresolved: errors ran to the horizon"),
            )
        )
    table = Table(("measure", "value", "context"), tuple(rows), numeric=frozenset({1}))
    return Section("Impact", (table,))
