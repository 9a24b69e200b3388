"""Locks and migrations as work: long statements take their locks in line, hold them for as
long as their work lasts, and let go — or give up at their lock timeout.

A migration runs its statements in one transaction: it asks for the strongest lock it needs
on each table in turn (waiting in each table's queue, its lock timeout counting from each
request), does the work of every statement (a rewrite is rows ÷ the rewrite rate, an index
build rows ÷ the index rate, metadata next to nothing), commits and lets go of everything.
While it waits, every later query on its tables waits behind it: that is what the engines
read from :attr:`~sim.model.data.DatabaseState.free`.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any

import simpy

from sim.model.data import DatabaseState, Hold
from sim.model.data.locks import ACCESS_EXCLUSIVE, ACCESS_SHARE, CONFLICTS, MODES, ROW_EXCLUSIVE
from sim.model.sql import Statement, classify
from sim.model.world import World
from sim.scenario.schema.data import Background

METADATA_SECONDS = 0.05  # a catalog change under its lock
BACKGROUND_MODES = {"share": ACCESS_SHARE, "write": ROW_EXCLUSIVE, "exclusive": ACCESS_EXCLUSIVE}


@dataclass
class Outcome:
    """How a piece of long work ended: ``committed``, ``lock_timeout`` or ``cancelled``."""

    status: str = "running"
    at: float | None = None
    waited: float = 0.0  # seconds spent waiting for locks
    worked: float = 0.0  # seconds spent holding them


def work_seconds(db: DatabaseState, st: Statement) -> float:
    """How long one statement's work takes on ``db`` now (rows as they are now)."""
    spec = db.spec
    rows = db.tables[st.table].rows if st.table in db.tables else 0.0
    if st.work in ("rewrite", "backfill", "vacuum"):
        return rows / spec.rewrite_rate
    if st.work in ("index", "scan"):  # both read every row once
        return rows / spec.index_rate
    if st.work == "index_concurrently":
        return 2.0 * rows / spec.index_rate  # two passes over the table
    if st.work == "analyze":
        return spec.analyze_time
    return METADATA_SECONDS


def strongest(modes: Sequence[str]) -> str:
    """The mode that conflicts with the most others (ACCESS EXCLUSIVE beats everything)."""
    return max(modes, key=lambda m: (len(CONFLICTS[m]), MODES.index(m)))


class Locking:
    """Runs long statements against the lock tables of a run's databases."""

    def __init__(
        self,
        env: simpy.Environment,
        world: World,
        changed: Callable[[DatabaseState], None] | None = None,
    ) -> None:
        self.env = env
        self.world = world
        self.cancels: dict[str, simpy.Event] = {}  # work id → fired when it is cancelled
        self.changed = changed  # told after every change to a database's locks

    def refresh(self, db: DatabaseState) -> None:
        """Recompute when queries get their locks, and tell whoever listens."""
        db.refresh(self.env.now)
        if self.changed is not None:
            self.changed(db)

    def _cancelled(self, work_id: str) -> simpy.Event:
        if work_id not in self.cancels:
            self.cancels[work_id] = self.env.event()
        return self.cancels[work_id]

    def cancel(self, db: DatabaseState, work_id: str) -> bool:
        """Cancel long work (``pg_cancel_backend``): it lets go of its locks now."""
        if not any(h.id == work_id for _, h in db.holds()):
            return False
        event = self._cancelled(work_id)
        if not event.triggered:
            event.succeed()
        return True

    # -- one hold ------------------------------------------------------------------------
    def _acquire(self, db: DatabaseState, hold: Hold) -> Generator[simpy.Event, Any, bool]:
        """Queue for ``hold``; return whether it was granted (False: it gave up at its lock
        timeout or was cancelled while waiting)."""
        now = self.env.now
        hold.since = now
        if hold.lock_timeout is not None:
            hold.give_up = now + hold.lock_timeout
        lt = db.lock_table(hold.table)
        granted = self.env.event()
        hold.extra["granted"] = granted
        if lt.request(hold, now):
            granted.succeed()
        self.refresh(db)
        if hold.granted:
            return True
        self.world.emit(
            now,
            "lock.wait",
            database=db.name,
            table=hold.table,
            id=hold.id,
            mode=hold.mode,
            pid=hold.pid,
            blocked_by=sorted({b.id for w, bs in lt.blocking_chain() if w is hold for b in bs}),
        )
        waits: list[simpy.Event] = [granted, self._cancelled(hold.id)]
        if hold.give_up is not None:
            waits.append(self.env.timeout(max(0.0, hold.give_up - now)))
        yield self.env.any_of(waits)
        if hold.granted:
            return True
        self._let_go(db, hold)
        return False

    def _let_go(self, db: DatabaseState, hold: Hold) -> None:
        for waiter in db.lock_table(hold.table).release(hold.id, self.env.now):
            event = waiter.extra.get("granted")
            if isinstance(event, simpy.Event) and not event.triggered:
                event.succeed()
        self.refresh(db)

    # -- long work -----------------------------------------------------------------------
    def hold_all(
        self,
        db: DatabaseState,
        holds: list[Hold],
        duration: Callable[[], float | None],
        what: str,
        outcome: Outcome,
    ) -> Generator[simpy.Event, Any, Outcome]:
        """Acquire every hold in turn, hold them all for ``duration()`` (computed once they are
        granted; ``None``: until cancelled), then let go of them."""
        work_id = holds[0].id
        start = self.env.now
        got: list[Hold] = []
        for hold in holds:
            if not (yield from self._acquire(db, hold)):
                outcome.status = (
                    "cancelled" if self._cancelled(work_id).triggered else "lock_timeout"
                )
                break
            got.append(hold)
        else:
            outcome.waited = self.env.now - start
            seconds = duration()
            for hold in got:
                hold.until = None if seconds is None else self.env.now + seconds
            self.refresh(db)
            self.world.emit(self.env.now, f"{what}.running", database=db.name, id=work_id)
            cancel = self._cancelled(work_id)
            waits: list[simpy.Event] = [cancel]
            if seconds is not None:
                waits.append(self.env.timeout(seconds))
            yield self.env.any_of(waits)
            outcome.worked = self.env.now - start - outcome.waited
            outcome.status = "cancelled" if cancel.triggered else "committed"
        for hold in got:
            self._let_go(db, hold)
        self.cancels.pop(work_id, None)  # the same work may run again (a retried migration)
        outcome.at = self.env.now
        self.world.emit(
            self.env.now,
            f"{what}.{outcome.status}",
            database=db.name,
            id=work_id,
            waited=round(outcome.waited, 6),
            worked=round(outcome.worked, 6),
        )
        return outcome

    def background(self, db: DatabaseState, bg: Background) -> Generator[simpy.Event, Any, None]:
        """A declared long query: from its start, it holds its lock for its duration."""
        yield self.env.timeout(bg.start)
        run = None if bg.duration == "until_cancelled" else float(bg.duration)
        pid = db.next_pid()
        holds = [
            Hold(
                f"query:{bg.id}",
                table,
                BACKGROUND_MODES[bg.lock],
                self.env.now,
                run=run,
                query=bg.query or f"SELECT … FROM {table} …",
                user=bg.user,
                pid=pid,
            )
            for table in bg.tables
        ]
        yield from self.hold_all(db, holds, lambda: run, "query", Outcome())

    def migrate(
        self,
        db: DatabaseState,
        work_id: str,
        statements: Sequence[str],
        lock_timeout: float | None,
        on_commit: Callable[[list[Statement]], None],
        outcome: Outcome,
    ) -> Generator[simpy.Event, Any, Outcome]:
        """Run ``statements`` as one transaction; ``on_commit`` applies what they changed."""
        classified = [classify(s) for s in statements]
        by_table: dict[str, list[str]] = {}
        for st in classified:
            if st.table is not None:
                by_table.setdefault(st.table, []).append(st.mode)
        pid = db.next_pid()

        def seconds() -> float:
            return sum(work_seconds(db, st) for st in classified)

        holds = [
            Hold(
                f"migration:{work_id}",
                table,
                strongest(modes),
                self.env.now,
                run=seconds(),  # what a waiter behind it can expect
                lock_timeout=lock_timeout,
                query=next(st.sql for st in classified if st.table == table),
                user="migrations",
                pid=pid,
            )
            for table, modes in by_table.items()
        ]
        if holds:
            yield from self.hold_all(db, holds, seconds, "migration", outcome)
        else:
            outcome.status, outcome.at = "committed", self.env.now
        if outcome.status == "committed":
            on_commit(classified)
        return outcome


__all__ = [
    "BACKGROUND_MODES",
    "METADATA_SECONDS",
    "Locking",
    "Outcome",
    "strongest",
    "work_seconds",
]
