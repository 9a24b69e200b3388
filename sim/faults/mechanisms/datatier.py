"""The data tier's mechanisms for one run: what time and traffic do to every database.

Once a second (``TICK``) each database takes in what the engine counted: inserts advance
sequences and grow tables (a sequence past its type's maximum makes inserts fail, reads go
on), writes are what replicas must replay (lag grows while the primary writes faster than a
replica applies, and shrinks at the difference), reads are each instance's load (past its
capacity × (1 − headroom) for ``OVERLOAD_GRACE`` seconds, an instance falls over and must
recover: boot, redo its log since the last checkpoint, then serve with a cold cache that warms
as it serves). Migrations run as work under their locks (:mod:`.locking`); a schema-breaking
migration's fault starts when it commits, not when it was started.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from sim.faults.mechanisms.locking import Locking, Outcome, work_seconds
from sim.model.data import DatabaseState, TableState
from sim.model.data.messages import read_only, sequence_exhausted
from sim.model.sql import Statement, classify, drops_statistics
from sim.model.state import Effect
from sim.model.world import Event, World

if TYPE_CHECKING:
    from sim.faults.schedule import FaultSchedule

TICK = 1.0
OVERLOAD_GRACE = 15.0  # seconds past its limit before an instance falls over
STABLE = 300.0  # seconds every replica must serve without a crash for an outage to be over
MIN_EPISODE = 1.0  # seconds a lock must keep the shop's queries waiting to be an episode
RATE_MEMORY = 10.0  # seconds: the write rate is an exponential average over about this long
PROMOTE_SWITCH = 5.0  # seconds: pg_ctl promote ends recovery and opens for writes
LOAD_MEMORY = 5.0  # seconds: an instance's read load is averaged over about this long


class DataTier:
    """Runs the mechanisms of every database that declares a data tier."""

    def __init__(
        self, env: simpy.Environment, world: World, faults: FaultSchedule, represents: int
    ) -> None:
        self.env = env
        self.world = world
        self.faults = faults
        self.represents = represents
        self.locking = Locking(env, world, self._locks_changed)
        self.episodes: dict[tuple[str, str], str] = {}  # (kind, database/table) → open episode
        self.counts: dict[str, int] = {}
        self.dbs = world.data
        self.write_rate: dict[str, float] = dict.fromkeys(self.dbs, 0.0)  # rows/s, averaged
        self.migrations: dict[str, Outcome] = {}
        self.settled_since: dict[str, float | None] = {}  # replicas all serving, since when
        self.work: dict[str, simpy.Process] = {}
        # (database, what reset them: a change id or the one table) → tables still unanalyzed
        self.stale: dict[tuple[str, str], set[str]] = {}
        for db in self.dbs.values():
            for bg in db.spec.background:
                env.process(self.locking.background(db, bg))
            for member in db.members:
                if member.role == "spare":
                    world.states[db.name].add(
                        Effect(source=_down(db, member.i), down_instances=(member.i,))
                    )
            env.process(self._ticks(db))
        world.subscribe(self._on_event)

    # -- migrations ----------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        if event.kind == "fault.start" and event.data.get("type") == "data_loss":
            self._data_lost(str(event.data["id"]))
            return
        if event.kind != "change":
            return
        change = self.world.changes[str(event.data["id"])]
        if change.kind == "deploy":
            upgrade = self.world.major_upgrade(change.id)
            if upgrade is not None:  # pg_upgrade carries no planner statistics over
                db = self.dbs[upgrade[0]]
                self._statistics_lost(db, list(db.tables.values()), change.id)
        elif change.kind == "migration" and change.components[0] in self.dbs:
            self.migrate(change.id, change.statements, change.lock_timeout)

    def migrate(
        self, change_id: str, statements: tuple[str, ...], lock_timeout: float | None
    ) -> simpy.Process:
        """Run a migration of the change log now, as work under its locks; when it commits,
        the faults it sets off start (a schema the running code cannot live with)."""
        change = self.world.changes[change_id]
        process, outcome = self.run_statements(
            change.components[0], change_id, statements, lock_timeout, trigger=change_id
        )
        self.migrations[change_id] = outcome
        return process

    def run_statements(
        self,
        db_name: str,
        work_id: str,
        statements: tuple[str, ...],
        lock_timeout: float | None,
        trigger: str | None = None,
    ) -> tuple[simpy.Process, Outcome]:
        """Run ``statements`` on ``db_name`` as one transaction under their locks (a migration,
        its rollback, a forward fix, an ANALYZE): how long it takes is the world's to say."""
        db = self.dbs[db_name]
        outcome = Outcome()

        def commit(classified: list[Statement]) -> None:
            self._committed(db, classified)
            if trigger is not None:
                self.faults.start_triggered(trigger)

        process = self.env.process(
            self.locking.migrate(db, work_id, statements, lock_timeout, commit, outcome)
        )
        self.work[work_id] = process
        return process, outcome

    def estimate(self, db_name: str, statements: tuple[str, ...]) -> float:
        """Seconds ``statements`` would work on ``db_name`` now, locks granted at once."""
        db = self.dbs[db_name]
        return sum(work_seconds(db, classify(s)) for s in statements)

    def _committed(self, db: DatabaseState, classified: list[Statement]) -> None:
        """What committed statements changed: column types, planner statistics."""
        for st in classified:
            table = db.tables.get(st.table or "")
            if table is None:
                continue
            fixed = False
            if st.work == "sequence_restart" and st.restart is not None and table.seq_type:
                table.restart(st.restart)
                fixed = True
            if st.work == "rewrite" and st.new_type is not None and table.seq_type is not None:
                table.widen(st.new_type)
                fixed = True
            if fixed:
                db.insert_errors.pop(table.name, None)
                self._close(
                    "sequence_exhausted", f"{db.name}/{table.name}", f"{table.name}'s ids fixed"
                )
            if drops_statistics(st):
                self._statistics_lost(db, [table])
            if st.work == "analyze":
                table.cost_factor = 1.0
                for key, stale in list(self.stale.items()):
                    if key[0] == db.name:
                        stale.discard(table.name)
                        if not stale:  # every table it reset has its statistics again
                            del self.stale[key]
                            self._close("stale_statistics", "/".join(key), f"{table.name} analyzed")

    def _statistics_lost(self, db: DatabaseState, tables: list[TableState], by: str = "") -> None:
        """``tables`` lost their planner statistics (a column's type changed in one, or the
        change ``by`` upgraded the database: all): their queries cost ×
        ``stats_reset_factor`` until each is analyzed. One episode for what one thing reset,
        ending when the last of its tables is analyzed; naming ``by`` names its cause too."""
        if db.spec.stats_reset_factor <= 1.0 or not tables:
            return
        for table in tables:
            table.cost_factor = db.spec.stats_reset_factor
            extra = {"by": by} if by else {}
            self.world.emit(
                self.env.now, "stats.reset", database=db.name, table=table.name, **extra
            )
        key = (db.name, by or tables[0].name)
        self.stale.setdefault(key, set()).update(t.name for t in tables)
        self._open(
            "stale_statistics",
            "/".join(key),
            {db.name, *(t.name for t in tables), *([by] if by else [])},
            {"analyze": 0.0},
            db.name,
        )

    # -- episodes: what the mechanisms disrupt, for the journal, scoring and the oracle -------
    def _open(
        self, kind: str, where: str, targets: set[str], remedies: dict[str, float], db: str
    ) -> None:
        key = (kind, where)
        if key in self.episodes:
            return
        n = self.counts[kind] = self.counts.get(kind, 0) + 1
        episode_id = f"{kind}-{n}"
        self.episodes[key] = episode_id
        self.faults.open_episode(episode_id, kind, frozenset(targets), remedies, (db,))

    def _close(self, kind: str, where: str, cause: str, at: float | None = None) -> None:
        episode_id = self.episodes.pop((kind, where), None)
        if episode_id is not None:
            self.faults.end(episode_id, cause, at)

    def _locks_changed(self, db: DatabaseState) -> None:
        """Open an episode for each table where the shop's queries now wait for a lock (for a
        second or more: a catalog change's own instant under its lock is none); close it when
        they no longer do."""
        now = self.env.now
        blocked = {t for t, pair in db.free.items() if max(pair) - now >= MIN_EPISODE}
        for table in sorted(blocked):
            lt = db.lock_table(table)
            who = {work_name(h.id) for h in (*lt.holders, *lt.queue)}
            self._open(
                "lock_queue",
                f"{db.name}/{table}",
                {db.name, table, *who},
                {"cancel_query": 0.0},
                db.name,
            )
        for kind, where in list(self.episodes):
            mine = kind == "lock_queue" and where.startswith(f"{db.name}/")
            if mine and where.partition("/")[2] not in blocked:
                self._close(kind, where, "the queries on it got their locks")

    def cancel(self, db_name: str, name: str) -> bool:
        """Cancel the long work ``name`` (a migration's change id, a background query's id, or
        a pid) on ``db_name``: it lets go of its locks now."""
        db = self.dbs[db_name]
        for _, hold in db.holds():
            if name in (work_name(hold.id), hold.id, str(hold.pid)):
                return self.locking.cancel(db, hold.id)
        return False

    # -- the tick ------------------------------------------------------------------------
    def _ticks(self, db: DatabaseState) -> Generator[simpy.Event, Any, None]:
        while True:
            yield self.env.timeout(TICK)
            self.tick(db)

    def tick(self, db: DatabaseState) -> None:
        """Take in one tick's traffic: sequences, table sizes, replication, load and warmth."""
        now, r = self.env.now, self.represents
        for table in db.tables.values():
            if table.inserts:
                if table.insert(table.inserts * r, now):
                    db.insert_errors[table.name] = sequence_exhausted(
                        db.dialect, table.name, table.seq_max
                    )
                    self.world.emit(now, "sequence.exhausted", database=db.name, table=table.name)
                    self._open(
                        "sequence_exhausted",
                        f"{db.name}/{table.name}",
                        {db.name, table.name},
                        {"deploy_fix": 0.0},
                        db.name,
                    )
                table.inserts = 0
        rows = db.writes * r
        db.writes = 0
        alpha = TICK / RATE_MEMORY
        self.write_rate[db.name] += alpha * (rows / TICK - self.write_rate[db.name])
        rep = db.spec.replication
        for member in db.members:
            if member.role == "replica" and rep is not None:
                applied = 0.0 if not member.serving else rep.apply_rate * TICK
                member.backlog = max(0.0, member.backlog + rows - applied)
            self._load(db, member.i, member.offered / TICK)
            self._warm(db, member.i, member.reads * r)
            member.offered = member.reads = 0
        db.route()
        self._replicas_settled(db)

    # -- load, crashes and recovery ------------------------------------------------------
    def capacity(self, db: DatabaseState, i: int) -> float:
        """Queries per second (simulated) instance ``i`` can serve now."""
        spec = self.world.scenario.components[db.name]
        state = self.world.states[db.name]
        slots = spec.concurrency * state.capacity_factor
        seconds = spec.service_time.mean * state.latency_factor * db.members[i].slowdown
        return slots / seconds

    def _load(self, db: DatabaseState, i: int, offered: float) -> None:
        """An instance whose read load, averaged over the last ``LOAD_MEMORY`` seconds, stays
        above its capacity × (1 − headroom) for ``OVERLOAD_GRACE`` seconds falls over."""
        member = db.members[i]
        rep = db.spec.replication
        member.load += (TICK / LOAD_MEMORY) * (offered - member.load)
        if not member.serving or rep is None:
            return
        limit = self.capacity(db, i) * (1.0 - rep.headroom)
        load = member.load
        member.overloaded_for = member.overloaded_for + TICK if load > limit else 0.0
        if member.overloaded_for >= OVERLOAD_GRACE:
            self.crash(db, i, f"read load {load:.0f}/s past its limit {limit:.0f}/s")

    def crash(self, db: DatabaseState, i: int, reason: str) -> None:
        """Instance ``i`` falls over; it restarts by itself and recovers (boot, redo, cold)."""
        member = db.members[i]
        if member.crashed:
            return
        self._open(
            "replica_outage", db.name, {db.name}, {"add_back": 0.0, "scale_out": 0.0}, db.name
        )
        member.crashed = True
        member.crashes.append(self.env.now)
        member.overloaded_for = 0.0
        self.settled_since[db.name] = None
        self.world.states[db.name].add(Effect(source=_down(db, i), down_instances=(i,)))
        db.route()
        self.world.emit(self.env.now, "db.crashed", database=db.name, instance=i, reason=reason)
        self.env.process(self._recover(db, i))

    def recovery_seconds(self, db: DatabaseState) -> tuple[float, float]:
        """(boot, redo) seconds of a restart now: redo replays the writes since the last
        checkpoint at the redo rate."""
        rec = db.spec.recovery
        since_checkpoint = self.env.now % rec.checkpoint_interval
        redo_rows = self.write_rate[db.name] * since_checkpoint
        return rec.boot, redo_rows / rec.redo_rate

    def _recover(self, db: DatabaseState, i: int) -> Generator[simpy.Event, Any, None]:
        member = db.members[i]
        boot, redo = self.recovery_seconds(db)
        member.crashed = False
        member.recovering_until = self.env.now + boot + redo
        self.world.emit(
            self.env.now,
            "db.recovering",
            database=db.name,
            instance=i,
            boot=boot,
            redo=round(redo, 6),
        )
        yield self.env.timeout(boot + redo)
        member.recovering_until = None
        if db.spec.cache is not None:
            member.warmth = 0.0
            member.slowdown = db.spec.cache.cold_factor
        self.world.states[db.name].remove(_down(db, i))
        db.route()
        self.world.emit(self.env.now, "db.recovered", database=db.name, instance=i)

    def _replicas_settled(self, db: DatabaseState) -> None:
        """A replica outage is over once every replica has served reads for ``STABLE``
        seconds without another crash (a relapse is the same outage going on)."""
        if ("replica_outage", db.name) not in self.episodes or not _in_rotation(db):
            self.settled_since[db.name] = None
            return
        since = self.settled_since.get(db.name)
        if since is None:
            self.settled_since[db.name] = self.env.now
        elif self.env.now - since >= STABLE:
            self._close("replica_outage", db.name, "every replica serves reads again", since)

    # -- operators' moves -------------------------------------------------------------------
    def read_only(self, db_name: str, on: bool) -> None:
        """Refuse (``on``) or accept writes again: a database kept alive for reads."""
        db = self.dbs[db_name]
        db.read_only = read_only(db.dialect) if on else None
        self.world.emit(self.env.now, "db.read_only" if on else "db.read_write", database=db_name)

    def drain(self, db_name: str) -> None:
        """Take every replica out of the read rotation (they recover and warm on their own)."""
        db = self.dbs[db_name]
        for member in db.members:
            if member.role == "replica":
                member.drained = True
        db.route()
        self.world.emit(self.env.now, "db.drained", database=db_name)

    def add_back(self, db_name: str) -> None:
        """Put every drained replica back into the read rotation, all at once."""
        db = self.dbs[db_name]
        for member in db.members:
            member.drained = False
        db.route()
        self.world.emit(self.env.now, "db.added_back", database=db_name)
        self._replicas_settled(db)

    def spare(self, db_name: str) -> int | None:
        """An empty instance a scale-out can provision a replica into, if any is left."""
        db = self.dbs.get(db_name)
        if db is None:
            return None
        return next((m.i for m in db.members if m.role == "spare"), None)

    def provision_seconds(self, db_name: str) -> float:
        """How long a new replica takes before it serves: boot and a copy of the data."""
        db = self.dbs[db_name]
        return db.spec.recovery.boot + db.data_bytes / db.spec.restore_rate

    def provision(self, db_name: str) -> Generator[simpy.Event, Any, None]:
        """A new replica in a spare instance: boot, copy the data (bytes ÷ restore_rate),
        catch up on what was written meanwhile, serve with a cold cache."""
        db = self.dbs[db_name]
        i = self.spare(db_name)
        if i is None:
            return
        member = db.members[i]
        member.role = "provisioning"
        start = self.env.now
        self.world.emit(start, "db.provisioning", database=db_name, instance=i)
        yield self.env.timeout(self.provision_seconds(db_name))
        member.role = "replica"
        member.backlog = self.write_rate[db_name] * (self.env.now - start)
        if db.spec.cache is not None:
            member.warmth = 0.0
            member.slowdown = db.spec.cache.cold_factor
        self.world.states[db_name].remove(_down(db, i))
        db.route()
        self.world.emit(self.env.now, "db.provisioned", database=db_name, instance=i)

    # -- data lost and restored ----------------------------------------------------------
    def _data_lost(self, fault_id: str) -> None:
        """A data loss fault started: the instances it took down have no data directory."""
        for name, effect in self.faults.faults[fault_id].effects:
            db = self.dbs.get(name)
            if db is None:
                continue
            for i in effect.down_instances:
                db.members[i].lost = True
                self.world.emit(self.env.now, "db.data_lost", database=name, instance=i)
            db.route()

    def restore_seconds(self, db_name: str) -> float:
        """How long a restore from a backup takes: a copy of the whole database at its
        ``restore_rate``, then a boot (nothing to redo: the copy is consistent)."""
        db = self.dbs[db_name]
        return db.spec.recovery.boot + db.data_bytes / db.spec.restore_rate

    def restore(self, db_name: str) -> Generator[simpy.Event, Any, None]:
        """Restore every instance of ``db_name`` that lost its data: copy, boot, serve with a
        cold cache (a replica restored also replays what was written meanwhile)."""
        db = self.dbs[db_name]
        lost = [m for m in db.members if m.lost]
        if not lost:
            return
        start = self.env.now
        seconds = self.restore_seconds(db_name)
        self.world.emit(
            start,
            "db.restoring",
            database=db_name,
            instances=[m.i for m in lost],
            bytes=round(db.data_bytes),
            seconds=round(seconds, 6),
        )
        yield self.env.timeout(seconds)
        for member in lost:
            member.lost = False
            if member.role == "replica":
                member.backlog = self.write_rate[db_name] * (self.env.now - start)
            if db.spec.cache is not None:
                member.warmth = 0.0
                member.slowdown = db.spec.cache.cold_factor
        db.route()
        self.world.emit(self.env.now, "db.restored", database=db_name)

    def promote_seconds(self, db_name: str) -> float:
        """How long a promotion takes now: the candidate replays what it has not applied
        (backlog ÷ apply rate, the primary taking no writes meanwhile), then switches over."""
        db = self.dbs[db_name]
        i = db.candidate()
        rep = db.spec.replication
        if i is None or rep is None:
            return 0.0
        return db.members[i].backlog / rep.apply_rate + PROMOTE_SWITCH

    def promote(self, db_name: str) -> Generator[simpy.Event, Any, None]:
        """Promote the replica furthest ahead: replay, switch over, take the writes (the old
        primary, if it comes back, is a replica)."""
        db = self.dbs[db_name]
        i = db.candidate()
        if i is None:
            return
        seconds = self.promote_seconds(db_name)
        member = db.members[i]
        self.world.emit(
            self.env.now,
            "db.promoting",
            database=db_name,
            instance=i,
            lag=round(db.lag(i), 6),
            seconds=round(seconds, 6),
        )
        yield self.env.timeout(seconds)
        member.backlog = 0.0
        db.promote(i)
        self.world.emit(self.env.now, "db.promoted", database=db_name, instance=i)

    def _warm(self, db: DatabaseState, i: int, reads: float) -> None:
        """A serving instance warms with the reads it serves; one out of the read rotation
        loads its working set from disk by itself, over ``prewarm`` seconds."""
        cache = db.spec.cache
        member = db.members[i]
        if cache is None or member.warmth >= 1.0 or not member.serving:
            return
        warmed = reads / cache.warm_after if i in db.readers else TICK / cache.prewarm
        member.warmth = min(1.0, member.warmth + warmed)
        member.slowdown = 1.0 + (cache.cold_factor - 1.0) * (1.0 - member.warmth)


def _in_rotation(db: DatabaseState) -> bool:
    """Every replica serves reads again (none down, recovering or drained)."""
    return all(m.serving and not m.drained for m in db.members if m.role == "replica")


def work_name(hold_id: str) -> str:
    """``migration:mig-3107`` → ``mig-3107``; ``query:finance-export`` → ``finance-export``."""
    return hold_id.partition(":")[2] or hold_id


def _down(db: DatabaseState, i: int) -> str:
    return f"{db.name}-{i} down"


__all__ = ["OVERLOAD_GRACE", "TICK", "DataTier"]
