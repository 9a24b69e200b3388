"""What a change's SQL statements do: which tables they touch, the lock each takes and the work
it is — metadata only, a rewrite of every row, an index build, a backfill, an ANALYZE.

The classification follows PostgreSQL (11 and later): ``ADD COLUMN`` without a volatile
default, ``DROP COLUMN`` and ``RENAME`` change metadata only but still take an ACCESS
EXCLUSIVE lock; ``ALTER COLUMN … TYPE`` rewrites the table under that lock; ``CREATE INDEX``
reads every row under a SHARE lock (writes wait, reads do not), ``CONCURRENTLY`` under a
lock that blocks neither.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sim.model.data.locks import (
    ACCESS_EXCLUSIVE,
    ACCESS_SHARE,
    ROW_EXCLUSIVE,
    SHARE,
    SHARE_UPDATE_EXCLUSIVE,
)

TABLE_IN_SQL = re.compile(
    r"\b(?:ALTER TABLE|UPDATE|INSERT INTO|DELETE FROM|DROP TABLE|CREATE INDEX \w+ ON)\s+"
    r"([a-z_][a-z0-9_]*)",
    re.I,
)
_TABLE = r"(?:IF EXISTS\s+)?(?:ONLY\s+)?([a-z_][a-z0-9_.]*)"
_RULES: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(pattern, re.I | re.S), mode, work)
    for pattern, mode, work in (
        (
            r"^\s*ALTER\s+SEQUENCE\s+([a-z_][a-z0-9_.]*?)_id_seq\b.*\bRESTART\b",
            ACCESS_SHARE,
            "sequence_restart",
        ),
        (
            rf"^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\b.*?\bON\s+{_TABLE}",
            SHARE_UPDATE_EXCLUSIVE,
            "index_concurrently",
        ),
        (rf"^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\b.*?\bON\s+{_TABLE}", SHARE, "index"),
        (
            rf"^\s*ALTER\s+TABLE\s+{_TABLE}.*\bALTER\s+(?:COLUMN\s+)?\w+\s+(?:SET\s+DATA\s+)?TYPE\b",
            ACCESS_EXCLUSIVE,
            "rewrite",
        ),
        # constraints: NOT VALID (or on an index that exists) is a catalog change; otherwise
        # UNIQUE / PRIMARY KEY build an index and CHECK / FOREIGN KEY / SET NOT NULL read every
        # row to validate it, all under the ACCESS EXCLUSIVE lock; VALIDATE CONSTRAINT reads
        # every row under a lock that blocks neither reads nor writes
        (
            rf"^\s*ALTER\s+TABLE\s+{_TABLE}.*\bADD\b.*(?:\bNOT\s+VALID|\bUSING\s+INDEX)\b",
            ACCESS_EXCLUSIVE,
            "metadata",
        ),
        (
            rf"^\s*ALTER\s+TABLE\s+{_TABLE}.*\bADD\b.*\b(?:UNIQUE|PRIMARY\s+KEY)\b",
            ACCESS_EXCLUSIVE,
            "index",
        ),
        (
            rf"^\s*ALTER\s+TABLE\s+{_TABLE}.*\b(?:ADD\b.*\b(?:CHECK|FOREIGN\s+KEY)|SET\s+NOT\s+NULL)\b",
            ACCESS_EXCLUSIVE,
            "scan",
        ),
        (
            rf"^\s*ALTER\s+TABLE\s+{_TABLE}.*\bVALIDATE\s+CONSTRAINT\b",
            SHARE_UPDATE_EXCLUSIVE,
            "scan",
        ),
        (rf"^\s*ALTER\s+TABLE\s+{_TABLE}", ACCESS_EXCLUSIVE, "metadata"),
        (rf"^\s*(?:VACUUM\s+FULL)\s+{_TABLE}", ACCESS_EXCLUSIVE, "rewrite"),
        (
            rf"^\s*VACUUM\s+(?:\(.*?\)\s+)?(?:FREEZE\s+)?(?:ANALYZE\s+)?{_TABLE}",
            SHARE_UPDATE_EXCLUSIVE,
            "vacuum",
        ),
        (rf"^\s*ANALYZE\s+{_TABLE}", SHARE_UPDATE_EXCLUSIVE, "analyze"),
        (rf"^\s*DROP\s+TABLE\s+{_TABLE}", ACCESS_EXCLUSIVE, "metadata"),
        (rf"^\s*UPDATE\s+{_TABLE}", ROW_EXCLUSIVE, "backfill"),
        (rf"^\s*DELETE\s+FROM\s+{_TABLE}", ROW_EXCLUSIVE, "backfill"),
        (rf"^\s*INSERT\s+INTO\s+{_TABLE}", ROW_EXCLUSIVE, "metadata"),
    )
)
_NEW_TYPE = re.compile(r"\bTYPE\s+(bigint|int8|bigserial|integer|int4|int)\b", re.I)
_INT64 = {"bigint", "int8", "bigserial"}
_RESTART = re.compile(r"\bRESTART\s+WITH\s+(-?\d+)", re.I)


@dataclass(frozen=True)
class Statement:
    """One classified statement: the table, the lock it takes, the work it is."""

    sql: str
    table: str | None
    mode: str
    # metadata, rewrite, index, index_concurrently, scan (a constraint's validation),
    # backfill, vacuum, analyze, sequence_restart, unknown
    work: str
    new_type: str | None = None  # int32/int64 for a rewrite that changes a column's type
    restart: float | None = None  # the value a sequence restarts at


def classify(sql: str) -> Statement:
    """Classify one SQL statement (an unknown statement takes no lock and does no work)."""
    for pattern, mode, work in _RULES:
        m = pattern.search(sql)
        if m:
            table = m.group(1).lower().rpartition(".")[2]
            new_type = None
            if work == "sequence_restart":
                value = _RESTART.search(sql)
                restart = float(value.group(1)) if value else None
                return Statement(sql, table, mode, work, restart=restart)
            if work == "rewrite":
                t = _NEW_TYPE.search(sql)
                if t:
                    new_type = "int64" if t.group(1).lower() in _INT64 else "int32"
            return Statement(sql, table, mode, work, new_type)
    return Statement(sql, None, ROW_EXCLUSIVE, "unknown")


def drops_statistics(st: Statement) -> bool:
    """Whether committing ``st`` leaves its table's planner without statistics: a column's
    type changed (PostgreSQL drops that column's ``pg_statistic`` rows; ANALYZE rebuilds
    them). VACUUM, FULL or not, keeps them."""
    return st.work == "rewrite" and not st.sql.lstrip().upper().startswith("VACUUM")


def tables_in(statements: Sequence[str]) -> set[str]:
    """Tables a migration's statements touch (``ALTER TABLE users …`` → ``users``)."""
    return {m.group(1).lower() for s in statements for m in TABLE_IN_SQL.finditer(s)}


__all__ = ["TABLE_IN_SQL", "Statement", "classify", "drops_statistics", "tables_in"]
