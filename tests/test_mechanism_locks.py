"""Locks and migrations as work: queues by PostgreSQL's rules, and outages as long as the world
makes them (scenarios/migration-lock-queue.yaml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import sim
from sim.expect.overrides import apply_overrides
from sim.journal import Journal
from sim.model.data.locks import (
    ACCESS_EXCLUSIVE,
    ACCESS_SHARE,
    QUERY_MODE,
    ROW_EXCLUSIVE,
    SHARE,
    SHARE_UPDATE_EXCLUSIVE,
    Hold,
    LockTable,
)
from sim.scenario import Scenario
from tests.conftest import SCENARIOS, drill_transcript

LOCK_QUEUE = SCENARIOS / "migration-lock-queue.yaml"
MIGRATION_AT = 40 * 60.0
EXPORT_ENDS = (25 + 50) * 60.0
ORDERS_ROWS = 32_000_000
REWRITE_RATE = 60_000.0
REWRITE = "ALTER TABLE orders ALTER COLUMN total_cents TYPE bigint;"


def variant(overrides: dict[str, Any]) -> Scenario:
    """The lock-queue scenario with ``overrides`` set (dotted paths)."""
    doc = sim.load_scenario(LOCK_QUEUE).model_dump(mode="json", by_alias=True)
    return Scenario.model_validate(apply_overrides(doc, overrides))


def episode(journal: Journal) -> dict[str, Any]:
    (found,) = [f for f in journal.summary["faults"] if f["type"] == "lock_queue"]
    return dict(found)


def checkout_errors(journal: Journal) -> tuple[float, float]:
    """First and last window in which checkouts failed."""
    f = journal.metrics_frame()
    rows = f[(f.scope == "endpoint") & (f.name.isin(["checkout", "pay", "search"]))]
    bad = rows[rows.requests > rows.ok]
    return float(bad.t.min()), float(bad.t.max()) + journal.data["window"]


# -- the lock table by itself ----------------------------------------------------------------
def test_a_ddl_queued_behind_a_long_read_blocks_every_later_query() -> None:
    """Reads and writes asked after the DDL wait for the reader's end plus the DDL's own run."""
    lt = LockTable("orders")
    assert lt.request(Hold("export", "orders", ACCESS_SHARE, 0.0, until=100.0), 0.0)
    assert not lt.request(Hold("ddl", "orders", ACCESS_EXCLUSIVE, 10.0, run=7.0), 10.0)
    assert lt.free_at(QUERY_MODE["read"], 20.0) == 107.0
    assert lt.free_at(QUERY_MODE["write"], 20.0) == 107.0
    granted = lt.release("export", 100.0)
    assert [h.id for h in granted] == ["ddl"]
    assert lt.free_at(QUERY_MODE["read"], 100.0) == 107.0
    assert lt.release("ddl", 107.0) == []
    assert lt.free_at(QUERY_MODE["read"], 107.0) == 107.0


def test_without_a_queued_ddl_a_long_read_blocks_nobody() -> None:
    """A long SELECT alone shares its lock with every read and write."""
    lt = LockTable("orders")
    lt.request(Hold("export", "orders", ACCESS_SHARE, 0.0, until=100.0), 0.0)
    assert lt.free_at(QUERY_MODE["read"], 5.0) == 5.0
    assert lt.free_at(QUERY_MODE["write"], 5.0) == 5.0


def test_an_index_build_blocks_writes_not_reads() -> None:
    """CREATE INDEX takes a SHARE lock: INSERT waits for it, SELECT does not."""
    lt = LockTable("orders")
    lt.request(Hold("index", "orders", SHARE, 0.0, until=50.0), 0.0)
    assert lt.free_at(QUERY_MODE["read"], 1.0) == 1.0
    assert lt.free_at(QUERY_MODE["write"], 1.0) == 50.0


def test_a_lock_timeout_bounds_the_queue() -> None:
    """A DDL that gives up at its lock timeout frees the queue then, not at the reader's end."""
    lt = LockTable("orders")
    lt.request(Hold("export", "orders", ACCESS_SHARE, 0.0, until=100.0), 0.0)
    lt.request(Hold("ddl", "orders", ACCESS_EXCLUSIVE, 10.0, run=7.0, give_up=15.0), 10.0)
    assert lt.free_at(QUERY_MODE["read"], 11.0) == 15.0


def test_compatible_waiters_are_granted_together_in_order() -> None:
    """After an exclusive holder lets go, the waiting writes that do not conflict all go on."""
    lt = LockTable("orders")
    lt.request(Hold("ddl", "orders", ACCESS_EXCLUSIVE, 0.0, until=10.0), 0.0)
    lt.request(Hold("w1", "orders", ROW_EXCLUSIVE, 1.0, run=5.0), 1.0)
    lt.request(Hold("w2", "orders", ROW_EXCLUSIVE, 2.0, run=5.0), 2.0)
    lt.request(Hold("idx", "orders", SHARE, 3.0, run=5.0), 3.0)
    granted = lt.release("ddl", 10.0)
    assert [h.id for h in granted] == ["w1", "w2"]
    assert [h.id for h in lt.queue] == ["idx"]


# -- the scenario ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def nobody() -> Journal:
    return sim.run(sim.load_scenario(LOCK_QUEUE), seed=1, responder="none", horizon=5400)


def test_the_outage_lasts_as_long_as_the_export_has_left(nobody: Journal) -> None:
    """Nobody responding: the queue forms when the migration asks for its lock at 08:40 and
    clears when the export ends at 09:15 — the holder's remaining time, not a typed duration."""
    ep = episode(nobody)
    assert ep["start"] == pytest.approx(MIGRATION_AT)
    assert ep["ended"] == pytest.approx(EXPORT_ENDS, abs=1.0)
    assert {"mig-3107", "finance-export", "db", "orders"} <= set(ep["targets"])
    first, last = checkout_errors(nobody)
    assert first == pytest.approx(MIGRATION_AT, abs=nobody.data["window"])
    assert last == pytest.approx(EXPORT_ENDS, rel=0.10)
    kinds = [e["kind"] for e in nobody.events()]
    assert (
        kinds.index("lock.wait")
        < kinds.index("query.committed")
        < kinds.index("migration.committed")
    )


def test_waiting_queries_keep_their_slots_until_every_query_waits(nobody: Journal) -> None:
    """The queries queued behind the migration hold their database slots (their callers gave
    up, the backends did not): within ten minutes all 64 are taken and reads of other tables
    (search reads products) fail too, until the queue clears."""
    f = nobody.metrics_frame()
    db = f[(f.scope == "component") & (f.name == "db")]
    during = db[(db.t >= MIGRATION_AT + 600) & (db.t < EXPORT_ENDS - 60)]
    assert (during.busy == 64).all()
    search = f[(f.scope == "endpoint") & (f.name == "search")]
    queued = search[(search.t >= MIGRATION_AT + 600) & (search.t < EXPORT_ENDS - 60)]
    assert (queued.ok == 0).all()
    after = db[db.t >= EXPORT_ENDS + 60]
    assert (after.busy < 64).all()


def test_blocked_time_is_the_holders_remaining_time_plus_the_ddls_own() -> None:
    """A rewriting DDL queued behind the export blocks for (export end − 08:40) + rows ÷ the
    rewrite rate, within 10 %."""
    journal = sim.run(
        variant({"changes.2.statements": [REWRITE]}), seed=2, responder="none", horizon=6000
    )
    ep = episode(journal)
    expected = (EXPORT_ENDS - MIGRATION_AT) + ORDERS_ROWS / REWRITE_RATE
    assert ep["ended"] - ep["start"] == pytest.approx(expected, rel=0.10)
    _, last = checkout_errors(journal)
    assert last - MIGRATION_AT == pytest.approx(expected, rel=0.10)


def test_a_short_lock_timeout_blocks_less(nobody: Journal) -> None:
    """Counterfactual: with lock_timeout 5s the migration gives up, the queue lasts 5 s, and
    far fewer checkouts fail; the migration did not apply (it failed, and says so)."""
    journal = sim.run(
        variant({"changes.2.lock_timeout": "5s"}), seed=1, responder="none", horizon=5400
    )
    ep = episode(journal)
    assert ep["ended"] - ep["start"] == pytest.approx(5.0)
    assert journal.summary["failed_checkouts"] < nobody.summary["failed_checkouts"] / 10
    assert [e["kind"] for e in journal.events() if e["kind"].startswith("migration.")] == [
        "migration.lock_timeout"
    ]
    logs = journal.data["logs"]["signatures"]
    assert any("canceling statement due to lock timeout" in s["example"] for s in logs)


def test_cancelling_the_migration_ends_it_at_once() -> None:
    """The oracle cancels the queued migration: the queue clears then, and the step remedied it."""
    journal = sim.run(sim.load_scenario(LOCK_QUEUE), seed=1, responder="oracle", horizon=5400)
    (cancel,) = [s for s in journal.data["response"]["steps"] if s["call"] == "cancel"]
    ep = episode(journal)
    assert cancel["target"] == "mig-3107"
    assert cancel["remedied"] == [ep["id"]]
    assert cancel["t"] < ep["ended"] <= cancel["end"]
    _, last = checkout_errors(journal)
    assert last <= cancel["end"] + 120.0
    assert ep["ended"] < EXPORT_ENDS - 1200


def test_a_rollback_of_a_migration_that_has_not_committed_is_refused() -> None:
    """Rolling back a migration still waiting for its lock makes no sense: the API says so,
    pointing at cancel, at no cost."""
    from sim.response.api import Incident
    from sim.simulation import Simulation

    simulation = Simulation(sim.load_scenario(LOCK_QUEUE), 1)
    incident = Incident(simulation, 3600.0)
    incident.wait(MIGRATION_AT + 60 - incident.now)
    ev = incident.rollback("mig-3107")
    assert not ev.ok
    assert "cancel it instead" in ev.summary
    assert ev.end == ev.t
    view = incident.db("db")
    assert view.ok
    (link,) = view.facts["blocking"]
    assert link["id"] == "mig-3107"
    assert link["table"] == "orders"
    assert "waits for AccessExclusiveLock on orders behind pid" in view.summary
    assert "finance" in view.summary


def test_the_database_view_never_reads_the_fault_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the fault list (and its episodes) replaced by a tripwire, db still shows the chain."""
    from sim.response.api import Incident
    from sim.simulation import Simulation

    simulation = Simulation(sim.load_scenario(LOCK_QUEUE), 1)
    incident = Incident(simulation, 3600.0)
    incident.wait(MIGRATION_AT + 60 - incident.now)

    class Tripwire:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"the database view read the fault list ({name})")

    monkeypatch.setattr(simulation, "faults", Tripwire())
    view = incident.db("db", takes=5.0)
    assert view.ok
    assert [link["id"] for link in view.facts["blocking"]] == ["mig-3107"]


def test_the_flow_engine_refuses_a_data_tier_and_sweeps_use_the_request_engine() -> None:
    """The flow engine names the mechanism it lacks; a sweep picks the request engine itself."""
    scenario = sim.load_scenario(LOCK_QUEUE)
    with pytest.raises(ValueError, match="does not model the data tier of db"):
        sim.run(scenario, seed=1, engine="flow", horizon=60)
    df = sim.sweep(scenario, seeds=[1], horizon="2m", executor="serial")
    assert df.attrs["engine"] == "request"


@pytest.mark.slow
def test_the_experienced_responder_cancels_from_the_evidence() -> None:
    """Reading the blocking chain (not the fault list), the experienced responder cancels the
    queued migration in every one of eight seeds."""
    scenario = sim.load_scenario(LOCK_QUEUE)
    for seed in range(1, 9):
        journal = sim.run(scenario, seed=seed, responder="experienced")
        acts = [
            (s["call"], s["target"])
            for s in journal.data["response"]["steps"]
            if s["kind"] == "act"
        ]
        assert acts == [("cancel", "mig-3107")], (seed, acts)
        assert journal.data["response"]["resolved_at"] is not None


@pytest.mark.slow
def test_a_trainee_finds_the_chain_and_cancels_it_in_the_drill() -> None:
    """In the drill, `db` shows the migration waiting behind the export and `cancel` ends the
    queue; the finished drill's journal records the episode remedied by that step."""
    journal, shown = drill_transcript(
        LOCK_QUEUE, 1, ("db", "cancel nightly-report", "cancel mig-3107", "wait 5m", "quit")
    )
    assert "waits for AccessExclusiveLock on orders" in shown
    assert "no long-running statement named 'nightly-report'" in shown
    steps = {(s["call"], s["target"]): s for s in journal.data["response"]["steps"]}
    assert steps[("cancel", "mig-3107")]["remedied"] == [episode(journal)["id"]]


def test_the_command_line_refuses_the_flow_engine_in_one_line(tmp_path: Path) -> None:
    """`run --engine flow` and `sweep --engine flow` on a data tier: one line, exit 1, no run;
    `sweep` without --engine picks the request engine itself."""
    for command in (
        ["run", "migration-lock-queue", "--engine", "flow", "--out", str(tmp_path / "r")],
        ["sweep", "migration-lock-queue", "--engine", "flow", "--out", str(tmp_path / "s")],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "sim", *command], capture_output=True, text=True, check=False
        )
        assert done.returncode == 1
        assert done.stderr.count("\n") == 1
        assert "does not model the data tier of db" in done.stderr
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "r").exists()


def test_a_migration_retried_with_a_lock_timeout_applies_once_the_export_is_gone() -> None:
    """Cancelled while the export runs, the migration retried then gives up in 5 s (the
    action says so); retried after the export it applies, and the queue never forms again."""
    from sim.response.api import Incident
    from sim.simulation import Simulation

    simulation = Simulation(sim.load_scenario(LOCK_QUEUE), 1)
    incident = Incident(simulation, 5400.0)
    incident.wait(MIGRATION_AT + 120 - incident.now)
    assert incident.cancel("mig-3107").ok
    early = incident.retry("mig-3107")
    assert not early.ok
    assert "gave up at its lock timeout" in early.summary
    assert early.end - early.t < 90
    incident.wait(EXPORT_ENDS + 60 - incident.now)
    late = incident.retry("mig-3107")
    assert late.ok
    kinds = [e["kind"] for e in simulation.timeline if e["kind"].startswith("migration.")]
    assert kinds[-1] == "migration.committed"
    episodes = [f for f in simulation.faults.faults.values() if f.type == "lock_queue"]
    assert len(episodes) == 2  # the first queue, and the 5-second blip of the early retry


# -- a holder that blocks by itself (scenarios/autovacuum-locks-the-sessions.yaml) ---------------
AUTOVACUUM = SCENARIOS / "autovacuum-locks-the-sessions.yaml"
TRUNCATION_AT = 30 * 60.0


def test_the_view_counts_the_shops_queries_waiting_behind_a_holder_with_no_ddl() -> None:
    """No statement is queued (no blocking chain), yet every login waits behind the vacuum's
    ACCESS EXCLUSIVE lock: the view counts those backends per table and mode and names the pid
    they wait behind, as pg_locks with pg_blocking_pids would."""
    from sim.response.api import Incident
    from sim.simulation import Simulation

    simulation = Simulation(sim.load_scenario(AUTOVACUUM), 1)
    incident = Incident(simulation, 3600.0)
    incident.wait(TRUNCATION_AT + 300 - incident.now)
    view = incident.db("db")
    assert view.facts["blocking"] == []
    (vacuum,) = [a for a in view.facts["activity"] if a["id"] == "autovacuum-sessions"]
    waiting = {(w["table"], w["mode"]): w for w in view.facts["waiting"]}
    assert set(waiting) <= {("sessions", ACCESS_SHARE), ("sessions", ROW_EXCLUSIVE)}
    assert sum(w["queries"] for w in waiting.values()) > 0
    assert all(w["blocked_by"] == [vacuum["pid"]] for w in waiting.values())
    assert (
        f"behind pid {vacuum['pid']} (autovacuum-sessions: autovacuum, active for" in view.summary
    )
    assert "queries wait for" in view.summary
    # before the truncation nothing waits and nothing is said about it
    early = Incident(Simulation(sim.load_scenario(AUTOVACUUM), 1), 3600.0)
    early.wait(TRUNCATION_AT - 600 - early.now)  # the query itself takes minutes
    assert early.db("db").facts["waiting"] == []


def test_the_experienced_responder_names_and_cancels_the_vacuum_from_the_evidence() -> None:
    """With nothing in the change log, the experienced responder reads the waiting queries,
    declares the vacuum (a long-running query, by its id) the cause and cancels it; the lock
    queue ends with that cancel and no other action was taken."""
    journal = sim.run(sim.load_scenario(AUTOVACUUM), seed=1, responder="experienced")
    steps = journal.data["response"]["steps"]
    acts = [(s["call"], s["target"]) for s in steps if s["kind"] == "act"]
    assert acts == [("cancel", "autovacuum-sessions")]
    assert journal.data["response"]["diagnosis"]["cause"] == "autovacuum-sessions"
    (cancel,) = [s for s in steps if s["call"] == "cancel"]
    ep = episode(journal)
    assert cancel["remedied"] == [ep["id"]]
    assert cancel["t"] < ep["ended"] <= cancel["end"]
    assert ep["start"] == pytest.approx(TRUNCATION_AT, abs=60)


def test_a_trainee_reads_the_holders_id_in_the_view_and_names_it_in_the_drill() -> None:
    """The view shows the vacuum by its id; the drill's `diagnose` takes that id (and suggests
    it for a near miss), and `cancel` by the same id ends the queue."""
    journal, shown = drill_transcript(
        AUTOVACUUM,
        2,
        (
            "wait 35m",
            "db",
            "diagnose autovacuum",
            "diagnose autovacuum-sessions",
            "cancel autovacuum-sessions",
            "quit",
        ),
    )
    assert "behind pid 1001 (autovacuum-sessions: autovacuum, active for" in shown
    assert "did you mean 'autovacuum-sessions'?" in shown
    assert "cause declared: autovacuum-sessions" in shown
    assert journal.data["response"]["diagnosis"]["cause"] == "autovacuum-sessions"
    steps = {(s["call"], s["target"]): s for s in journal.data["response"]["steps"]}
    assert steps[("cancel", "autovacuum-sessions")]["remedied"] == [episode(journal)["id"]]


# -- what a statement is (sim/model/sql.py) ---------------------------------------------------
@pytest.mark.parametrize(
    ("sql", "table", "mode", "work"),
    [
        ("ALTER TABLE orders ADD COLUMN gift text;", "orders", ACCESS_EXCLUSIVE, "metadata"),
        (
            "ALTER TABLE orders ALTER COLUMN total TYPE bigint;",
            "orders",
            ACCESS_EXCLUSIVE,
            "rewrite",
        ),
        ("ALTER TABLE p ADD CONSTRAINT k UNIQUE (sku, region);", "p", ACCESS_EXCLUSIVE, "index"),
        ("ALTER TABLE p ADD PRIMARY KEY (id);", "p", ACCESS_EXCLUSIVE, "index"),
        (
            "ALTER TABLE p ADD CONSTRAINT k PRIMARY KEY USING INDEX p_i;",
            "p",
            ACCESS_EXCLUSIVE,
            "metadata",
        ),
        ("ALTER TABLE p ADD CONSTRAINT c CHECK (price > 0);", "p", ACCESS_EXCLUSIVE, "scan"),
        (
            "ALTER TABLE p ADD CONSTRAINT c CHECK (price > 0) NOT VALID;",
            "p",
            ACCESS_EXCLUSIVE,
            "metadata",
        ),
        (
            "ALTER TABLE o ADD CONSTRAINT f FOREIGN KEY (u) REFERENCES users (id);",
            "o",
            ACCESS_EXCLUSIVE,
            "scan",
        ),
        ("ALTER TABLE o VALIDATE CONSTRAINT f;", "o", SHARE_UPDATE_EXCLUSIVE, "scan"),
        ("ALTER TABLE o ALTER COLUMN u SET NOT NULL;", "o", ACCESS_EXCLUSIVE, "scan"),
        ("ALTER TABLE o ALTER COLUMN u DROP NOT NULL;", "o", ACCESS_EXCLUSIVE, "metadata"),
    ],
)
def test_a_constraint_is_work_unless_it_is_not_validated(
    sql: str, table: str, mode: str, work: str
) -> None:
    """PostgreSQL builds an index for UNIQUE and PRIMARY KEY and reads every row to validate
    CHECK, FOREIGN KEY and SET NOT NULL, under the ACCESS EXCLUSIVE lock; NOT VALID (or an
    index that exists) is a catalog change, and VALIDATE CONSTRAINT reads the rows later under
    a lock that blocks neither reads nor writes."""
    from sim.model.sql import classify

    st = classify(sql)
    assert (st.table, st.mode, st.work) == (table, mode, work)


def test_validating_a_constraint_takes_the_rows_at_the_read_rate() -> None:
    """A validation reads every row once, as an index build does: rows ÷ index_rate."""
    from sim.faults.mechanisms.locking import METADATA_SECONDS, work_seconds
    from sim.model.data import DatabaseState
    from sim.model.sql import classify

    scenario = sim.load_scenario(LOCK_QUEUE)
    db = DatabaseState("db", scenario.databases["db"], 1)
    rate = scenario.databases["db"].index_rate
    check = classify("ALTER TABLE orders ADD CONSTRAINT c CHECK (total_cents >= 0);")
    assert work_seconds(db, check) == pytest.approx(ORDERS_ROWS / rate)
    later = classify("ALTER TABLE orders ADD CONSTRAINT c CHECK (total_cents >= 0) NOT VALID;")
    assert work_seconds(db, later) == METADATA_SECONDS
