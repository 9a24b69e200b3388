"""Game days on disk: one SQLite file (no other service), so a restarted server resumes them.

Two tables. ``gamedays`` holds each game day's configuration (scenario, seed, roles, tokens),
its clock (speed, paused, and the simulated time it had reached) and whether it has ended.
``entries`` holds its feed, one row per :class:`~sim.web.gameday.Entry`, written as it
happens (a crash loses at most the clock's last few seconds, never a command). The tokens
are kept in the file — it is the server's own, created readable by its owner only.

Each game day's files (``session.json``, ``journal.json``, the post-mortem) are written in a
folder of its own beside the database.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sim.web.feed import Entry
from sim.web.gameday import Config, GameDay

SCHEMA = """
CREATE TABLE IF NOT EXISTS gamedays (
    id TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    speed REAL NOT NULL,
    paused INTEGER NOT NULL,
    sim_now REAL NOT NULL,
    ended TEXT,
    journal_sha256 TEXT,
    created REAL NOT NULL,
    ended_view TEXT
);
CREATE TABLE IF NOT EXISTS entries (
    gameday TEXT NOT NULL REFERENCES gamedays(id),
    seq INTEGER NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (gameday, seq)
);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class Store:
    """The SQLite file of a server (thread-safe: one connection behind a lock)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "gamedays.sqlite"
        fresh = not self.path.exists()
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if fresh:
            with contextlib.suppress(OSError):
                os.chmod(self.path, 0o600)
        self.lock = threading.Lock()
        with self.lock:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self.db.execute("BEGIN")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def folder_of(self, gid: str) -> Path:
        return self.folder / gid

    # -- settings ------------------------------------------------------------------------------
    def setting(self, key: str, default: str) -> str:
        """A server setting, created with ``default`` the first time it is asked for."""
        with self._tx() as db:
            row = db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
            if row is not None:
                return str(row[0])
            db.execute("INSERT INTO settings VALUES (?, ?)", (key, default))
            return default

    # -- writing -------------------------------------------------------------------------------
    def add(self, gameday: GameDay) -> None:
        c = gameday.config
        with self._tx() as db:
            db.execute(
                "INSERT INTO gamedays VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, NULL)",
                (
                    c.id,
                    json.dumps(c.to_record()),
                    gameday.speed,
                    int(gameday.paused),
                    0.0,
                    c.created,
                ),
            )

    def record(self, gameday: GameDay, entry: Entry | None) -> None:
        """Keep a new entry (and the clock with it); ``None``: only the game day's state."""
        with self._tx() as db:
            if entry is not None:
                db.execute(
                    "INSERT OR REPLACE INTO entries VALUES (?, ?, ?)",
                    (gameday.id, entry.seq, json.dumps(entry.to_record())),
                )
            self._state(db, gameday)

    def save_clock(self, gameday: GameDay) -> None:
        with self._tx() as db:
            self._state(db, gameday)

    @staticmethod
    def _state(db: sqlite3.Connection, g: GameDay) -> None:
        db.execute(
            "UPDATE gamedays SET speed = ?, paused = ?, sim_now = ?, ended = ?, journal_sha256 = ? "
            "WHERE id = ?",
            (g.speed, int(g.paused), g.now, g.ended, g.journal_sha256, g.id),
        )
        if g.ended is not None:  # what its pages show from now on (no need to rebuild it)
            view = {"live": g.live, "scorecard": g.scorecard}
            db.execute("UPDATE gamedays SET ended_view = ? WHERE id = ?", (json.dumps(view), g.id))

    # -- reading -------------------------------------------------------------------------------
    def rows(self) -> list[dict[str, Any]]:
        """Every game day, newest first: its configuration, clock and end."""
        with self.lock:
            found = self.db.execute(
                "SELECT config, speed, paused, sim_now, ended, journal_sha256, ended_view "
                "FROM gamedays "
                "ORDER BY created DESC"
            ).fetchall()
        return [
            {
                "config": Config(**json.loads(r[0])),
                "speed": float(r[1]),
                "paused": bool(r[2]),
                "sim_now": float(r[3]),
                "ended": r[4],
                "journal_sha256": r[5],
                "ended_view": json.loads(r[6]) if r[6] else None,
            }
            for r in found
        ]

    def entries(self, gid: str) -> list[Entry]:
        with self.lock:
            found = self.db.execute(
                "SELECT record FROM entries WHERE gameday = ? ORDER BY seq", (gid,)
            ).fetchall()
        return [Entry.from_record(json.loads(r[0])) for r in found]

    def close(self) -> None:
        with self.lock:
            self.db.close()


__all__ = ["Store"]
