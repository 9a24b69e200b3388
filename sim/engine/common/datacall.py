"""A call into a database that declares a data tier: where it goes, how long its locks keep it
waiting, and what the database refuses.

The engines compile one :class:`DataCall` per such call (``Node.data``); every other call has
``None`` there and pays nothing for the data tier. The state read here is changed by the
mechanisms (:mod:`sim.faults.mechanisms`); the counts written here are what they read back.
"""

from __future__ import annotations

from sim.engine.common.servers import Instance, Runtime
from sim.model.data import DatabaseState
from sim.model.data.messages import DbError, lock_timeout, read_only, statement_timeout

INF = float("inf")


class DataCall:
    """The data-tier side of one compiled call."""

    __slots__ = (
        "access",
        "db",
        "inserts",
        "key",
        "lock_timeout",
        "mode",
        "pool",
        "rr",
        "statement_timeout",
        "tables",
    )

    def __init__(
        self,
        db: DatabaseState,
        access: str,
        tables: tuple[str, ...],
        inserts: tuple[str, ...],
        lock_timeout: float | None,
        statement_timeout: float | None,
    ) -> None:
        self.db = db
        self.access = access  # "read" or "write"
        self.mode = 0 if access == "read" else 1  # index into DatabaseState.free's pairs
        self.tables = tables
        self.inserts = inserts
        self.lock_timeout = lock_timeout
        self.statement_timeout = statement_timeout
        self.key: tuple[int, int] = (-1, -1)
        self.pool: list[Instance] = []
        self.rr = -1

    def pick(self, comp: Runtime) -> Instance | None:
        """The instance this call goes to: the primary for a write and a reader for a read
        when the database has replicas, the component's own balancing otherwise."""
        db = self.db
        if db.replicated:
            key = (db.revision, comp.rotation)
            if key != self.key:
                wanted = (db.writer,) if self.access == "write" else db.readers
                self.pool = [comp.instances[i] for i in wanted if not comp.instances[i].ejected]
                self.key = key
            pool = self.pool
            if not pool:
                return None
            self.rr = (self.rr + 1) % len(pool)
            inst: Instance | None = pool[self.rr]
        else:
            inst = comp.pick()
        if inst is not None:
            db.members[inst.i].offered += 1
        return inst

    def wait(self, now: float) -> float:
        """Seconds until every table this call touches grants its lock (0: at once)."""
        free = self.db.free
        if not free:
            return 0.0
        until = now
        for table in self.tables:
            pair = free.get(table)
            if pair is not None and pair[self.mode] > until:
                until = pair[self.mode]
        return until - now

    def service(
        self, svc: float, inst: Instance, now: float
    ) -> tuple[float, DbError | None, float]:
        """(work seconds, the error it ends with or ``None``, seconds it must first wait for
        its locks). The work is slowed by a cold cache and by stale planner statistics; a
        write to a read-only database, or an insert into a table whose sequence ran out, is
        refused."""
        db = self.db
        if self.access == "write" and db.read_only is not None:
            return svc, read_only(db.dialect), 0.0
        err: DbError | None = None
        if self.inserts and db.insert_errors:
            for table in self.inserts:
                if table in db.insert_errors:
                    err = db.insert_errors[table]
                    break
        svc *= db.members[inst.i].slowdown
        tables = db.tables
        for table in self.tables:
            state = tables.get(table)
            if state is not None and state.cost_factor != 1.0:
                svc *= state.cost_factor
        wait = self.wait(now)
        st = self.statement_timeout
        if not wait and st is not None and svc > st:
            return st, statement_timeout(db.dialect), 0.0
        return svc, err, wait

    def give_up(self) -> tuple[float, DbError] | None:
        """When a statement waiting for a lock is cancelled by its own timeouts, and with
        which error (the earlier of ``lock_timeout`` and ``statement_timeout``)."""
        lt, st = self.lock_timeout, self.statement_timeout
        dialect = self.db.dialect
        if lt is not None and (st is None or lt <= st):
            return lt, lock_timeout(dialect)
        if st is not None:
            return st, statement_timeout(dialect)
        return None

    def served(self, inst: Instance) -> None:
        """Count what a call that worked did: a write for the replicas, its inserts, a read."""
        db = self.db
        if self.access == "write":
            db.writes += 1
            for table in self.inserts:
                db.tables[table].inserts += 1
        else:
            db.members[inst.i].reads += 1


__all__ = ["DataCall"]
