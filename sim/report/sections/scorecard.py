"""How the response scored: the phase chart and tables, and the counterfactual runs beside it."""

from __future__ import annotations

from sim.report.model import (
    PHASES_PNG,
    Badge,
    Block,
    Cell,
    Figure,
    Paragraph,
    Section,
    Subheading,
    Table,
)
from sim.report.sections.context import RunContext, count, duration, join
from sim.scoring.score import HINT_PENALTY

PHASE_ORDER = ("impact", "detection", "acknowledgement", "diagnosis", "mitigation", "resolution")


def scorecard_section(ctx: RunContext) -> Section:
    """The score, the phase chart, each phase's milestone and the parts of the score."""
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
                else f"+{duration(phase.since_impact)}"
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
    why = sc.explain()
    for name, value in sc.parts.items():
        weight = float(sc.weights.get(name, 0.0))
        part_rows.append(
            (
                name,
                f"{value:.2f}",
                f"{weight:g} ({weight / total_weight:.0%})",
                f"{sc.points(name):.1f}",
                why[name],
            )
        )
    if hints := int(sc.conduct.get("hints_used") or 0):
        part_rows.append(
            ("hints", "", "", f"−{HINT_PENALTY * hints:g}", f"{hints} used, {HINT_PENALTY:g} each")
        )
    part_rows.append(("total", "", f"{total_weight:g}", f"{sc.score:.1f}", ""))
    parts = Table(
        ("part", "score (0–1)", "weight (share)", "points", "why"),
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
            *_each_incident(ctx),
            Subheading("Parts of the score"),
            parts,
        ),
    )


def _each_incident(ctx: RunContext) -> tuple[Block, ...]:
    """A shift of several incidents: each one's milestones, timed from its own impact."""
    if not ctx.sc.incidents:
        return ()
    rows: list[tuple[Cell, ...]] = []
    for inc in ctx.sc.incidents:
        impact = inc.phases["impact"]
        cells: list[Cell] = [inc.name, ctx.clock(impact.at) if impact.at is not None else "none"]
        for name in PHASE_ORDER[1:]:
            phase = inc.phases[name]
            if phase.since_impact is not None:
                cells.append(f"+{duration(phase.since_impact)}")
            else:
                cells.append("n/a" if phase.status == "n/a" else (Badge("unresolved", "bad"),))
        rows.append(tuple(cells))
    table = Table(
        ("incident", "impact", *PHASE_ORDER[1:]),
        tuple(rows),
        numeric=frozenset(range(2, len(PHASE_ORDER) + 1)),
        css="wide",
    )
    return (
        Subheading("Each incident"),
        Paragraph(
            "The shift had more than one incident: each is timed from its own impact, and the "
            "timed parts of the score are each incident's, averaged. The phases above are the "
            "shift's, from the first impact to the last."
        ),
        table,
    )


def counterfactual_section(ctx: RunContext) -> Section:
    """This run beside doing nothing and the oracle (only for journals that have them)."""
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
            count(s["failed_requests"]),
            count(s["failed_checkouts"]),
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
                count(cf.get("failed_requests", 0)),
                count(cf.get("failed_checkouts", 0)),
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


def _counterfactual_sentences(ctx: RunContext) -> list[str]:
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
            out.append("The oracle would have " + join(bits) + ".")
        else:
            out.append("This run did as well as the oracle, or better.")
    gap_res = cf.get("resolve_gap_minutes")
    oracle = ctx.counterfactuals.get("oracle")
    if gap_res is not None and gap_res >= 0:
        out.append(f"The oracle declared the incident resolved {_minutes(gap_res)} sooner.")
    elif gap_res is not None:
        out.append(
            f"This run declared the incident resolved {_minutes(-gap_res)} before the oracle."
        )
    elif oracle is not None:
        who = "the oracle" if oracle.get("resolved_at") is None else "this run"
        out.append(f"The gap to the oracle's resolution is undefined: {who} never resolved.")
    return out


def _minutes(value: float) -> str:
    return f"{value:,.0f} minute{'' if round(value) == 1 else 's'}"
