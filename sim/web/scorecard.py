"""A game day's scorecards: the team's (the CLI's scoring, unchanged), coordination, each role's.

The team is scored exactly as ``chaosdrill drill`` and ``chaosdrill score`` score a run
(:func:`sim.scoring.score`; the text is the CLI's own scorecard). Coordination measures what a
single trainee cannot show:

``commander_after``  seconds from the page to the incident's declaration (``declare``)
``ack_after``        seconds from the page to its acknowledgement
``duplicates``       the same command by two roles within five simulated minutes
``diagnosis_to_action``  seconds from the declared cause to the first action that remedied
                     something (``None`` when either never happened)

Each role's card counts what it did — commands, looks, acts, messages — and what came of it:
actions that remedied a fault, harmful and wrong ones, refusals (commands the role had no
right to), hints received from the facilitator, and its first command after the page.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.console import Console

from sim.drill.commands import split
from sim.journal import Journal
from sim.scoring import score
from sim.web.feed import DUPLICATE_WITHIN, Entry


def _cli_scorecard(journal: Journal) -> str:
    from sim.report.console import print_scorecard

    buffer = io.StringIO()
    print_scorecard(journal, Console(file=buffer, width=100, color_system=None))
    return buffer.getvalue().rstrip()


def _word(line: str) -> str:
    parsed = split(line)
    return "" if parsed is None else parsed.word


def _normal(line: str) -> str:
    parsed = split(line)
    return "" if parsed is None else " ".join((parsed.word, *parsed.args))


def duplicates(
    entries: Sequence[Entry], steps: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Commands that cost simulated time, repeated by a different role within five minutes."""
    found: list[dict[str, Any]] = []
    last: dict[str, Entry] = {}
    for e in entries:
        if e.kind != "command" or e.steps[0] == e.steps[1]:
            continue  # messages, acks and mistakes cost nothing: not duplicated work
        key = _normal(e.line)
        earlier = last.get(key)
        if earlier is not None and earlier.by != e.by and e.t - earlier.t <= DUPLICATE_WITHIN:
            found.append(
                {
                    "command": key,
                    "first": earlier.by,
                    "again": e.by,
                    "after": round(e.t - earlier.t, 1),
                }
            )
        last[key] = e
    return found


def _role_card(
    role: str,
    entries: Iterable[Entry],
    steps: Sequence[Mapping[str, Any]],
    paged: float | None,
    wrong: set[int],
) -> dict[str, Any]:
    mine = [e for e in entries if e.by == role]
    commands = [e for e in mine if e.kind == "command"]
    taken = [steps[i] for e in commands for i in range(*e.steps) if i < len(steps)]
    kinds = [s["kind"] for s in taken]
    first = next((e.t for e in commands), None)
    return {
        "commands": len(commands),
        "looks": kinds.count("observe"),
        "acts": kinds.count("act"),
        "updates": kinds.count("communicate"),
        "declarations": kinds.count("declare"),
        "messages": sum(1 for e in commands if _word(e.line) in ("say", "note", "declare")),
        "remedied": sorted({f for s in taken for f in s.get("remedied") or []}),
        "harmful": sum(1 for s in taken if s.get("harmful")),
        "wrong": sum(1 for s in taken if int(s["i"]) in wrong),
        "refused": sum(1 for e in mine if e.kind == "refused"),
        "first_after_page": None if first is None or paged is None else round(first - paged, 1),
    }


def scorecards(
    journal: Journal, entries: Sequence[Entry], roles: Mapping[str, frozenset[str]]
) -> dict[str, Any]:
    """The team's scorecard, coordination and one card per role."""
    sc = score(journal)
    data = journal.data
    summary, response = data["summary"], data.get("response") or {}
    steps: list[Mapping[str, Any]] = list(response.get("steps") or [])
    paged = next(
        (float(i["paged_at"]) for i in data["paging"]["incidents"] if i["paged_at"] is not None),
        None,
    )
    declared = next(
        (float(c["t"]) for c in response.get("channel") or [] if c["kind"] == "declare"), None
    )
    acked = summary.get("acknowledged_at")
    diagnosis = response.get("diagnosis")
    remedy = None
    if diagnosis is not None:
        remedy = next(
            (
                float(s["t"])
                for s in steps
                if s.get("remedied") and float(s["t"]) >= float(diagnosis["at"])
            ),
            None,
        )
    wrong = {int(i) for i in sc.conduct.get("wrong_actions", [])}
    hints: dict[str, int] = {}
    for e in entries:
        if e.kind == "hint":
            for role in e.audience:
                hints[role] = hints.get(role, 0) + 1

    def after(t: float | None) -> float | None:
        return None if t is None or paged is None else round(float(t) - paged, 1)

    cards = {}
    for role in roles:
        card = _role_card(role, entries, steps, paged, wrong)
        card["hints"] = hints.get(role, 0)
        cards[role] = card
    return {
        "team": {
            "score": round(sc.score, 1),
            "phases": {n: p.to_dict() for n, p in sc.phases.items()},
            "parts": {n: round(f, 3) for n, f in sc.parts.items()},
            "lost_revenue": summary["lost_revenue"],
            "failed_checkouts": summary["failed_checkouts"],
            "currency": data["currency"],
            "text": _cli_scorecard(journal),
        },
        "coordination": {
            "commander_after": after(declared),
            "ack_after": after(acked),
            "duplicates": duplicates(entries, steps),
            "diagnosis_to_action": (
                None
                if diagnosis is None or remedy is None
                else round(remedy - float(diagnosis["at"]), 1)
            ),
            "hints": sum(hints.values()),
        },
        "roles": cards,
        "scenario": {
            "name": data["scenario"]["name"],
            "description": data["scenario"]["description"],
        },
    }


__all__ = ["duplicates", "scorecards"]
