"""The database's own log: what PostgreSQL (or MySQL) writes when the data tier's mechanisms
act — lock waits past ``deadlock_timeout``, statements cancelled by a lock timeout or by an
operator, long statements' durations, crashes, crash recovery and readiness.

The shop's side of the same trouble (timeouts, refused inserts) is logged by the services
that saw it (:class:`~sim.telemetry.logs.EngineLogger`); these lines are what an engineer
finds on the database host.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.model.data import DatabaseState
from sim.model.world import Event, World
from sim.telemetry.logs import LogStore

DEADLOCK_TIMEOUT = 1.0  # PostgreSQL logs a lock wait once it has lasted this long
SLOW_STATEMENT = 1.0  # log_min_duration_statement, seconds


class DatabaseLogger:
    """Turns the data tier's events into the database's log lines."""

    def __init__(self, env: simpy.Environment, world: World, store: LogStore) -> None:
        self.env = env
        self.world = world
        self.store = store
        world.subscribe(self._on_event)

    def _line(self, db: str, level: str, message: str, instance: int | None = None) -> None:
        self.store.add(self.env.now, db, level, message, None, instance, weight=1)

    def _on_event(self, event: Event) -> None:
        d = event.data
        name = str(d.get("database", ""))
        db = self.world.data.get(name)
        if db is None:
            return
        pg = db.dialect == "postgresql"
        kind = event.kind
        if kind == "lock.wait":
            self.env.process(self._still_waiting(db, str(d["id"]), str(d["table"])))
        elif kind in ("migration.lock_timeout", "query.lock_timeout"):
            self._line(
                name,
                "ERROR",
                "canceling statement due to lock timeout"
                if pg
                else "Lock wait timeout exceeded; try restarting transaction",
            )
        elif kind in ("migration.cancelled", "query.cancelled"):
            self._line(
                name,
                "ERROR",
                "canceling statement due to user request"
                if pg
                else "Query execution was interrupted",
            )
        elif kind in ("migration.committed", "query.committed"):
            took = float(d.get("waited", 0.0)) + float(d.get("worked", 0.0))
            if took >= SLOW_STATEMENT and pg:
                self._line(
                    name,
                    "LOG",
                    f"duration: {took * 1000:.3f} ms  statement: {self._sql(db, str(d['id']))}",
                )
        elif kind == "db.crashed":
            i = int(d["instance"])
            if pg:
                self._line(name, "LOG", "server process was terminated by signal 9: Killed", i)
                self._line(name, "LOG", "terminating any other active server processes", i)
            else:
                self._line(name, "ERROR", "mysqld got signal 9; out of memory", i)
        elif kind == "db.recovering":
            i = int(d["instance"])
            if pg:
                self._line(
                    name, "LOG", "database system was interrupted; last known up at a checkpoint", i
                )
                self._line(
                    name, "LOG", f"redo starts; {float(d['redo']):.1f} s of log to replay", i
                )
            else:
                self._line(name, "NOTE", "InnoDB: Starting crash recovery.", i)
        elif kind == "db.data_lost":
            i = int(d["instance"])
            if pg:
                self._line(
                    name,
                    "PANIC",
                    'could not open file "global/pg_control": No such file or directory',
                    i,
                )
            else:
                self._line(
                    name,
                    "ERROR",
                    "[FATAL] InnoDB: The system tablespace must be writable! "
                    "(./ibdata1: No such file or directory)",
                    i,
                )
        elif kind == "db.restoring":
            gb = float(d["bytes"]) / 1e9
            self._line(
                name,
                "LOG",
                f"restore from base backup started: {gb:.1f} GB to copy"
                if pg
                else f"restore from backup started: {gb:.1f} GB to copy",
            )
        elif kind == "db.recovered":
            i = int(d["instance"])
            self._line(
                name,
                "LOG",
                "database system is ready to accept connections"
                if pg
                else "mysqld: ready for connections.",
                i,
            )

    def _sql(self, db: DatabaseState, work_id: str) -> str:
        for _, hold in db.holds():
            if hold.id == work_id:
                return hold.query
        return work_id

    def _still_waiting(
        self, db: DatabaseState, work_id: str, table: str
    ) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(DEADLOCK_TIMEOUT)
        lt = db.lock_table(table)
        for waiter, blockers in lt.blocking_chain():
            if waiter.id == work_id:
                holding = ", ".join(str(b.pid) for b in blockers)
                queue = ", ".join(str(w.pid) for w in lt.queue)
                if db.dialect == "postgresql":
                    self._line(
                        db.name,
                        "LOG",
                        f"process {waiter.pid} still waiting for {waiter.mode} on relation "
                        f"{table} after {DEADLOCK_TIMEOUT * 1000:.3f} ms; DETAIL: Process "
                        f"holding the lock: {holding}. Wait queue: {queue}.",
                    )
                return


__all__ = ["DEADLOCK_TIMEOUT", "DatabaseLogger"]
