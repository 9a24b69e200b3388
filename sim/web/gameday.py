"""A game day: one drill taken by a team in roles, run by a facilitator, on a shared clock.

A :class:`GameDay` wraps one team :class:`~sim.drill.core.Drill` (pages wait for ``ack``,
every command carries the role that typed it). Everything that happens is an :class:`Entry`
in one ordered feed; each entry names its audience, so a participant only ever receives what
is meant for them: the facilitator's injections and the hints sent to other roles never
leave the server towards them (:meth:`Entry.visible_to`, :meth:`Entry.view`).

Time: the facilitator runs the clock — real time, ×N, paused. :meth:`GameDay.tick` moves
the simulation to where the clock says; every command also costs the simulated time the
action API charges, exactly as in the terminal drill. Commands are recorded in the drill's
session with their simulated time and role, so ``chaosdrill replay`` reproduces the game
day's journal byte for byte, and so a restarted server rebuilds a running game day by
re-issuing them (:meth:`GameDay.restore`).

This module knows nothing of HTTP: :mod:`sim.web.app` serves it, :mod:`sim.web.store`
keeps it.
"""

from __future__ import annotations

import io
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

import sim.drill.render as render
from sim.drill.commands import printable, split
from sim.drill.core import Drill
from sim.drill.inject import FAULT_EXAMPLE, HERRING_EXAMPLE
from sim.journal import Journal
from sim.scenario import LoadedScenario, format_duration
from sim.scenario import load as load_scenario
from sim.telemetry.paging import what_paged
from sim.web.feed import Entry
from sim.web.roles import FACILITATOR, allowed_commands, command_of, refusal

SPEEDS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
LINE_LIMIT = 500  # characters of a typed line
CONSOLE_WIDTH = 100
ENDINGS = {
    "quit": "ended by the facilitator",
    "resolved": "the commander declared it resolved",
    "horizon": "the shift ran out",
    "no page": "no page came",
}  # the same command by two roles within this is duplicated work


def _page_text(paged: dict[str, Any]) -> str:
    """A page as the feed says it to everyone."""
    return f"PAGE {paged['id']}: {what_paged(paged['alerts'])} — someone acknowledge it (`ack`)"


class GameDayError(ValueError):
    """Something a participant or the facilitator asked for that cannot be done (the message
    says why, for people)."""


@dataclass
class Config:
    """What a game day was created with (it never changes afterwards)."""

    id: str
    scenario_file: str  # absolute path of the scenario file
    scenario_label: str  # its catalogue name (the facilitator sees it; participants never)
    seed: int
    roles: dict[str, list[str]]
    tokens: dict[str, str]  # role -> join token
    facilitator_token: str
    random: bool = False
    created: float = field(default_factory=time.time)

    def role_of(self, token: str) -> str | None:
        """The role ``token`` joins as (``facilitator`` for the facilitator's), or ``None``."""
        if secrets.compare_digest(token.encode(), self.facilitator_token.encode()):
            return FACILITATOR
        for role, known in self.tokens.items():
            if secrets.compare_digest(token.encode(), known.encode()):
                return role
        return None

    def to_record(self) -> dict[str, Any]:
        return asdict(self)


def new_config(
    scenario_file: Path,
    label: str,
    seed: int,
    roles: Mapping[str, Iterable[str]],
    *,
    random_pick: bool = False,
) -> Config:
    """A new game day's configuration, with fresh unguessable tokens."""
    return Config(
        id=secrets.token_hex(4),
        scenario_file=str(scenario_file.resolve()),
        scenario_label=label,
        seed=seed,
        roles={r: sorted(rights) for r, rights in roles.items()},
        tokens={r: secrets.token_urlsafe(18) for r in roles},
        facilitator_token=secrets.token_urlsafe(24),
        random=random_pick,
    )


class GameDay:
    """One running (or ended) game day. Every method is safe to call from any thread."""

    def __init__(
        self,
        config: Config,
        out_dir: Path,
        *,
        record: Callable[[GameDay, Entry | None], None] | None = None,
        wall: Callable[[], float] = time.time,
        speed: float = 1.0,
        paused: bool = True,
    ) -> None:
        self.config = config
        self.out_dir = out_dir
        self.record = record  # persistence: called with each new entry (None: the state)
        self.wall = wall
        self.lock = threading.RLock()
        self.roles = {r: frozenset(rights) for r, rights in config.roles.items()}
        self.loaded: LoadedScenario = load_scenario(config.scenario_file)
        self.console = Console(
            record=True,
            width=CONSOLE_WIDTH,
            file=io.StringIO(),  # emptied by _printed(), as the record is
            color_system=None,
            highlight=False,
        )
        self.drill = Drill(
            self.loaded,
            config.seed,
            console=self.console,
            responder="team",
            hints=0,
            facilitator=True,
            random_pick=config.random,
            team=True,
        )
        self.entries: list[Entry] = []
        self.speed = speed
        self.paused = paused
        self.mark = wall()
        self.ended: str | None = None
        self.journal: Journal | None = None
        self.scorecard: dict[str, Any] | None = None
        self.listeners: list[Callable[[GameDay], None]] = []  # told after every change
        self.version = 0  # bumped by every change (entries, clock, live picture)
        self.live: dict[str, Any] = {}

    # -- what everyone sees ------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self.config.id

    @property
    def now(self) -> float:
        return self.drill.now

    def clock(self, t: float) -> str:
        return render.clock(self.drill.simulation, t)

    def _printed(self) -> str:
        """What the drill printed since the last call (and forget it)."""
        file = self.console.file
        if isinstance(file, io.StringIO):
            file.seek(0)
            file.truncate()
        return self.console.export_text(clear=True).rstrip()

    def _add(self, kind: str, by: str, text: str, at: float | None = None, **kw: Any) -> Entry:
        """A new entry at simulated time ``at`` (default: now), kept and told to listeners."""
        # t is kept exact: a restart re-issues commands at exactly the time they ran
        t = self.now if at is None else at
        entry = Entry(len(self.entries), round(self.wall(), 3), t, kind, by, text, **kw)
        self.entries.append(entry)
        if self.record is not None:
            self.record(self, entry)
        return entry

    def _changed(self) -> None:
        if self.ended is None:  # an ended game day keeps the picture it ended on
            self.live = self._live()
        self.version += 1
        for listener in list(self.listeners):
            listener(self)

    def feed(self, who: str, after: int = -1) -> list[dict[str, Any]]:
        """The entries ``who`` may see, after sequence number ``after``. Lock-free (the feed
        only grows, and an entry never changes once added): the event streams read it from
        the server's event loop while a command or the end holds the lock."""
        entries = self.entries[after + 1 :]
        return [e.view(who, self.clock) for e in entries if e.visible_to(who)]

    # -- the start ---------------------------------------------------------------------------
    def start(self) -> None:
        """Run quietly until the page (the drill's own start) and tell everyone."""
        with self.lock:
            self.drill.begin()
            printed = self._printed()
            if self.drill.ended == "no page":
                self._add("page", "system", "the shift ended without a page", output=printed)
                self._finish("no page")
            else:
                paged = self.drill.simulation.pager.incidents[0]
                self._add("page", "system", _page_text(paged), output=printed)
            self.mark = self.wall()
            self._changed()

    def restore(self, entries: Iterable[Entry], at: float) -> None:
        """Rebuild a running game day after a restart: re-issue its commands at their
        recorded times, keep the recorded feed, and move the clock to ``at``."""
        with self.lock:
            self.drill.begin()
            self._printed()
            for entry in entries:
                if entry.kind in ("command", "injection") and entry.line:
                    self.drill.issue(entry.line, at=entry.t, by=entry.by)
                    self._printed()
                self.entries.append(entry)
            if at > self.now:
                self.drill.advance_to(at)
            self.mark = self.wall()
            self._changed()

    # -- the clock ---------------------------------------------------------------------------
    def tick(self, wait: bool = True) -> bool:
        """Move the simulation to where the clock says; ``True`` when anything changed.
        ``wait=False``: give up at once when a command or the end holds the game day (the
        server's clock goes on to the others, and catches this one up on its next tick)."""
        if not self.lock.acquire(blocking=wait):
            return False
        try:
            return self._tick()
        finally:
            self.lock.release()

    def _tick(self) -> bool:
        with self.lock:
            wall = self.wall()
            if self.ended is not None:
                return False
            if self.paused:
                self.mark = wall
                return False
            target = self.now + self.speed * (wall - self.mark)
            self.mark = wall
            self.drill.advance_to(target)
            self._pages()
            if self.drill.ended is not None:
                self._finish(self.drill.ended)
            self._changed()
            return True

    def _pages(self) -> None:
        """A page the running clock brought (a shift's next incident): into the feed for
        everyone, as the first one was."""
        for paged in self.drill.unseen_pages():
            self._add("page", "system", _page_text(paged), at=float(paged["paged_at"]))

    def set_clock(self, *, speed: float | None = None, paused: bool | None = None) -> Entry:
        """The facilitator changes the clock's speed or pauses / resumes it."""
        with self.lock:
            self._running("change the clock")
            self.tick()  # the time so far runs at the old speed
            if speed is not None:
                if speed not in SPEEDS:
                    raise GameDayError(
                        f"speed: expected one of {', '.join(f'{s:g}' for s in SPEEDS)}"
                    )
                self.speed = speed
            if paused is not None:
                self.paused = paused
            self.mark = self.wall()
            rate = f"{self.speed:g}× real time"
            if paused is None:
                what = f"the clock's speed is now {rate}" + (" (paused)" if self.paused else "")
            else:
                what = "the clock is paused" if self.paused else f"the clock runs at {rate}"
            entry = self._add("clock", FACILITATOR, what)
            self._changed()
            return entry

    def _running(self, what: str) -> None:
        if self.ended is not None:
            raise GameDayError(f"cannot {what}: the game day has ended ({self.ended})")

    # -- participants ------------------------------------------------------------------------
    def command(self, role: str, line: str) -> Entry:
        """Run ``line`` typed by ``role``: refused (and said why) if the role may not."""
        text = " ".join(printable(line).split())[:LINE_LIMIT]
        parsed = split(text)
        if parsed is None:
            raise GameDayError("type a command (`help` lists yours)")
        with self.lock:
            self._running("act")
            command = command_of(parsed.word)
            if command is not None and command.name == "help":
                return self._help(role)
            if command is not None:
                why = refusal(role, self.roles, command)
                if why is not None:
                    entry = self._add("refused", role, why, audience=(role,), line=text)
                    self._changed()
                    return entry
            self.tick()
            if self.ended is not None:
                raise GameDayError(f"the game day has ended ({self.ended})")
            incident = self.drill.incident
            first = len(incident.steps)
            channel = len(self.drill.channel)
            at = self.now
            self.drill.issue(text, by=role)
            printed = self._printed()
            steps = (first, len(incident.steps))
            summary = self._summary(role, text, channel, steps)
            entry = self._add(
                "command", role, summary, at=at, line=text, output=printed, steps=steps
            )
            self.mark = self.wall()
            if self.drill.ended is not None:
                self._finish(self.drill.ended)
            self._changed()
            return entry

    def _summary(self, role: str, line: str, channel: int, steps: tuple[int, int]) -> str:
        """The channel's line for a command: the message itself for the channel's commands,
        the command and its outcome for acts and declarations, the command for looks."""
        if len(self.drill.channel) > channel:
            return str(self.drill.channel[-1]["text"])
        parsed = split(line)
        word = parsed.word if parsed else line
        if word == "ack":
            return "acknowledged the page"
        for step in self.drill.incident.steps[steps[0] : steps[1]]:
            if step["kind"] in ("act", "declare", "communicate"):
                return f"{line} → {step['evidence']}"[:300]
        return line

    def _help(self, role: str) -> Entry:
        rows = [f"{c.usage:<34} {c.summary}" for c in allowed_commands(self.roles[role])]
        rights = ", ".join(sorted(self.roles[role])) or "none"
        output = (
            f"You are the {role} (rights: {rights}). Looking and acting cost simulated time; "
            "the facilitator runs the clock.\n" + "\n".join(rows)
        )
        entry = self._add("help", role, "help", audience=(role,), line="help", output=output)
        self._changed()
        return entry

    # -- the facilitator ---------------------------------------------------------------------
    def inject(self, kind: str, text: str) -> Entry:
        """Start an extra fault or red herring now; only the facilitator hears of it."""
        if kind not in ("fault", "herring"):
            raise GameDayError("kind: expected fault or herring")
        body = " ".join(printable(text).split())[:LINE_LIMIT]
        if not body:
            example = FAULT_EXAMPLE if kind == "fault" else HERRING_EXAMPLE
            raise GameDayError(f"give one {kind} entry, e.g. {example}")
        with self.lock:
            self._running("inject")
            self.tick()
            before = len(self.drill.session.injections)
            line = f"inject-{kind} {body}"
            self.drill.issue(line, by=FACILITATOR)
            printed = self._printed()
            refused = len(self.drill.session.injections) == before
            # kept even when refused: the drill's session has the line, and a restart
            # re-issues it (refused again, at no cost) so the session stays the same
            entry = self._add(
                "injection",
                FACILITATOR,
                printed.split("\n", 1)[0].strip() or f"the {kind} was refused",
                audience=(FACILITATOR,),
                line=line,
                output=printed,
            )
            self._changed()
            if refused:
                raise GameDayError(entry.text)
            return entry

    def hint(self, role: str, text: str) -> Entry:
        """A private message from the facilitator to one role."""
        body = " ".join(printable(text).split())[:LINE_LIMIT]
        if role not in self.roles:
            raise GameDayError(f"to: no role {role[:30]!r} in this game day")
        if not body:
            raise GameDayError("text: the hint is empty")
        with self.lock:
            self._running("send a hint")
            entry = self._add("hint", FACILITATOR, body, audience=(role,))
            self._changed()
            return entry

    def suggestion(self) -> str | None:
        """What the telemetry would point a trainee at now (for the facilitator to send)."""
        from sim.drill.hints import next_hint

        with self.lock:
            found = next_hint(self.drill.incident, set())
            return None if found is None else found[1]

    # -- the end -----------------------------------------------------------------------------
    def end(self, reason: str = "quit") -> dict[str, Any]:
        """End the exercise (the facilitator), or return the scorecard if it has ended."""
        with self.lock:
            if self.ended is None:
                self.tick()
            if self.ended is None:
                self.drill.stop(reason)
                self._finish(reason)
                self._changed()
            assert self.scorecard is not None
            return self.scorecard

    def _finish(self, reason: str) -> None:
        """Finish the drill, write its files, score it (under the lock)."""
        from sim.report.postmortem import write_report
        from sim.web.scorecard import scorecards

        if self.ended is not None:
            return
        self.ended = reason
        at = self.now
        self.live = self._live()  # the picture it ended on (finishing runs to the horizon)
        journal = self.drill.finish()
        self.journal = journal
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.drill.session.write(self.out_dir / "session.json")
        journal.write(self.out_dir / "journal.json")
        write_report(journal, self.out_dir)
        self.scorecard = scorecards(journal, self.entries, self.roles)
        data = journal.data
        self._add(
            "ended",
            "system",
            f"the game day is over ({ENDINGS.get(reason, reason)}) at {self.clock(at)}. It was "
            f"{data['scenario']['name']}: {data['scenario']['description']}",
            at=at,
        )
        if self.record is not None:
            self.record(self, None)

    @property
    def journal_sha256(self) -> str | None:
        """The ended drill's journal digest, as its session records it (None until the end)."""
        return self.drill.session.journal_sha256 if self.journal is not None else None

    # -- the live picture --------------------------------------------------------------------
    def _live(self) -> dict[str, Any]:
        """Clock, page, alerts and the dashboards' last 30 minutes (read-only: free)."""
        incident = self.drill.incident
        sim = self.drill.simulation
        m = render.minutes(incident)
        eps = list(m.req)
        errors: list[float | None] = []
        latency: list[float | None] = []
        for i in range(m.buckets):
            seen = [e for e in eps if m.seen[e][i]]
            req = sum(m.req[e][i] for e in seen)
            bad = sum(m.bad[e][i] for e in seen)
            errors.append(round(bad / req, 4) if seen and req else (0.0 if seen else None))
            served = [m.p95[e][i] for e in seen if m.req[e][i]]
            latency.append(round(max(served) * 1000, 1) if served else None)
        orders = [
            round(o / e, 3) if a and e else None
            for o, e, a in zip(m.orders, m.expected, m.arrived, strict=True)
        ]
        saturation: list[float | None] = []
        slots = {c: sim.capacity(c) for c in m.busy if c in sim.engine.runtimes}
        for i in range(m.buckets):
            shares = [m.busy[c][i] / slots[c] for c in slots if slots[c] and m.busy[c][i] >= 0]
            saturation.append(round(min(1.0, max(shares)), 3) if shares else None)
        firing = sorted(
            (
                {
                    "id": a["id"],
                    "severity": a["severity"],
                    "summary": a.get("summary", a["id"]),
                    "since": self.clock(float(a["starts_at"])),
                }
                for a in sim.monitors.firing()
            ),
            key=lambda a: (a["severity"] != "critical", a["id"]),
        )
        pages = [
            {
                "id": p["id"],
                "paged_at": self.clock(p["paged_at"]),
                "acknowledged_by": p["acknowledged_by"],
                "escalated": p["escalated_at"] is not None,
            }
            for p in sim.pager.incidents
            if p["paged_at"] is not None
        ]
        return {
            "t": round(self.now, 1),
            "wall": round(self.wall(), 3),  # when this picture was taken (update latency)
            "clock": self.clock(self.now),
            "speed": self.speed,
            "paused": self.paused,
            "ended": self.ended,
            "horizon_left": format_duration(round(max(0.0, self.drill.horizon - self.now))),
            "charts": {
                "first": self.clock(m.first),
                "minutes": m.buckets,
                "error_ratio": errors,
                "p95_ms": latency,
                "orders_vs_normal": orders,
                "saturation": saturation,
            },
            "alerts": firing,
            "pages": pages,
        }

    def state(self, who: str) -> dict[str, Any]:
        """Everything ``who``'s page shows, at once (on load and after a reconnect)."""
        with self.lock:
            role_commands = (
                [] if who == FACILITATOR else [c.usage for c in allowed_commands(self.roles[who])]
            )
            state: dict[str, Any] = {
                "gameday": self.id,
                "you": who,
                "roles": {r: sorted(v) for r, v in self.roles.items()},
                "commands": role_commands,
                "live": self.live,
                "feed": self.feed(who),
                "version": self.version,
            }
            if who == FACILITATOR:
                state["scenario"] = self.config.scenario_label
                state["seed"] = self.config.seed
                state["speeds"] = list(SPEEDS)
                state["components"] = list(self.loaded.scenario.components)
            if self.ended is not None:
                state["scorecard"] = self.scorecard
            return state


__all__ = ["SPEEDS", "Config", "GameDay", "GameDayError", "new_config"]
