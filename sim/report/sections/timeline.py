"""The timeline section: the metrics picture, then every event and responder step in time order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.report.model import (
    TIMELINE_PNG,
    Badge,
    Cell,
    Code,
    Figure,
    Mixed,
    Paragraph,
    Section,
    Table,
)
from sim.report.sections.context import RunContext, duration, severity_tone
from sim.telemetry.paging import what_paged

MAX_TICKET_ROWS = 1  # tickets are many: the timeline shows the first, the impact the count

Row = tuple[float, str, Cell, Cell, str, str, tuple[Badge, ...]]
# time, source, event, target, details, lead, flags


def timeline_section(ctx: RunContext) -> Section:
    """The metrics timeline picture and one table of everything that happened."""
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
                "Changes, faults, alerts, pages, customer escalations, every step of the "
                "responder (numbered #0, #1 …; kind observe, act, communicate or declare) and "
                "the incident channel's notes, messages and declaration, in time order."
            ),
            table,
        ),
    )


def _event_cell(event: Cell, target: Cell) -> Cell:
    """The event and its target in one cell: ``page`` + ``Chris`` → "page Chris"."""
    if isinstance(event, str) and isinstance(target, Code | str) and target:
        return Mixed((event, " ", target))
    return event


DB_EVENTS = {
    "db.data_lost": "data lost",
    "db.restoring": "restore started",
    "db.restored": "restored",
    "db.promoting": "promotion started",
    "db.promoted": "replica promoted",
}


def _db_detail(e: Mapping[str, Any]) -> str:
    """What a data-tier event says, in words."""
    if e["kind"] == "db.restoring":
        return (
            f"{float(e.get('bytes', 0)) / 1e9:.1f} GB to copy, about "
            f"{duration(float(e.get('seconds', 0)))}"
        )
    if e["kind"] == "db.promoting":
        return (
            f"instance {e.get('instance')} replays {duration(float(e.get('lag', 0)))} of log first"
        )
    if "instance" in e:
        return f"instance {e['instance']}"
    return ""


CAPACITY_EVENTS = {
    "scale.launch": "instances launched",
    "scale.terminate": "instances terminated",
    "scale.refused": "launch refused",
    "quota.raised": "quota raised",
    "scaling.suspended": "scaling suspended",
    "scaling.resumed": "scaling resumed",
}


# What other mechanisms did, as the timeline says it (component events, one row each).
WORLD_EVENTS = {  # kind → (what happened, badge or "")
    "instance.oom_killed": ("instance OOM-killed", "OOM"),
    "cache.flushed": ("cache emptied", "cold cache"),
    "cache.warm": ("cache warm again", ""),
    "lb.panic": ("balancer in panic mode", "panic"),
    "lb.panic_over": ("balancer out of panic mode", ""),
    "monitoring.dark": ("monitoring dark", "no data"),
    "monitoring.restored": ("monitoring back", ""),
    "rollout.stage": ("rollout stage", ""),
    "rollout.halted": ("rollout halted", ""),
    "instance.outlier_ejected": ("instance ejected for its answers", "outlier"),
    "instance.outlier_returned": ("instance back from ejection", ""),
}


def _world_detail(e: Mapping[str, Any]) -> str:
    kind = e["kind"]
    if kind == "instance.oom_killed":
        return f"instance {e.get('instance')}, {float(e.get('leaked', 0)) / 1e9:.2f} GB leaked"
    if kind == "cache.warm":
        return f"{float(e.get('warmth', 0)):.0%} of its hot keys held"
    if kind.startswith("lb.panic"):
        return f"{e.get('healthy')} of {e.get('instances')} instances healthy"
    if kind == "monitoring.dark":
        return f"the {e.get('piece')} lost its dependency {e.get('cause')}"
    if kind == "rollout.stage":
        reach = ", ".join(f"{c} {n}/{of}" for c, (n, of) in dict(e.get("reached", {})).items())
        return f"stage {e.get('stage')} of {e.get('stages')}: {reach} instances"
    if kind == "rollout.halted":
        return str(e.get("why", ""))
    if kind == "instance.outlier_ejected":
        return (
            f"instance {e.get('instance')}: {float(e.get('failed', 0)):.0%} of its answers "
            f"failed; out for {duration(float(e.get('seconds', 0)))}"
        )
    if kind == "instance.outlier_returned":
        return f"instance {e.get('instance')}"
    return ""


def _capacity_detail(e: Mapping[str, Any]) -> str:
    """What a capacity event says, in words."""
    kind = e["kind"]
    if kind == "scale.launch":
        return f"{e.get('instances')} by {e.get('by')}"
    if kind == "scale.terminate":
        return f"{e.get('instances')} by {e.get('by')}, {e.get('remaining')} left"
    if kind == "scale.refused":
        return f"{e.get('message', '')} (repeats are not listed until a launch succeeds)"
    if kind == "quota.raised":
        return f"{e.get('old')} → {e.get('new')} instances"
    return ""


def _timeline_rows(ctx: RunContext) -> list[Row]:
    rows: list[Row] = []
    herring_changes = {str(h.get("change")): h for h in ctx.herrings.values() if h.get("change")}
    causes = ctx.fault_targets() | {str(f.get("change")) for f in ctx.faults if f.get("change")}
    fault_info = {str(f["id"]): f for f in ctx.faults}
    alert_info = {str(a["id"]): a for a in ctx.data.get("alerts") or []}
    tickets = 0
    has_steps = bool(ctx.steps)
    refusing: set[str] = set()  # components whose launches are being refused (listed once)
    for e in ctx.journal.events():
        kind, t = str(e["kind"]), float(e["t"])
        if kind in WORLD_EVENTS:
            what, badge = WORLD_EVENTS[kind]
            rows.append(
                (
                    t,
                    "mechanism",
                    what,
                    Code(str(e.get("component") or e.get("piece") or e.get("change") or "")),
                    _world_detail(e),
                    "",
                    (Badge(badge, "bad"),) if badge else (),
                )
            )
        elif kind in CAPACITY_EVENTS:
            component = str(e.get("component", "account"))
            if kind == "scale.refused" and component in refusing:
                continue
            if kind == "scale.refused":
                refusing.add(component)
            elif kind == "scale.launch":
                refusing.discard(component)
            rows.append(
                (
                    t,
                    "capacity",
                    CAPACITY_EVENTS[kind],
                    Code(component),
                    _capacity_detail(e),
                    "",
                    (Badge("refused", "bad"),) if kind == "scale.refused" else (),
                )
            )
        elif kind == "change":
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
            since = float(e.get("since") or 0.0)
            rows.append(
                (
                    t,
                    "fault",
                    "fault starts" if not since else "latent fault in place",
                    Code(fid),
                    str(info.get("description") or e.get("type", ""))
                    + (f" (began {duration(since)} before the run)" if since else ""),
                    "",
                    (Badge("fault", "bad"),),
                )
            )
        elif kind == "consequence":
            rows.append(
                (
                    t,
                    "fault",
                    "consequence",
                    Code(str(e.get("fault", ""))),
                    f"{e.get('action', '')} {e.get('target', '')}: {e.get('why', '')}",
                    "",
                    (Badge("made worse", "bad"),),
                )
            )
        elif kind in DB_EVENTS:
            rows.append(
                (
                    t,
                    "database",
                    DB_EVENTS[kind],
                    Code(str(e.get("database", ""))),
                    _db_detail(e),
                    "",
                    (),
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
                    (Badge(severity, severity_tone(severity)),) if firing else (),
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
                    f"{e.get('incident', '')}: {what_paged(list(alerts))}",
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
                    f"{duration(float(e.get('after', 0.0)))}",
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
                    f"{e.get('incident', '')}: {duration(float(e.get('after', 0.0)))} after the page",
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
                    f"{e.get('tickets')} tickets within {duration(float(e.get('window', 0.0)))}"
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
    rows += [_channel_row(c) for c in ctx.response.get("channel") or []]
    return rows


CHANNEL_EVENTS = {"note": "note", "say": "message", "declare": "incident declared"}


def _channel_row(entry: Mapping[str, Any]) -> Row:
    """A line of the incident channel (a drill's notes, a game day's chat and declaration)."""
    kind = str(entry.get("kind", "say"))
    return (
        float(entry["t"]),
        "channel",
        CHANNEL_EVENTS.get(kind, kind),
        str(entry.get("by", "")),
        str(entry.get("text", "")),
        "",
        (Badge("declared", "good"),) if kind == "declare" else (),
    )


def _step_row(ctx: RunContext, step: Mapping[str, Any]) -> Row:
    i = int(step["i"])
    t, end = float(step["t"]), float(step.get("end", step["t"]))
    details = str(step.get("evidence", ""))
    if step.get("harm"):
        details += f" — harm: {step['harm']}"
    parts: list[str | Code] = [f"#{i} {step['call']}"]
    if step.get("target"):
        parts += [" ", Code(str(step["target"]))]
    if end > t:
        parts.append(f" ({duration(end - t)})")
    return (
        t,
        str(step.get("kind", "?")),
        Mixed(tuple(parts)),
        "",
        details,
        str(step.get("lead") or ""),
        _step_flags(ctx, step),
    )


def _step_flags(ctx: RunContext, step: Mapping[str, Any]) -> tuple[Badge, ...]:
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
