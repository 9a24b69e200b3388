"""The drill: a trainee drives an incident through the action API, one typed line at a time.

:class:`Drill` owns one seeded :class:`~sim.simulation.Simulation` and one
:class:`~sim.response.api.Incident`. It starts quiet and runs the simulation until the page;
then every line the trainee types is one command (see :mod:`sim.drill.commands`), answered on
the drill's console. Commands that call the action API cost the simulated time the API
charges; mistakes (unknown commands or names, missing arguments) cost nothing and are
answered with a suggestion. Every line is recorded in the :class:`~sim.drill.session.Session`
with the simulated time it was issued at, so :mod:`sim.cli.replay` can reproduce the drill.

The clock is turn-based — it moves only on commands — unless ``realtime`` is set: then it
runs at that many simulated seconds per wall second between commands (``pause`` stops it).

Nothing the trainee can type shows the fault list, the scenario's name or its description;
they are revealed by :meth:`Drill.finish`, with the scorecard.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

import sim.drill.render as render
from sim._version import __version__
from sim.drill.commands import ALIASES, BY_NAME, Command, Parsed, available, printable, split
from sim.drill.compare import Comparisons
from sim.drill.hints import next_hint
from sim.drill.inject import InjectError, parse_fault, parse_herring
from sim.drill.session import Session
from sim.drill.shift import drill_scenario
from sim.journal import Journal
from sim.response.api import HorizonReached, Incident
from sim.response.evidence import Evidence
from sim.scenario import LoadedScenario, format_duration, parse_duration
from sim.scenario.messages import did_you_mean
from sim.scenario.schema import LEADS
from sim.simulation import Simulation

DEFAULT_WAIT = 300.0
MESSAGE_LIMIT = 500  # characters of a channel line kept
DESCRIPTION = "A person at the drill prompt (chaosdrill drill)."


class Drill:
    """One interactive drill over ``loaded`` with ``seed``; answers go to ``console``."""

    def __init__(
        self,
        loaded: LoadedScenario,
        seed: int,
        *,
        console: Console,
        responder: str = "trainee",
        hints: int = 3,
        facilitator: bool = False,
        realtime: float | None = None,
        random_pick: bool = False,
        comparisons: Comparisons | None = None,
        source: str | None = None,
        autosave: Path | None = None,
        wallclock: Callable[[], float] = time.monotonic,
        team: bool = False,
        manual_ack: bool = True,
        compare: bool = True,
    ) -> None:
        self.loaded = loaded
        # a random pick runs on the normalised clock, which reveals nothing (sim.drill.shift)
        self.scenario = drill_scenario(loaded.scenario, random_pick)
        self.seed = seed
        self.out = console
        self.responder = responder
        self.facilitator = facilitator
        self.realtime = realtime
        self.autosave = autosave
        self.wallclock = wallclock
        self.team = team
        # a person acknowledges the page (`ack`), or it escalates as on call; only modelled
        # responders get the rotation's random acknowledgement delay (a replay of a session
        # recorded before `ack` existed passes False)
        self.manual_ack = manual_ack or team
        self.simulation = Simulation(self.scenario, seed, manual_ack=self.manual_ack)
        self.incident = Incident(self.simulation, self.scenario.horizon)
        self.compare = compare  # False: no comparison runs, no counterfactuals (--no-compare)
        self.comparisons = comparisons if compare else None
        self.others: dict[str, Journal] = {}
        self.histories: set[str] = set()  # components whose own change history was shown
        # the scenario path as the journal records it (a replay passes the recorded one)
        self.source = loaded.path if source is None else source
        self.session = Session(
            scenario_path=self.source,
            scenario_file=str(Path(loaded.path).resolve()),
            scenario_sha256=loaded.sha256,
            seed=seed,
            responder=responder,
            hints=hints,
            facilitator=facilitator,
            realtime=realtime,
            random=random_pick,
            version=__version__,
            team=team,
            manual_ack=self.manual_ack,
            compare=compare,
        )
        self.hints_left = hints
        self.hints_given: set[str] = set()
        self.hints_used = 0
        self.paused = False
        self.wall_mark: float | None = None
        self.ended: str | None = None
        self.journal: Journal | None = None
        self.commands = {c.name: c for c in available(facilitator, team)}
        # the incident channel: notes, chat and declarations, in the journal's response section
        self.channel: list[dict[str, Any]] = []
        self.pages_shown: set[str] = set()  # pages the trainee has been shown
        self.by: str | None = None  # who typed the command being run (a team drill's role)

    # -- time --------------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.incident.now

    @property
    def horizon(self) -> float:
        return self.incident.horizon

    def clock(self, t: float | None = None, seconds: bool = True) -> str:
        return render.clock(self.simulation, self.now if t is None else t, seconds)

    def prompt(self) -> str:
        paused = " paused" if self.paused and self.realtime else ""
        return f"drill {self.clock()}{paused}> "

    def projected(self) -> float:
        """Where the clock stands now in realtime mode (it is applied on the next command)."""
        if not self.realtime or self.paused or self.wall_mark is None:
            return self.now
        return min(self.horizon, self.now + self.realtime * (self.wallclock() - self.wall_mark))

    def _tick(self) -> float:
        """Realtime mode: move the clock by the wall time since the last command.

        Returns the simulated time the coming command is recorded at: the target the clock
        was advanced to (a replay advances to exactly that), or now.
        """
        target = self.projected()
        if target > self.now:
            self._advance_to(target)
            return target
        return self.now

    def advance_to(self, t: float) -> None:
        """Move the clock to ``t`` without a command (a game day's running clock); the
        horizon ends the drill."""
        if self.ended is None:
            self._advance_to(t)

    def _advance_to(self, t: float) -> None:
        if t >= self.horizon:
            self.simulation.advance(self.horizon)
            self.stop("horizon")
        elif t > self.now:
            self.simulation.advance(t)

    # -- the run -----------------------------------------------------------------------------
    def begin(self) -> None:
        """Introduce the shift, run quietly until the page, show it."""
        s = self.scenario
        # a random pick's length would name it (one scenario lasts a day): not said
        length = "" if self.session.random else f" and lasts {format_duration(s.horizon)}"
        self.out.print(
            Text.assemble(
                ("chaosdrill drill", "bold"),
                f" — {self.responder}, you are on call. Your shift starts at "
                f"{s.clock_start:%H:%M} UTC{length} (seed {self.seed}).",
            ),
            soft_wrap=True,
        )
        mode = (
            f"The clock runs at {self.realtime:g}× real time between commands (pause/resume)."
            if self.realtime
            else "The clock moves only when you type a command; each costs simulated time."
        )
        self.out.print(
            f"{mode} Type `help` for the commands, `hint` for a hint "
            f"({self.hints_left} available, each costs score).",
            soft_wrap=True,
        )
        self.out.print("All quiet. Waiting for the pager…", style="dim")
        paged = self.incident.wait_for_page(ack=False)
        self.session.paged_at = paged
        if paged is None:
            self.out.print("The shift ended without a page.")
            self.stop("no page")
            return
        self.out.print(render.page(self.incident))
        self.unseen_pages()  # the page just shown
        if self.manual_ack:
            after = format_duration(self.scenario.paging.escalate_after)
            self.out.print(
                f"Acknowledge it with `ack`: unacknowledged, it escalates to the secondary "
                f"after {after}.",
                soft_wrap=True,
            )
        self.out.print(render.status_line(self.incident, None, self._extra()), soft_wrap=True)
        if self.comparisons is not None:
            self.comparisons.start()  # the runs to compare with, while the trainee works
        self.wall_mark = self.wallclock()
        self.save()

    def issue(self, line: str, at: float | None = None, by: str | None = None) -> None:
        """Run one typed line. ``at`` (a replay) is the simulated time it was recorded at;
        ``by`` who typed it (a role, in a team drill)."""
        if self.ended is not None:
            return
        parsed = split(line)
        if parsed is None:
            return
        if at is None:
            t = self._tick()
        else:
            if at > self.now:
                self._advance_to(at)
            t = at
        if self.ended is not None:
            self.out.print("The shift is over: the horizon came while the clock was running.")
            return
        self.session.add(t, line.strip(), by)
        before = self.now
        self.by = by
        try:
            self.dispatch(parsed)
        except Exception as exc:  # a bug must not cost the trainee the drill
            self.say(f"internal error ({type(exc).__name__}: {exc}); the drill goes on", "bold red")
        finally:
            self.by = None
        self._new_pages()
        if self.ended is None or self.ended == "horizon":
            self.out.print(
                render.status_line(self.incident, self.now - before, self._extra()),
                soft_wrap=True,
            )
        if not self.paused:
            self.wall_mark = self.wallclock()
        self.save()

    def stop(self, reason: str) -> None:
        """End the drill (``finish`` then writes everything)."""
        if self.ended is None:
            self.ended = reason
            self.session.ended = {"reason": reason, "t": self.now}

    def save(self) -> None:
        """Write session.json now (after every command: nothing is lost if the process dies)."""
        if self.autosave is not None:
            with contextlib.suppress(OSError):  # reported when the drill ends and writes
                self.session.write(self.autosave)

    def _extra(self) -> str:
        bits = []
        if self.realtime:
            bits.append("paused" if self.paused else f"clock {self.realtime:g}×")
        if not self.team:  # a game day's hints come from its facilitator
            bits.append(f"hints left {self.hints_left}")
        return " · ".join(bits)

    # -- commands ----------------------------------------------------------------------------
    def dispatch(self, parsed: Parsed) -> None:
        name = ALIASES.get(parsed.word, parsed.word)
        command = self.commands.get(name)
        if command is None:
            known = sorted(self.commands)
            hint = did_you_mean(parsed.word, [*known, *ALIASES])
            if name in BY_NAME:
                self.say(f"{name} is a facilitator command (start the drill with --facilitator)")
            else:
                self.say(f"unknown command {parsed.word!r}{hint} — type `help` for the list")
            return
        handler: Callable[[Command, Parsed], None] = getattr(self, "_do_" + name.replace("-", "_"))
        handler(command, parsed)

    def say(self, message: str, style: str = "yellow") -> None:
        self.out.print(Text(message, style), soft_wrap=True)

    def _show(self, ev: Evidence | None, grep: str | None = None) -> None:
        if ev is not None:
            self.out.print(render.evidence(ev, self.incident, grep), soft_wrap=True)

    def _call(self, fn: Callable[..., Evidence], *args: Any, **kw: Any) -> Evidence | None:
        try:
            return fn(*args, **kw)
        except HorizonReached:
            self.say("The shift is over: the horizon came before that finished.", "bold")
            self.stop("horizon")
            return None

    # names the trainee can see: components, applied changes, and the two leads
    def components(self) -> list[str]:
        return list(self.scenario.components)

    def applied_changes(self) -> list[str]:
        """Changes in the change log, and those outside it in a history the trainee read."""
        read = self.histories
        return [
            c.id
            for _, c in self.simulation.world.applied
            if c.logged or any(name in read for name in c.components)
        ]

    def regions(self) -> list[str]:
        """The shop's regions, where it has more than one (one is nowhere to fail over to)."""
        regions = self.incident.regions()
        return regions if len(regions) > 1 else []

    def _do_failover_region(self, command: Command, parsed: Parsed) -> None:
        region = self._one(command, parsed, self.incident.regions(), "region")
        if region is not None:
            self._show(self._call(self.incident.failover_region, region))

    def flags(self) -> list[str]:
        return sorted({c.flag for _, c in self.simulation.world.applied if c.flag is not None})

    def _one(self, command: Command, parsed: Parsed, known: list[str], what: str) -> str | None:
        """The single name argument, checked; ``None`` (and a message) when it is not right."""
        if not parsed.args:
            if command.optional:
                return None
            self.say(f"usage: {command.usage} — {command.summary}")
            return None
        name = parsed.args[0]
        if name not in known:
            listing = ", ".join(known) if len(known) <= 14 else f"{len(known)} names"
            self.say(
                f"no {what} named {name!r}{did_you_mean(name, known)} (known: {listing or 'none'})"
            )
            return None
        if len(parsed.args) > 1:
            self.say(f"usage: {command.usage} (one {what} at a time)")
            return None
        return name

    def _observe(self, command: Command, parsed: Parsed) -> None:
        if parsed.args:
            self.say(f"usage: {command.usage} (no arguments)")
            return
        assert command.api is not None
        self._show(self._call(getattr(self.incident, command.api)))

    _do_status = _do_dashboard = _do_alerts = _observe
    _do_net = _do_lb = _do_thirdparty = _observe

    def _do_changes(self, command: Command, parsed: Parsed) -> None:
        ev = self._one_or_all(command, parsed, self.incident.changes)
        if ev is not None and ev.ok and ev.target is not None:
            self.histories.add(ev.target)

    def _do_logs(self, command: Command, parsed: Parsed) -> None:
        words = list(parsed.args)
        grep: str | None = None
        if "--grep" in words:
            i = words.index("--grep")
            if i + 1 >= len(words):
                self.say("usage: logs [COMPONENT] --grep TEXT (TEXT in quotes if it has spaces)")
                return
            grep = " ".join(words[i + 1 :])
            words = words[:i]
        if len(words) > 1 or any(w.startswith("-") for w in words):
            self.say(f"usage: {command.usage}")
            return
        component = None
        if words:
            component = self._one(
                command, Parsed("logs", tuple(words), ""), self.components(), "component"
            )
            if component is None:
                return
        self._show(self._call(self.incident.logs, component), grep)

    def _do_deps(self, command: Command, parsed: Parsed) -> None:
        self._one_or_all(command, parsed, self.incident.deps)

    def _one_or_all(
        self, command: Command, parsed: Parsed, call: Callable[..., Evidence]
    ) -> Evidence | None:
        """A look at one component when the command names one, else at all of them."""
        if parsed.args:
            component = self._one(command, parsed, self.components(), "component")
            if component is None:
                return None
            ev = self._call(call, component)
        else:
            ev = self._call(call)
        self._show(ev)
        return ev

    def _do_db(self, command: Command, parsed: Parsed) -> None:
        database = None
        if parsed.args:
            known = sorted(self.simulation.world.data)
            database = self._one(command, parsed, known, "database with a data tier")
            if database is None:
                return
        self._show(self._call(self.incident.db, database))

    def _do_cancel(self, command: Command, parsed: Parsed) -> None:
        if len(parsed.args) != 1:
            self.say(f"usage: {command.usage} — {command.summary}")
            return
        self._show(self._call(self.incident.cancel, parsed.args[0]))

    def _act(self, command: Command, parsed: Parsed) -> None:
        target = self._one(command, parsed, self.components(), "component")
        if target is None:
            return
        assert command.api is not None
        self._show(self._call(getattr(self.incident, command.api), target))

    _do_restart = _do_isolate = _do_failover = _act

    def _do_scale(self, command: Command, parsed: Parsed) -> None:
        """``scale COMPONENT`` (half as much again) or ``scale COMPONENT N`` (to N)."""
        if len(parsed.args) == 2:
            count = parsed.args[1]
            if not count.isdigit() or int(count) < 1:
                self.say(f"usage: {command.usage} — N is a number of instances, such as 24")
                return
            target = self._first_component(command, parsed)
            if target is not None:
                self._show(self._call(self.incident.scale_out, target, to=int(count)))
            return
        self._act(command, parsed)

    def _first_component(self, command: Command, parsed: Parsed) -> str | None:
        """The component a command with settings after it names first (checked as ``_one``)."""
        first = Parsed(parsed.word, parsed.args[:1], parsed.args[0])
        return self._one(command, first, self.components(), "component")

    _do_drain = _do_add_back = _do_analyze = _do_read_only = _do_read_write = _act
    _do_suspend_scaling = _do_resume_scaling = _act

    def _do_change_scaling(self, command: Command, parsed: Parsed) -> None:
        """``change_scaling web max=24 target=0.5``: the policy's fields, as name=value."""
        usage = f"usage: {command.usage} — e.g. change_scaling web max=24"
        if not parsed.args:
            self.say(usage)
            return
        fields: dict[str, float] = {}
        for word in parsed.args[1:]:
            key, _, value = word.partition("=")
            try:
                number = float(value)
            except ValueError:
                number = -1.0
            if key not in ("min", "max", "target") or number <= 0:
                self.say(f"{usage} (not {word!r})")
                return
            fields[key] = number if key == "target" else int(number)
        target = self._first_component(command, parsed)
        if target is not None:
            self._show(self._call(self.incident.change_scaling, target, **fields))

    def _do_capacity(self, command: Command, parsed: Parsed) -> None:
        component = None
        if parsed.args:
            component = self._one(command, parsed, self.components(), "component")
            if component is None:
                return
        self._show(self._call(self.incident.capacity, component))

    def _act_on_component(self, command: Command, parsed: Parsed, background: bool = False) -> None:
        """An act on one component; ``background``: it runs while the trainee goes on, its
        step completing when it ends."""
        component = self._one(command, parsed, self.components(), "component")
        if component is None:
            return
        assert command.api is not None
        act = getattr(self.incident, command.api)
        self._show(
            self._call(act, component, background=True)
            if background
            else self._call(act, component)
        )

    def _act_in_background(self, command: Command, parsed: Parsed) -> None:
        """A long repair (a restore's copy, a promotion's replay)."""
        self._act_on_component(command, parsed, background=True)

    # a quota increase is a support case: the trainee carries on while the provider works
    _do_restore = _do_promote = _do_raise_quota = _do_escalate = _act_in_background

    def _do_retry(self, command: Command, parsed: Parsed) -> None:
        change = self._one(command, parsed, self.applied_changes(), "change in the change log")
        if change is None:
            return
        self._show(self._call(self.incident.retry, change))

    def _do_rollback(self, command: Command, parsed: Parsed) -> None:
        change = self._one(command, parsed, self.applied_changes(), "change in the change log")
        if change is None:
            return
        self._show(self._call(self.incident.rollback, change))

    _do_free_disk = _do_disable_checks = _do_enable_checks = _act_on_component
    _do_shed_load = _do_stop_shedding = _act_on_component

    def _do_toggle_flag(self, command: Command, parsed: Parsed) -> None:
        flag = self._one(command, parsed, self.flags(), "feature flag of a change in the log")
        if flag is None:
            return
        self._show(self._call(self.incident.toggle_flag, flag))

    def _do_fix(self, command: Command, parsed: Parsed) -> None:
        known = [*self.components(), *self.applied_changes()]
        target = self._one(command, parsed, known, "component or change")
        if target is None:
            return
        self._show(self._call(self.incident.fix, target, background=True))

    def _do_diagnose(self, command: Command, parsed: Parsed) -> None:
        queries = self.incident.queries(started=True)
        tables = self.incident.tables()
        known = [*self.components(), *self.applied_changes(), *tables, *queries, *LEADS]
        cause = self._one(command, parsed, known, "change, component, table, query or lead")
        if cause is None:
            return
        self._show(self._call(self.incident.diagnose, cause))

    def _say_to(self, command: Command, parsed: Parsed) -> None:
        assert command.api is not None
        ev = self._call(getattr(self.incident, command.api), printable(parsed.rest))
        if ev is not None:
            who = "status page" if command.name == "notify" else "stakeholders"
            self.out.print(Text.assemble((f"posted to the {who}: ", "dim"), ev.summary))

    _do_notify = _do_update = _say_to

    def _do_wait(self, command: Command, parsed: Parsed) -> None:
        seconds = DEFAULT_WAIT
        if parsed.args:
            try:
                seconds = parse_duration(parsed.rest.replace(" ", ""))
            except ValueError:
                self.say(f"usage: {command.usage} — a duration such as 90s, 5m or 1h30m")
                return
            if seconds <= 0:
                self.say("wait for how long? a duration above zero, such as 5m")
                return
        self._show(self._call(self.incident.wait, seconds))

    def _do_mitigated(self, command: Command, parsed: Parsed) -> None:
        self._show(self._call(self.incident.mitigated))

    def _do_resolve(self, command: Command, parsed: Parsed) -> None:
        ev = self._call(self.incident.resolved)
        if ev is None:
            return
        self._show(ev)
        if not self.incident.more_incidents() or self.now >= self.horizon:
            self.stop("resolved")
            return
        # a shift of several incidents: on call until it ends, and the next page is another
        self.incident.next_incident()
        end = self.scenario.clock_start + timedelta(seconds=self.horizon)
        # a random pick's length would name it: not said
        until = "" if self.session.random else f" at {end:%H:%M} UTC"
        self.say(
            f"Resolved. You stay on call until the shift ends{until}: `wait` lets the time "
            "pass, `quit` ends the drill here.",
            "bold",
        )

    def unseen_pages(self) -> list[dict[str, Any]]:
        """The pages that came since the last were shown (a shift's next incident), marked
        shown now."""
        new = [
            p
            for p in self.simulation.pager.incidents
            if p["paged_at"] is not None and p["id"] not in self.pages_shown
        ]
        self.pages_shown.update(p["id"] for p in new)
        return new

    def _new_pages(self) -> None:
        """Show each page that came since the last command."""
        for paged in self.unseen_pages():
            self.out.print(render.page(self.incident, paged))

    def _do_quit(self, command: Command, parsed: Parsed) -> None:
        self.stop("quit")

    def _do_hint(self, command: Command, parsed: Parsed) -> None:
        if self.hints_left <= 0:
            self.say(f"no hints left (the budget was {self.session.hints})")
            return
        found = next_hint(self.incident, self.hints_given)
        if found is None:
            self.say("nothing new in the telemetry to point at (no hint used): try `wait 5m`")
            return
        key, text = found
        self.hints_given.add(key)
        self.hints_left -= 1
        self.hints_used += 1
        now = round(self.now, 6)
        self.incident.steps.append(
            {
                "i": len(self.incident.steps),
                "t": now,
                "end": now,
                "call": "hint",
                "kind": "hint",
                "target": None,
                "ok": True,
                "evidence": text,
                "lead": None,
                "herring": None,
                "remedied": [],
                "harmful": False,
                "harm": None,
            }
        )
        self.out.print(Text.assemble(("hint: ", "bold cyan"), text), soft_wrap=True)

    def _post(self, command: Command, parsed: Parsed) -> None:
        """A line in the incident channel (no simulated time): a note, a message, a
        declaration."""
        text = printable(parsed.rest).strip()
        if not text and not command.optional:
            self.say(f"usage: {command.usage} — {command.summary}")
            return
        if command.name == "declare":
            if any(e["kind"] == "declare" for e in self.channel):
                self.say("the incident is already declared; `say` to talk to the team")
                return
            text = text or "incident declared; I am the incident commander"
        entry = {"t": round(self.now, 6), "kind": command.name, "by": self.by or self.responder}
        self.channel.append({**entry, "text": text[:MESSAGE_LIMIT]})
        self.out.print(Text.assemble((f"{entry['by']} ({command.name}): ", "dim"), text))

    _do_note = _do_say = _do_declare = _post

    def _do_ack(self, command: Command, parsed: Parsed) -> None:
        incident = self.simulation.pager.acknowledge(self.by)
        if incident is None:
            self.say("no page waiting for an acknowledgement")
            return
        after = float(incident["acknowledged_at"]) - float(incident["paged_at"])
        self.out.print(
            f"{incident['id']} acknowledged by {incident['acknowledged_by']}, "
            f"{format_duration(round(after))} after the page",
            soft_wrap=True,
        )

    def _do_pause(self, command: Command, parsed: Parsed) -> None:
        if not self.realtime:
            self.say("the clock only moves when you type a command; pause applies with --realtime")
            return
        if self.paused:
            self.say("already paused; `resume` starts the clock again")
            return
        self.paused = True
        self.wall_mark = None
        self.session.pauses.append({"paused_at": self.now, "resumed_at": None})
        self.say("clock paused", "bold")

    def _do_resume(self, command: Command, parsed: Parsed) -> None:
        if not self.realtime or not self.paused:
            self.say("the clock is not paused")
            return
        self.paused = False
        self.session.pauses[-1]["resumed_at"] = self.now
        self.say(f"clock running again at {self.realtime:g}×", "bold")

    def _do_help(self, command: Command, parsed: Parsed) -> None:
        if parsed.args:
            word = ALIASES.get(parsed.args[0].lower(), parsed.args[0].lower())
            found = self.commands.get(word)
            if found is None:
                known = sorted(self.commands)
                self.say(f"no command {word!r}{did_you_mean(word, known)}")
                return
            self.out.print(Text(found.usage, "bold"))
            self.out.print(
                found.summary + (f". {found.detail}" if found.detail else ""), soft_wrap=True
            )
            self.out.print(Text(f"costs {found.cost}", "dim"))
            return
        table = Table(box=None, pad_edge=False, show_header=False)
        table.add_column(style="bold")
        table.add_column()
        for c in self.commands.values():
            table.add_row(c.usage, c.summary)
        self.out.print(table)
        self.out.print(
            "Looking and acting cost simulated time; help, hint, pause and mistakes do not. "
            "`help COMMAND` for more.",
            style="dim",
            soft_wrap=True,
        )

    def _do_inject_fault(self, command: Command, parsed: Parsed) -> None:
        schedule = self.simulation.faults
        try:
            fault = parse_fault(parsed.rest, self.scenario, self.now, set(schedule.faults))
        except InjectError as exc:
            self.say(f"inject-fault: {exc}")
            return
        schedule.inject(fault)
        entry = fault.model_dump(mode="json")
        self.session.injections.append({"t": self.now, "kind": "fault", "entry": entry})
        self.say(f"facilitator: fault {fault.id} injected at {self.clock()}", "bold magenta")

    def _do_inject_herring(self, command: Command, parsed: Parsed) -> None:
        herrings = self.simulation.red_herrings
        taken = {r["id"] for r in herrings.records}
        try:
            item = parse_herring(parsed.rest, self.scenario, taken)
        except InjectError as exc:
            self.say(f"inject-herring: {exc}")
            return
        herrings.inject(item)
        entry = item.model_dump(mode="json")
        self.session.injections.append({"t": self.now, "kind": "herring", "entry": entry})
        self.say(f"facilitator: red herring {item.id} injected at {self.clock()}", "bold magenta")

    # -- the end -----------------------------------------------------------------------------
    def finish(self) -> Journal:
        """Run the rest of the horizon, and assemble the journal exactly as ``sim.run`` does."""
        from sim.runner import journal_of

        if self.journal is not None:
            return self.journal
        if self.ended is None:
            self.stop("quit")
        self.simulation.advance(self.horizon)
        self.simulation.finish()
        counterfactuals: dict[str, Any] | None = None
        if self.compare:
            comparisons = self.comparisons or Comparisons(self.scenario, self.seed, self.horizon)
            counterfactuals, self.others = comparisons.results()
        self.journal = journal_of(
            self.simulation,
            self.incident,
            self.responder,
            DESCRIPTION,
            source=self.source,
            source_sha256=self.loaded.sha256,
            counterfactuals=counterfactuals,
            response_extra={
                "hints_used": self.hints_used,
                **({"channel": self.channel} if self.channel else {}),
            },
        )
        self.session.scenario_name = self.scenario.name
        self.session.journal_sha256 = hashlib.sha256(self.journal.to_json().encode()).hexdigest()
        return self.journal


__all__ = ["DESCRIPTION", "Drill"]
