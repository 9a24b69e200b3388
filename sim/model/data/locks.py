"""Table locks as PostgreSQL takes them: modes, conflicts, holders and a FIFO queue per table.

Long-running statements — a background query, a migration's DDL, an index build — are
explicit holders and waiters, each with the time it lets go (``None``: not until cancelled).
The shop's own queries are short and many; they are not entered one by one: a query asks
:meth:`LockTable.free_at` when a lock of its mode would be granted, which is the pathology
that matters — a DDL queued behind a long query makes every later query on the table wait
for the query *and* the DDL, because the queue is first come, first served.
"""

from __future__ import annotations

from dataclasses import dataclass, field

INF = float("inf")

# The table-level modes the shop's statements take (PostgreSQL's names).
ACCESS_SHARE = "AccessShareLock"  # SELECT
ROW_EXCLUSIVE = "RowExclusiveLock"  # INSERT, UPDATE, DELETE
SHARE_UPDATE_EXCLUSIVE = "ShareUpdateExclusiveLock"  # VACUUM, ANALYZE, CREATE INDEX CONCURRENTLY
SHARE = "ShareLock"  # CREATE INDEX
ACCESS_EXCLUSIVE = "AccessExclusiveLock"  # most ALTER TABLE, DROP TABLE, VACUUM FULL

MODES = (ACCESS_SHARE, ROW_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE, SHARE, ACCESS_EXCLUSIVE)
# PostgreSQL's conflict table, restricted to the modes above (it is symmetric).
CONFLICTS: dict[str, frozenset[str]] = {
    ACCESS_SHARE: frozenset({ACCESS_EXCLUSIVE}),
    ROW_EXCLUSIVE: frozenset({SHARE, ACCESS_EXCLUSIVE}),
    SHARE_UPDATE_EXCLUSIVE: frozenset({SHARE_UPDATE_EXCLUSIVE, SHARE, ACCESS_EXCLUSIVE}),
    SHARE: frozenset({ROW_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE, ACCESS_EXCLUSIVE}),
    ACCESS_EXCLUSIVE: frozenset(MODES),
}
# The shop's queries by access: a read takes ACCESS SHARE, a write ROW EXCLUSIVE.
QUERY_MODE = {"read": ACCESS_SHARE, "write": ROW_EXCLUSIVE}


def conflicts(a: str, b: str) -> bool:
    return b in CONFLICTS[a]


@dataclass
class Hold:
    """A long statement's lock on one table: held, or waiting in the queue.

    ``until`` is when a holder lets go (``None``: until cancelled). A waiter holds for ``run``
    seconds once granted, and gives up at ``give_up`` (its lock timeout) if still waiting.
    """

    id: str
    table: str
    mode: str
    since: float
    until: float | None = None
    run: float | None = 0.0  # a waiter's time holding once granted (None: until cancelled)
    give_up: float | None = None
    lock_timeout: float | None = None  # a waiter's give_up counts from its request
    granted_at: float | None = None
    query: str = ""
    user: str = ""
    pid: int = 0
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def granted(self) -> bool:
        return self.granted_at is not None


class LockTable:
    """One table's holders and queue, and when a new lock of each mode would be granted."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.holders: list[Hold] = []
        self.queue: list[Hold] = []

    # -- changes (the lock mechanism calls these) ----------------------------------------
    def request(self, hold: Hold, now: float) -> bool:
        """Ask for ``hold``'s lock now: granted at once when nothing held or queued ahead
        conflicts, else queued (first come, first served)."""
        if self._blocked_by(hold.mode, len(self.queue)):
            self.queue.append(hold)
            return False
        self._grant(hold, now)
        return True

    def release(self, hold_id: str, now: float) -> list[Hold]:
        """``hold_id`` lets go (or leaves the queue); return the waiters granted because of it."""
        self.holders = [h for h in self.holders if h.id != hold_id]
        self.queue = [h for h in self.queue if h.id != hold_id]
        granted = []
        i = 0
        while i < len(self.queue):
            waiter = self.queue[i]
            if self._blocked_by(waiter.mode, i):
                i += 1
                continue
            self.queue.pop(i)  # the next waiter moves up to position i
            self._grant(waiter, now)
            granted.append(waiter)
        return granted

    def _grant(self, hold: Hold, now: float) -> None:
        hold.granted_at = now
        if hold.until is None and hold.run is not None:
            hold.until = now + hold.run
        self.holders.append(hold)

    def _blocked_by(self, mode: str, position: int) -> bool:
        """Whether a request of ``mode`` at queue ``position`` must wait."""
        if any(conflicts(mode, h.mode) for h in self.holders):
            return True
        return any(conflicts(mode, w.mode) for w in self.queue[:position])

    # -- reading (engines and evidence call these) ---------------------------------------
    def free_at(self, mode: str, now: float) -> float:
        """When a new lock of ``mode``, asked for now, would be granted (``now`` if at once,
        ``inf`` if only a cancellation can free it)."""
        at = now
        ends: list[float] = []  # when each waiter ahead leaves the queue or lets go
        for h in self.holders:
            if conflicts(mode, h.mode):
                at = max(at, INF if h.until is None else h.until)
        for i, w in enumerate(self.queue):
            grant = self._grant_time(w, i, now, ends)
            leaves = grant + w.run if w.run is not None else INF
            if w.give_up is not None and grant > w.give_up:
                leaves = w.give_up
            ends.append(leaves)
            if conflicts(mode, w.mode):
                at = max(at, leaves)
        return at

    def _grant_time(self, w: Hold, i: int, now: float, ends: list[float]) -> float:
        grant = max(now, w.since)
        for h in self.holders:
            if conflicts(w.mode, h.mode):
                grant = max(grant, INF if h.until is None else h.until)
        for j in range(i):
            if conflicts(w.mode, self.queue[j].mode):
                grant = max(grant, ends[j])
        return grant

    def blocking_chain(self) -> list[tuple[Hold, list[Hold]]]:
        """Each waiter and what it waits for: the holders and earlier waiters it conflicts with."""
        chain = []
        for i, w in enumerate(self.queue):
            blockers = [h for h in self.holders if conflicts(w.mode, h.mode)]
            blockers += [q for q in self.queue[:i] if conflicts(w.mode, q.mode)]
            chain.append((w, blockers))
        return chain


__all__ = [
    "ACCESS_EXCLUSIVE",
    "ACCESS_SHARE",
    "CONFLICTS",
    "MODES",
    "QUERY_MODE",
    "ROW_EXCLUSIVE",
    "SHARE",
    "SHARE_UPDATE_EXCLUSIVE",
    "Hold",
    "LockTable",
    "conflicts",
]
