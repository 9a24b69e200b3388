"""The scorecard as the terminal shows it after a run and after a drill."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from sim.journal import Journal
from sim.scenario import format_duration
from sim.scenario.durations import wall_clock


def clock(journal: Journal, t: float | None) -> str:
    """Simulated time ``t`` of a run as ``08:41:40 (+41m40s)``; ``—`` for no time."""
    if t is None:
        return "—"
    start = datetime.fromisoformat(journal.data["clock_start"])
    return f"{wall_clock(start, t)} (+{format_duration(round(t))})"


def _since(seconds: float | None) -> str:
    return "—" if seconds is None else f"+{format_duration(round(seconds))}"


def _minutes(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f} min"


def print_scorecard(journal: Journal, out: Console | None = None) -> None:
    """Phases, the parts of the score, conduct and what the response saved (on ``out``,
    default: standard output)."""
    out = Console(highlight=False) if out is None else out
    from sim.scoring import score
    from sim.scoring.conduct import since_words
    from sim.scoring.score import HINT_PENALTY

    sc = score(journal)
    cur = sc.currency
    table = Table(
        title=f"scorecard — responder {sc.responder}: {sc.score:.1f} / 100",
        title_justify="left",
    )
    for col in ("phase", "at", "since impact", "note"):
        table.add_column(col)
    for name, phase in sc.phases.items():
        if phase.status == "unresolved":
            at = "[bold red]unresolved[/]"
        elif phase.at is None:
            at = "—" if phase.status == "n/a" else "never"
        else:
            at = clock(journal, phase.at).split(" ")[0]
        table.add_row(name, at, _since(phase.since_impact), phase.note)
    out.print(table)
    if sc.incidents:
        out.print("each incident, timed from its own impact (the phases above: the whole shift)")
        rows = Table(box=None, pad_edge=False)
        heads = ("incident", "impact at", "detected", "acked", "diagnosed", "mitigated", "resolved")
        for col in heads:
            rows.add_column(col, no_wrap=True, justify="left" if col == "incident" else "right")
        for inc in sc.incidents:
            impact = inc.phases["impact"].at
            cells = [
                "—" if phase.at is None else _since(phase.since_impact)
                for phase in list(inc.phases.values())[1:]
            ]
            start = "none" if impact is None else clock(journal, impact).split(" ")[0]
            rows.add_row(inc.name, start, *cells)
        out.print(rows)

    parts = Table(show_header=True, box=None, pad_edge=False)
    for col in ("part", "weight", "earned", "why"):
        parts.add_column(col, justify="left" if col in ("part", "why") else "right")
    total = sum(sc.weights.values())
    why = sc.explain()
    for name in sc.parts:
        weight = sc.weights.get(name, 0.0)
        parts.add_row(name, f"{100 * weight / total:g}", f"{sc.points(name):.1f}", why[name])
    if hints := sc.conduct.get("hints_used"):
        each = f"{HINT_PENALTY:g} points each"
        parts.add_row("hints", "", f"−{HINT_PENALTY * hints:g}", f"{hints} used, {each}")
    out.print(parts)

    c: dict[str, Any] = sc.conduct
    lines = [
        f"red herrings chased: {', '.join(c['herrings']) or 'none'}"
        + (f" ({format_duration(round(c['herring_seconds']))})" if c["herring_seconds"] else ""),
        f"wrong actions: {len(c['wrong_actions'])}, harmful actions: {len(c['harmful_actions'])}",
        "users told: "
        + (
            f"{format_duration(round(c['notify_delay']))} {since_words(c)}"
            if c["notify_delay"] is not None
            else "never"
        )
        + ", stakeholders updated: "
        + (
            f"{format_duration(round(c['stakeholder_delay']))} {since_words(c)}"
            if c["stakeholder_delay"] is not None
            else "never"
        ),
    ]
    cf = sc.counterfactual
    if cf:
        if cf.get("saved_minutes") is not None:
            lines.append(
                f"against nobody responding: {_minutes(cf['saved_minutes'])} of impact and "
                f"{cf['saved_revenue']:,.0f} {cur} saved"
            )
        if cf.get("oracle_gap_minutes") is not None:
            lines.append(
                f"against the oracle: {_minutes(cf['oracle_gap_minutes'])} and "
                f"{cf['oracle_gap_revenue']:,.0f} {cur} behind"
                + _resolve_gap(cf.get("resolve_gap_minutes"))
            )
    for line in lines:
        out.print(line, soft_wrap=True)


def _resolve_gap(minutes: float | None) -> str:
    """ "; resolved 3.5 min later" — or earlier, when the responder beat the oracle."""
    if minutes is None:
        return ""
    if minutes < 0:
        return f"; resolved {_minutes(-minutes)} earlier"
    return f"; resolved {_minutes(minutes)} later"
