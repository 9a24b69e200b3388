"""What every section needs: the journal and scorecard with their look-ups, the formats, and
the thresholds of the judgement rules."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sim.journal.record import team_tempo
from sim.scenario.durations import format_duration, wall_clock
from sim.scoring.score import NOTIFY_WITHIN, STAKEHOLDER_WITHIN

if TYPE_CHECKING:
    from sim.journal.record import Journal
    from sim.scoring import Phase, Scorecard

# Thresholds of the judgement rules (seconds). They are what an on-call team would call
# "fast" or "slow" for a shop-wide outage; the report states them where it uses them.
FAST_DETECTION = 300.0  # errors began → detected
SLOW_DETECTION = 600.0
FAST_ACK = 300.0  # page → acknowledged
SLOW_ACK = 900.0
# Communication is judged by scoring's limits (delays counted from the acknowledgement).
QUICK_NOTIFY = NOTIFY_WITHIN
LATE_STAKEHOLDERS = STAKEHOLDER_WITHIN


class RunContext:
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
        team = team_tempo(self.response)  # a team drawn from real teams' spread
        if team is not None:
            self.responder += f", {team}"
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

    # look-ups
    def step(self, i: int) -> Mapping[str, Any] | None:
        return next((s for s in self.steps if int(s["i"]) == i), None)

    def fault_targets(self) -> set[str]:
        return {str(t) for f in self.faults for t in f.get("targets") or []}

    def fault_ends(self) -> dict[str, Mapping[str, Any]]:
        """The ``fault.end`` events by fault id."""
        return {str(e["id"]): e for e in self.journal.events("fault.end")}

    def change_behind(self, fault: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The change a fault came with: one it names, else one of its targets, else (journals
        from before faults listed targets) a change at the fault's start on one of its components."""
        for cid in [fault.get("change"), *(fault.get("targets") or [])]:
            if cid is not None and str(cid) in self.changes:
                return self.changes[str(cid)]
        fid = str(fault["id"])
        for e in self.journal.events("fault.start"):
            if str(e["id"]) != fid:
                continue
            components = set(e.get("components") or [])
            for change in self.changes.values():
                same_time = abs(float(change.get("at", -1.0)) - float(e["t"])) < 1.0
                if same_time and set(change.get("components") or []) & components:
                    return change
        return None

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


def duration(seconds: float | None) -> str:
    return "—" if seconds is None else format_duration(round(seconds))


def pct(fraction: float, digits: int = 1) -> str:
    return f"{fraction * 100:,.{digits}f} %"


def count(n: float) -> str:
    return f"{round(n):,}"


def codes(names: Iterable[str]) -> list[str]:
    """Names as inline code (backticks) for list items, which render them as literals."""
    return [f"`{n}`" for n in names]


def join(parts: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def severity_tone(severity: str) -> str:
    return {"critical": "bad", "warning": "warn"}.get(severity, "info")
