"""The action API's calls on a data tier: query a database, cancel a long statement, drain
its replicas and add them back. :class:`~sim.response.api.Incident` has them; they are apart
only to keep each module readable."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.response.calls import IncidentCalls
from sim.response.dbview import database_view
from sim.scenario.messages import did_you_mean

if TYPE_CHECKING:
    from sim.response.evidence import Evidence


class DataTierCalls(IncidentCalls):
    """Calls of the action API that only a database with a data tier answers."""

    def db(
        self, database: str | None = None, *, takes: float | None = None, lead: str | None = None
    ) -> Evidence:
        """Query a database: long statements, the lock blocking chain, connections in use,
        replication lag per replica, sequences' headroom, table sizes."""
        known = sorted(self.sim.world.data)
        if not known:
            why = f"nothing to query: {self._plain_databases()}"
            return self._refuse("db", database, why, lead)
        name = database or known[0]
        if name not in known:
            why = f"{name!r} is not a database with a data tier{did_you_mean(name, known)}"
            return self._refuse("db", database, why, lead)
        return self._look("db", name, lambda: database_view(self.sim, name), takes, lead)

    def _not_one(self, database: str, replicas: bool = False) -> str:
        """Why ``database`` cannot take a data-tier call, and which can."""
        data = self.sim.world.data
        pool = sorted(n for n, d in data.items() if d.replicated) if replicas else sorted(data)
        what = "with replicas" if replicas else "whose tables, locks and replicas are modelled"
        where = f"here: {', '.join(pool)}" if pool else "this scenario has none"
        return f"{database!r} is not a database {what} ({where})"

    def _plain_databases(self) -> str:
        """Why nothing can be queried: the scenario's databases keep no tables, locks or
        replicas to look at (no ``data:`` block), and where their health shows instead."""
        components = self.sim.scenario.components
        names = sorted(n for n, c in components.items() if c.kind == "database")
        if not names:
            return "this scenario has no database"
        return (
            f"{', '.join(names)} keeps no tables, locks or replicas to look at in this "
            "scenario (its errors and latency are in deps and logs)"
        )

    def cancel(self, work: str, **kw: Any) -> Evidence:
        """Cancel a long-running statement (``pg_cancel_backend``): a migration by its change
        id, a query by its id, or a pid. It lets go of its locks; the rest is the world's."""
        if self.actions.database_of(work) is None:
            running = sorted(
                h.id.partition(":")[2] for db in self.sim.world.data.values() for _, h in db.holds()
            )
            why = f"no long-running statement named {work!r}" + (
                f" (running: {', '.join(dict.fromkeys(running))})" if running else ""
            )
            return self._refuse("cancel", work, why, kw.get("lead"))
        return self._act("cancel", "cancel_query", work, **kw)

    def drain(self, database: str, **kw: Any) -> Evidence:
        """Take every replica of a database out of the read rotation (they recover and warm on
        their own; reads fail meanwhile unless the primary takes them)."""
        data = self.sim.world.data.get(database)
        if data is None or not data.replicated:
            why = self._not_one(database, replicas=True)
            return self._refuse("drain", database, why, kw.get("lead"))
        return self._act("drain", "drain", database, **kw)

    def add_back(self, database: str, **kw: Any) -> Evidence:
        """Put a database's drained replicas back into the read rotation, all at once."""
        data = self.sim.world.data.get(database)
        if data is None or not any(m.drained for m in data.members):
            why = f"no drained replica of {database!r} to add back"
            return self._refuse("add_back", database, why, kw.get("lead"))
        return self._act("add_back", "add_back", database, **kw)

    def promote(self, database: str, **kw: Any) -> Evidence:
        """Promote the replica furthest ahead to primary (``pg_ctl promote``): it first
        replays what it has not applied yet, then takes the writes. Refused without a replica
        serving."""
        data = self.sim.world.data.get(database)
        if data is None or not data.replicated:
            why = self._not_one(database, replicas=True)
            return self._refuse("promote", database, why, kw.get("lead"))
        if data.candidate() is None:
            why = f"no replica of {database} is serving: none to promote"
            return self._refuse("promote", database, why, kw.get("lead"))
        return self._act("promote", "promote", database, **kw)

    def analyze(self, database: str, **kw: Any) -> Evidence:
        """ANALYZE a database's tables whose planner statistics are missing (all of them if
        none is): each takes ``analyze_time``, and queries on it are fast again."""
        if database not in self.sim.world.data:
            why = self._not_one(database)
            return self._refuse("analyze", database, why, kw.get("lead"))
        return self._act("analyze", "analyze", database, **kw)

    def read_only(self, database: str, **kw: Any) -> Evidence:
        """Make a database refuse writes (reads go on): ``default_transaction_read_only``."""
        return self._toggle("read_only", database, True, **kw)

    def read_write(self, database: str, **kw: Any) -> Evidence:
        """Let a read-only database take writes again."""
        return self._toggle("read_write", database, False, **kw)

    def _toggle(self, call: str, database: str, on: bool, **kw: Any) -> Evidence:
        db = self.sim.world.data.get(database)
        if db is None:
            why = self._not_one(database)
            return self._refuse(call, database, why, kw.get("lead"))
        if (db.read_only is not None) == on:
            why = f"{database} is already {'read-only' if on else 'taking writes'}"
            return self._refuse(call, database, why, kw.get("lead"))
        return self._act(call, call, database, **kw)

    def retry(self, change: str, **kw: Any) -> Evidence:
        """Run a migration again that gave up or was cancelled, with a lock timeout (its own,
        or five seconds): it applies if it gets its locks in time, and fails fast if not."""
        spec = self.sim.world.changes.get(change)
        if (
            spec is None
            or spec.kind != "migration"
            or spec.components[0] not in self.sim.world.data
        ):
            why = f"{change!r} is not a migration on a database with a data tier"
            return self._refuse("retry", change, why, kw.get("lead"))
        if self.actions.database_of(change) is not None:
            why = f"{change} is still running or waiting for its locks (db shows it)"
            return self._refuse("retry", change, why, kw.get("lead"))
        return self._act("retry", "retry_migration", change, **kw)
