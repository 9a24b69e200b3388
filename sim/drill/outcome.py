"""The end of a drill: the reveal, the scorecard side by side with others, the files.

The journal is assembled like ``sim.run``'s (:func:`sim.runner.journal_of`), scored like any
run's (:func:`sim.report.console.print_scorecard`), and compared with the ``experienced``
responder and the oracle on the same scenario and seed. Files, each written atomically, in
this order: ``session.json`` (the most precious: it reproduces everything else),
``journal.json``, then the post-mortem ``report.md`` / ``report.html`` and its pictures.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from sim.drill.core import Drill
from sim.journal import Journal
from sim.scenario import format_duration
from sim.scoring import Scorecard
from sim.scoring.incidents import slowest

ENDINGS = {
    "resolved": "you declared it resolved",
    "quit": "you ended it",
    "horizon": "the shift ran out",
    "interrupted": "interrupted",
    "end of input": "end of input",
    "script ended": "the script ended",
    "no page": "no page came",
}


def _since(seconds: float | None) -> str:
    return "never" if seconds is None else f"+{format_duration(round(seconds))}"


def comparison(rows: Mapping[str, Journal], currency: str, you: str) -> Table:
    """Score, time to mitigate and resolve (since impact), lost revenue, failed checkouts."""
    from sim.scoring import score

    cards = {name: score(journal) for name, journal in rows.items()}
    several = any(sc.incidents for sc in cards.values())
    title = "against others on the same seed"
    if several:  # each incident timed from its own impact: the slowest one's
        title += " (mitigated, resolved: the slowest incident, from its own impact)"
    table = Table(title=title, title_justify="left", pad_edge=False)
    for col in ("responder", "score", "mitigated", "resolved", "lost revenue", "failed checkouts"):
        table.add_column(col, justify="left" if col == "responder" else "right")

    def since(sc: Scorecard, phase: str) -> str:
        if sc.incidents:
            return _since(slowest(sc.incidents, phase)[0])
        return _since(sc.phases[phase].since_impact)

    for name, journal in rows.items():
        sc = cards[name]
        s = journal.summary
        table.add_row(
            Text(f"{name} (you)" if name == you else name, "bold" if name == you else ""),
            f"{sc.score:.1f}",
            since(sc, "mitigation"),
            since(sc, "resolution"),
            f"{s['lost_revenue']:,.0f} {currency}",
            f"{s['failed_checkouts']:,.0f}",
        )
    return table


def reveal(drill: Drill, journal: Journal, console: Console) -> None:
    """What the scenario was and what broke (never shown before the end)."""
    data: Mapping[str, Any] = journal.data
    reason = ENDINGS.get(drill.ended or "quit", drill.ended or "")
    console.rule(f"The drill is over: {reason} (at {drill.clock(drill.session.ended_at())})")
    console.print(
        Text.assemble(
            "The scenario was ",
            (data["scenario"]["name"], "bold"),
            f": {data['scenario']['description']}",
        ),
        soft_wrap=True,
    )
    for f in data["summary"]["faults"]:
        ended = f["ended"]
        how = "never ended" if ended is None else f"ended {drill.clock(ended)}"
        console.print(f"What broke: {f['id']} — {f['description']} ({how})", soft_wrap=True)


def conclude(drill: Drill, out_dir: Path, console: Console) -> tuple[Journal, list[Path]]:
    """Finish ``drill``, show how it went, write its files; return the journal and paths."""
    from sim.report.console import print_scorecard

    journal = drill.finish()
    written = [drill.session.write(out_dir / "session.json")]
    written.append(journal.write(out_dir / "journal.json"))
    reveal(drill, journal, console)
    print_scorecard(journal)
    if drill.compare:
        rows = {drill.responder: journal, **drill.others}
        console.print(comparison(rows, str(journal.data["currency"]), drill.responder))
    else:
        console.print("no comparison with other responders (--no-compare)", style="dim")
    console.print(
        f"hints used: {drill.hints_used} of {drill.session.hints} (5 points off the score each)",
        soft_wrap=True,
    )
    from sim.report.postmortem import write_report

    written += write_report(journal, out_dir)
    console.print("wrote " + ", ".join(str(p) for p in written), soft_wrap=True)
    return journal, written


__all__ = ["comparison", "conclude", "reveal"]
