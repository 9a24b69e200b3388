"""Why it broke and how it was noticed: the root-cause and detection sections."""

from __future__ import annotations

from sim.report.model import (
    Badge,
    Block,
    Cell,
    Code,
    CodeBlock,
    Facts,
    Paragraph,
    Section,
    Subheading,
    Table,
)
from sim.report.sections.context import RunContext, duration, severity_tone


def root_cause_section(ctx: RunContext) -> Section:
    """Each fault with its remedy and the change behind it, the diagnosis, the first errors."""
    blocks: list[Block] = []
    if not ctx.faults:
        blocks.append(Paragraph("No fault was injected in this run."))
    ends = ctx.fault_ends()
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
                text += f", ended at {ctx.clock(ended)} after {duration(ended - float(start))}"
                text += f" ({cause})." if cause else "."
            else:
                text += ", still active when the drill ended: unresolved."
        blocks.append(Paragraph(text))
        remedies = f.get("remedies") or {}
        targets = f.get("targets") or []
        if remedies or targets:
            text = " or ".join(f"{a} (takes {duration(float(sec))})" for a, sec in remedies.items())
            if targets:
                aimed = " or ".join(str(t) for t in targets)
                text = f"{text}, aimed at {aimed}" if text else f"an action aimed at {aimed}"
            blocks.append(Paragraph(text + ".", lead="Known remedy:"))
        change = ctx.change_behind(f)
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


def detection_section(ctx: RunContext) -> Section:
    """Detection, paging and acknowledgement; the first signal per channel; every alert."""
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
                + (f", {duration(float(ttd))} after errors began" if ttd is not None else ""),
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
                    f"{duration(ack - float(inc['paged_at']))} after the page",
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
            flags = [Badge(str(a.get("severity", "")), severity_tone(str(a.get("severity"))))]
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
