"""What an on-call engineer sees when they query a database with a data tier: long statements
(``pg_stat_activity``), who waits for whose lock (``pg_locks`` joined to itself: the blocking
chain), connections in use, replication per replica (``pg_stat_replication``), sequences'
headroom and table sizes.

Like every observation it is read from state an engineer could query, never from the fault
list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.model.data import DatabaseState
from sim.model.data.locks import QUERY_MODE, conflicts
from sim.scenario.durations import format_duration

if TYPE_CHECKING:
    from sim.response.running import Running

LONG = 5.0  # seconds a statement runs before it counts as long-running
LOW_HEADROOM = 0.05  # a sequence with less than this share of its range left is flagged
RECENT_RESTARTS = 600.0  # seconds over which an instance's restarts are counted


def _ago(seconds: float) -> str:
    return format_duration(round(max(0.0, seconds)))


def activity(db: DatabaseState, now: float) -> list[dict[str, Any]]:
    """Long statements, one row per backend: who, how long, waiting or running, and the SQL."""
    rows: dict[int, dict[str, Any]] = {}
    for table, hold in db.holds():
        row = rows.setdefault(
            hold.pid,
            {
                "pid": hold.pid,
                "user": hold.user,
                "id": hold.id.partition(":")[2] or hold.id,
                "query": hold.query,
                "since": round(hold.since, 6),
                "state": "active",
                "waiting_for": [],
                "tables": [],
            },
        )
        row["tables"].append(table)
        if not hold.granted:
            row["state"] = "waiting"
            row["waiting_for"].append(f"{hold.mode} on {table}")
    out = [r for r in rows.values() if r["state"] == "waiting" or now - r["since"] >= LONG]
    return sorted(out, key=lambda r: (r["since"], r["pid"]))


def blocking(db: DatabaseState) -> list[dict[str, Any]]:
    """Each waiting statement and the pids it waits for (the chain an engineer walks)."""
    chain = []
    for table, lt in sorted(db.locks.items()):
        for waiter, blockers in lt.blocking_chain():
            chain.append(
                {
                    "table": table,
                    "pid": waiter.pid,
                    "id": waiter.id.partition(":")[2] or waiter.id,
                    "mode": waiter.mode,
                    "blocked_by": sorted({b.pid for b in blockers}),
                }
            )
    return chain


def waiting_queries(sim: Running, db: DatabaseState, now: float) -> list[dict[str, Any]]:
    """The shop's own queries waiting for a table's lock, per table and mode, and the pids they
    wait behind (``pg_locks`` rows with ``granted = false`` and their ``pg_blocking_pids``):
    hundreds of backends, shown as a count."""
    counts: dict[tuple[str, str], int] = {}
    for call in sim.engine.lock_waits(db):
        mode = QUERY_MODE[call.access]
        for table in call.tables:
            lt = db.locks.get(table)
            if lt is not None and lt.free_at(mode, now) > now:
                counts[(table, mode)] = counts.get((table, mode), 0) + 1
    out = []
    for (table, mode), n in sorted(counts.items()):
        lt = db.locks[table]
        ahead = [h for h in lt.holders if conflicts(mode, h.mode)]
        ahead += [h for h in lt.queue if conflicts(mode, h.mode)][:1]
        out.append(
            {"table": table, "mode": mode, "queries": n, "blocked_by": [h.pid for h in ahead]}
        )
    return out


def database_view(sim: Running, name: str) -> tuple[str, dict[str, Any]]:
    """The whole view of database ``name``: one line for a person, the facts for a program."""
    db = sim.world.data[name]
    now = float(sim.env.now)
    rt = sim.engine.runtimes[name]
    busy, queued = rt.gauge()
    slots = rt.capacity() * len(rt.instances)
    acts = activity(db, now)
    chain = blocking(db)
    waiting = waiting_queries(sim, db, now)
    replicas: list[dict[str, Any]] = [
        {
            "instance": m.i,
            "role": m.role,
            "state": (
                "data lost"
                if m.lost
                else "down"
                if m.crashed
                else "recovering"
                if m.recovering_until is not None
                else "drained"
                if m.drained
                else "streaming"
            ),
            "lag_seconds": round(db.lag(m.i), 3),
            "in_reads": m.i in db.readers,
            "cache_warmth": round(m.warmth, 3),
            "restarts_10m": sum(now - t <= RECENT_RESTARTS for t in m.crashes),
            "last_restart": round(m.crashes[-1], 6) if m.crashes else None,
        }
        for m in db.members
    ]
    sequences: list[dict[str, Any]] = [
        {
            "table": t.name,
            "type": t.seq_type,
            "value": t.seq_value,
            "max": t.seq_max,
            "headroom": round((t.seq_max - t.seq_value) / t.seq_max, 6) if t.seq_max else 0.0,
            "exhausted": t.exhausted_at is not None,
        }
        for t in db.tables.values()
        if t.seq_type is not None
    ]
    tables = {t.name: {"rows": round(t.rows), "bytes": round(t.bytes)} for t in db.tables.values()}
    stale = sorted(t.name for t in db.tables.values() if t.cost_factor != 1.0)
    parts = [f"{name}: {busy}/{slots} connections busy, {queued} waiting for one"]
    holders = {a["pid"]: a for a in acts}

    def behind(pids: list[int]) -> str:
        """Who ``pids`` are, as pg_stat_activity says it (their pids if it shows none)."""
        roots = [holders[p] for p in pids if p in holders]
        why = ", ".join(
            f"pid {r['pid']} ({r['id']}: {r['user']}, {r['state']} for "
            f"{_ago(now - r['since'])}): {r['query'][:80]}"
            for r in roots
        )
        return why or "pids " + ", ".join(map(str, pids))

    for link in chain:
        parts.append(
            f"pid {link['pid']} ({link['id']}) waits for {link['mode']} on {link['table']} "
            f"behind {behind(link['blocked_by'])}; every later query on {link['table']} "
            "waits behind it"
        )
    queued_ddl = {link["table"] for link in chain}
    for w in waiting:
        if w["table"] in queued_ddl:  # said above: every later query waits behind the DDL
            continue
        parts.append(
            f"{w['queries']} queries wait for {w['mode']} on {w['table']} behind "
            f"{behind(w['blocked_by'])}"
        )
    if not chain and not waiting:
        long_ones = [a for a in acts if a["state"] == "active"]
        if long_ones:
            parts.append(
                "long-running: "
                + "; ".join(
                    f"pid {a['pid']} ({a['id']}: {a['user']}, {_ago(now - a['since'])}) "
                    f"{a['query'][:60]}"
                    for a in long_ones
                )
            )
    # what hands out the IDs: a sequence on PostgreSQL, the table's AUTO_INCREMENT on MySQL
    ids = "AUTO_INCREMENT" if db.dialect == "mysql" else "sequence"
    for s in sequences:
        if s["exhausted"]:
            parts.append(f"{ids} of {s['table']} exhausted ({s['type']} max {s['max']:.0f})")
        elif s["headroom"] < LOW_HEADROOM:
            parts.append(
                f"{ids} of {s['table']} at {1 - s['headroom']:.1%} of its {s['type']} range"
            )
    lagging = [
        r
        for r in replicas
        if r["role"] == "replica" and r["state"] != "data lost" and r["lag_seconds"] >= 1.0
    ]
    down = [r for r in replicas if r["state"] in ("data lost", "down", "recovering")]
    if lagging:
        parts.append(
            "replication lag: "
            + ", ".join(f"{name}-{r['instance']} {_ago(r['lag_seconds'])}" for r in lagging)
        )
    if down:
        parts.append(", ".join(f"{name}-{r['instance']} {r['state']}" for r in down))
    restarting = [r for r in replicas if r["restarts_10m"] >= 2]
    if restarting:
        parts.append(
            "restarting: "
            + ", ".join(
                f"{name}-{r['instance']} fell over {r['restarts_10m']} times in 10m"
                for r in restarting
            )
        )
    if stale:
        parts.append(f"planner statistics missing on {', '.join(stale)} (run ANALYZE)")
    if db.read_only is not None:
        parts.append("read-only mode")
    facts = {
        "database": name,
        "connections": {"busy": busy, "slots": slots, "waiting": queued},
        "activity": acts,
        "blocking": chain,
        "waiting": waiting,
        "replication": replicas,
        "sequences": sequences,
        "tables": tables,
        "stale_statistics": stale,
        "read_only": db.read_only is not None,
    }
    return "; ".join(parts), facts


__all__ = ["activity", "blocking", "database_view", "waiting_queries"]
