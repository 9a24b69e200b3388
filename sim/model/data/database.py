"""One database component's data tier at run time: tables, locks, roles and replicas.

Mechanisms change it; engines read the few fields on their hot path — ``free`` (when a read
or a write on a table gets its lock), ``insert_errors``, ``read_only``, the routing lists
``writer`` and ``readers`` and each instance's cache ``slowdown`` — and count what their
traffic did (``writes``, each table's ``inserts``, each instance's ``offered`` queries and
served ``reads``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sim.model.data.locks import QUERY_MODE, Hold, LockTable
from sim.model.data.messages import DbError
from sim.model.data.tables import TableState
from sim.scenario.schema.data import Database

INF = float("inf")


class Member:
    """One instance of the database: its role, how far behind it is, how warm its cache."""

    __slots__ = (
        "backlog",
        "crashed",
        "crashes",
        "drained",
        "i",
        "load",
        "lost",
        "offered",
        "overloaded_for",
        "reads",
        "recovering_until",
        "role",
        "slowdown",
        "warmth",
    )

    def __init__(self, i: int, role: str, backlog: float) -> None:
        self.i = i
        self.role = role  # "primary", "replica", or "spare" (empty until provisioned)
        self.backlog = backlog  # rows written on the primary not yet replayed here
        self.crashed = False
        self.crashes: list[float] = []  # when it fell over (an engineer sees restarts)
        self.drained = False  # taken out of the read rotation by a responder
        self.lost = False  # its data directory is gone: nothing serves until a restore
        self.recovering_until: float | None = None
        self.warmth = 1.0  # 1: a warm cache, 0: cold
        self.slowdown = 1.0  # × service time while the cache is cold
        self.offered = 0  # queries routed to it since the last tick (counted by the engine)
        self.load = 0.0  # queries per second routed to it, averaged over the last seconds
        self.reads = 0  # reads it served since the last tick (counted by the engine)
        self.overloaded_for = 0.0  # seconds its read load has been past its limit

    @property
    def serving(self) -> bool:
        active = self.role in ("primary", "replica")  # not a spare, not being provisioned
        return active and not self.crashed and not self.lost and self.recovering_until is None


class DatabaseState:
    """The data tier of one database component."""

    def __init__(self, name: str, spec: Database, replicas: int) -> None:
        self.name = name
        self.spec = spec
        self.dialect = spec.dialect
        self.tables = {t: TableState(t, s) for t, s in spec.tables.items()}
        self.locks: dict[str, LockTable] = {}
        # table → (when a read gets its lock, when a write does); absent: nothing in the way
        self.free: dict[str, tuple[float, float]] = {}
        self.insert_errors: dict[str, DbError] = {}
        self.read_only: DbError | None = None
        rep = spec.replication
        backlog = rep.lag_at_start * rep.apply_rate if rep is not None else 0.0
        spares = rep.spares if rep is not None else 0
        self.members = [
            Member(
                i,
                "primary"
                if i == 0 or rep is None
                else "spare"
                if i >= replicas - spares
                else "replica",
                0.0 if i == 0 else backlog,
            )
            for i in range(replicas)
        ]
        self.writer = 0
        self.readers: tuple[int, ...] = ()
        self.revision = 0  # how often writer/readers changed: engines cache what they derive
        self.writes = 0  # simulated writes served since the last tick
        self.pids = 1000
        # Told after every change to the locks (engines release the queries waiting on them).
        self.listeners: list[Callable[[DatabaseState], None]] = []
        self.route()

    # -- roles and routing ---------------------------------------------------------------
    @property
    def replicated(self) -> bool:
        return self.spec.replication is not None

    def lag(self, i: int) -> float:
        """How far instance ``i`` is behind the primary, in seconds of replay."""
        node = self.members[i]
        rep = self.spec.replication
        if node.role == "primary" or rep is None:
            return 0.0
        return node.backlog / rep.apply_rate

    def route(self) -> None:
        """Recompute which instance takes writes and which take reads."""
        rep = self.spec.replication
        serving = [n for n in self.members if n.serving]
        if rep is None:
            readers = [n.i for n in serving]
        else:
            primary = [n.i for n in serving if n.role == "primary"]
            replicas = [
                n.i
                for n in serving
                if n.role == "replica"
                and not n.drained
                and (rep.max_lag is None or self.lag(n.i) <= rep.max_lag)
            ]
            if rep.reads == "primary":
                readers = primary
            elif rep.reads == "any":
                readers = primary + replicas
            else:  # the replicas only: with none serving, reads fail
                readers = replicas
        if tuple(readers) != self.readers:
            self.readers = tuple(readers)
            self.revision += 1

    @property
    def data_bytes(self) -> float:
        """What a copy of the database moves: every declared table's rows × row size."""
        return sum(t.bytes for t in self.tables.values())

    def candidate(self) -> int | None:
        """The replica a promotion would pick: serving, the least behind (lowest index on a
        tie); None without one."""
        ready = [m for m in self.members if m.role == "replica" and m.serving]
        if not ready:
            return None
        return min(ready, key=lambda m: (m.backlog, m.i)).i

    def promote(self, i: int) -> None:
        """Make replica ``i`` the primary (the old primary, if it serves, becomes a replica)."""
        old = self.writer
        self.members[old].role = "replica"
        self.members[i].role = "primary"
        self.members[i].backlog = 0.0
        self.writer = i
        self.revision += 1
        self.route()

    # -- locks ---------------------------------------------------------------------------
    def lock_table(self, table: str) -> LockTable:
        if table not in self.locks:
            self.locks[table] = LockTable(table)
        return self.locks[table]

    def holds(self) -> Iterable[tuple[str, Hold]]:
        """Every long statement's hold or wait, by table."""
        for table, lt in self.locks.items():
            for h in (*lt.holders, *lt.queue):
                yield table, h

    def refresh(self, now: float) -> None:
        """Recompute when a read and a write on each table get their locks (after a change)."""
        free = {}
        for table, lt in self.locks.items():
            read = lt.free_at(QUERY_MODE["read"], now)
            write = lt.free_at(QUERY_MODE["write"], now)
            if read > now or write > now:
                free[table] = (read, write)
        self.free = free
        for listener in self.listeners:
            listener(self)

    def next_pid(self) -> int:
        self.pids += 1
        return self.pids


__all__ = ["DatabaseState", "Member"]
