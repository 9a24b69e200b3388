"""Tables as data: an ID sequence runs out when the inserts bring it there, inserts fail while
reads go on, and the fix takes as long as the table makes it (scenarios/id-sequence-exhaustion.yaml)."""

from __future__ import annotations

from typing import Any

import pytest

import sim
from sim.expect.overrides import apply_overrides
from sim.journal import Journal
from sim.response.api import Incident
from sim.scenario import Scenario
from sim.scoring.phases import phases
from sim.simulation import Simulation
from tests.conftest import SCENARIOS, drill_transcript

SEQUENCE = SCENARIOS / "id-sequence-exhaustion.yaml"
INT32_MAX = 2**31 - 1
ROWS = 41_000_000
REWRITE_RATE = 60_000.0


def variant(overrides: dict[str, Any]) -> Scenario:
    doc = sim.load_scenario(SEQUENCE).model_dump(mode="json", by_alias=True)
    return Scenario.model_validate(apply_overrides(doc, overrides))


def failed_share(journal: Journal, endpoint: str, start: float, end: float) -> float:
    f = journal.metrics_frame()
    rows = f[(f.scope == "endpoint") & (f.name == endpoint) & (f.t >= start) & (f.t < end)]
    return float(1 - rows.ok.sum() / rows.requests.sum())


@pytest.fixture(scope="module")
def nobody() -> Journal:
    return sim.run(sim.load_scenario(SEQUENCE), seed=1, responder="none", horizon=4200)


def test_the_sequence_runs_out_when_the_insert_rate_brings_it_there() -> None:
    """Inserts counted over the first 40 minutes predict when the int32 range ends, within 5 %."""
    simulation = Simulation(sim.load_scenario(SEQUENCE), 3)
    orders = simulation.world.data["db"].tables["orders"]
    start_value, start_rows = orders.seq_value, orders.rows
    simulation.advance(2400)
    rate = (orders.rows - start_rows) / 2400
    assert rate > 0
    predicted = (INT32_MAX - start_value) / rate
    simulation.advance(3600)
    assert orders.exhausted_at is not None
    assert orders.exhausted_at == pytest.approx(predicted, rel=0.05)


def test_inserts_fail_with_postgres_error_while_reads_go_on(nobody: Journal) -> None:
    """After it runs out, checkouts fail with nextval's error; browsing and search still work."""
    (ep,) = nobody.summary["faults"]
    assert ep["type"] == "sequence_exhausted"
    assert set(ep["targets"]) == {"db", "orders"}
    after = ep["start"] + 120
    assert failed_share(nobody, "checkout", after, after + 900) == 1.0
    for endpoint in ("home", "search", "product"):
        assert failed_share(nobody, endpoint, after, after + 900) < 0.01
    errors = {(e["error_class"], e["message"]) for e in nobody.summary["first_errors"]}
    assert (
        "SequenceGeneratorLimitExceeded",
        'ERROR: nextval: reached maximum value of sequence "orders_id_seq" (2147483647) '
        "(SQLSTATE 2200H)",
    ) in errors


def test_on_mysql_the_client_reports_the_duplicate_entry_and_the_server_logs_nothing() -> None:
    """A `dialect: mysql` database (scenarios/events-table-ids-run-out.yaml, MariaDB) answers
    the insert with ERROR 1062 — a duplicate of the type's maximum — and, as MySQL and MariaDB
    do, writes nothing of a client's failed statement to its log: the callers' driver
    exceptions (PyMySQL's) are where it shows; the server's own lines are MariaDB's."""
    journal = sim.run(
        sim.load_scenario(SCENARIOS / "events-table-ids-run-out.yaml"),
        seed=1,
        responder="none",
        horizon=1800,
    )
    (ep,) = journal.summary["faults"]
    assert (ep["type"], set(ep["targets"])) == ("sequence_exhausted", {"db", "events"})
    duplicate = "Duplicate entry '2147483647' for key 'events.PRIMARY'"
    errors = {(e["error_class"], e["message"]) for e in journal.summary["first_errors"]}
    assert ("IntegrityError", f"ERROR 1062 (23000): {duplicate}") in errors
    signatures = journal.data["logs"]["signatures"]
    for caller in ("cart", "orders", "payments"):
        said = {s["example"] for s in signatures if s["component"] == caller}
        assert f'pymysql.err.IntegrityError: (1062, "{duplicate}")' in said
    assert not [s for s in signatures if s["component"] == "db" and s["level"] == "ERROR"]
    assert not any("psycopg" in s["example"] or "STATEMENT:" in s["example"] for s in signatures)
    # its own log is MariaDB's (aborted connections, the slow log), not PostgreSQL's
    db = [s["example"] for s in signatures if s["component"] == "db"]
    assert any(line.startswith("[Warning] Aborted connection") for line in db)
    assert not any("checkpoint" in line or "vacuum" in line for line in db)
    # and its catalog view names what hands out MySQL's IDs
    scenario = sim.load_scenario(SCENARIOS / "events-table-ids-run-out.yaml")
    incident = Incident(Simulation(scenario, 1), 1800)
    incident.wait(ep["start"] + 60)
    assert "AUTO_INCREMENT of events exhausted (int32 max 2147483647)" in incident.db("db").summary


def test_a_bigint_sequence_never_runs_out(nobody: Journal) -> None:
    """Counterfactual: the same traffic on an int64 sequence fails nothing."""
    journal = sim.run(
        variant({"databases.db.tables.orders.sequence.type": "int64"}),
        seed=1,
        responder="none",
        horizon=4200,
    )
    assert journal.summary["faults"] == []
    assert journal.summary["failed_checkouts"] == 0 < nobody.summary["failed_checkouts"]


def test_the_fix_rewrites_the_table_and_makes_it_worse_first() -> None:
    """The oracle's fix makes orders.id bigint: it takes rows ÷ the rewrite rate (within 10 %),
    holds the table's lock meanwhile — more requests fail during the fix than before it — and
    checkouts work after it."""
    journal = sim.run(sim.load_scenario(SEQUENCE), seed=1, responder="oracle")
    (fix,) = [s for s in journal.data["response"]["steps"] if s["call"] == "fix"]
    faults = {f["type"]: f for f in journal.summary["faults"]}
    seq, lock = faults["sequence_exhausted"], faults["lock_queue"]
    assert fix["remedied"] == [seq["id"]]
    assert lock["ended"] - lock["start"] == pytest.approx(ROWS / REWRITE_RATE, rel=0.10)
    assert seq["ended"] == pytest.approx(lock["ended"])
    f = journal.metrics_frame()
    endpoints = f[f.scope == "endpoint"]

    def failed_per_minute(t0: float, t1: float) -> float:
        rows = endpoints[(endpoints.t >= t0) & (endpoints.t < t1)]
        return float((rows.requests - rows.ok).sum() / ((t1 - t0) / 60))

    before = failed_per_minute(seq["start"] + 60, lock["start"])
    during = failed_per_minute(lock["start"] + 60, lock["ended"])
    assert during > 2 * before
    after = lock["ended"] + 300
    assert failed_share(journal, "checkout", after, after + 900) < 0.01


def test_a_table_too_big_to_rewrite_gets_its_sequence_restarted() -> None:
    """With two billion rows a rewrite would take ten hours: the fix restarts the sequence in
    the negative range instead, a catalog change of seconds, and inserts work again."""
    journal = sim.run(
        variant({"databases.db.tables.orders.rows": 2_100_000_000}), seed=1, responder="oracle"
    )
    (fix,) = [s for s in journal.data["response"]["steps"] if s["call"] == "fix"]
    (seq,) = [f for f in journal.summary["faults"] if f["type"] == "sequence_exhausted"]
    assert fix["remedied"] == [seq["id"]]
    assert seq["ended"] - fix["t"] < 180
    assert not [f for f in journal.summary["faults"] if f["type"] == "lock_queue"]


@pytest.mark.slow
def test_the_experienced_responder_fixes_it_from_the_evidence() -> None:
    """Reading the database's sequences (not the fault list), the experienced responder fixes
    the database in most seeds, and never rolls back the innocent orders deploy first."""
    scenario = sim.load_scenario(SEQUENCE)
    fixed = 0
    for seed in range(1, 7):
        journal = sim.run(scenario, seed=seed, responder="experienced")
        acts = [
            (s["call"], s["target"])
            for s in journal.data["response"]["steps"]
            if s["kind"] == "act"
        ]
        fixed += acts[:1] == [("fix", "db")]
    assert fixed >= 5


def test_read_only_refuses_writes_and_read_write_takes_them_again() -> None:
    """A read-only database fails every write with SQLSTATE 25006 while reads go on."""
    from sim.response.api import Incident

    simulation = Simulation(variant({"databases.db.tables.orders.sequence.type": "int64"}), 1)
    incident = Incident(simulation, 3600.0)
    incident.wait(600.0)
    ev = incident.read_only("db")
    assert ev.ok
    start = ev.t
    incident.wait(600.0)
    assert not incident.read_only("db").ok  # already read-only: refused at no cost
    refused = {
        endpoint: at
        for (endpoint, cls), (at, _) in simulation.engine.first_errors.items()
        if cls == "ReadOnlySqlTransaction"
    }
    assert {"checkout", "login"} <= set(refused)
    assert min(refused.values()) >= start
    assert not {"home", "search", "product"} & set(refused)
    assert incident.read_write("db").ok
    assert simulation.world.data["db"].read_only is None


def test_a_rewrite_resets_planner_statistics_until_analyze() -> None:
    """With statistics reset by the fix's rewrite, queries on the table cost ×k (an episode
    opens) until ANALYZE, which takes its analyze_time and closes it."""
    from sim.response.api import Incident

    scenario = variant({"databases.db.stats_reset_factor": 8})
    simulation = Simulation(scenario, 1)
    incident = Incident(simulation, 7200.0)
    incident.wait(2700.0 - incident.now)  # past the exhaustion
    incident.diagnose("db")
    assert incident.fix("db").ok
    orders = simulation.world.data["db"].tables["orders"]
    assert orders.cost_factor == 8
    (stale,) = [f for f in simulation.faults.faults.values() if f.type == "stale_statistics"]
    assert stale.id in simulation.faults.active
    ev = incident.analyze("db")
    assert (ev.ok and stale.id in ev.facts.get("remedied", [])) or stale.id in incident.steps[-1][
        "remedied"
    ]
    assert orders.cost_factor == 1.0
    assert stale.id not in simulation.faults.active


def test_a_trainee_can_name_the_table_whose_sequence_ran_out() -> None:
    """The `db` view and the logs name the table; `diagnose TABLE` takes it (a typo is
    refused with the tables among the names it knows) and the scorecard counts it as the
    right cause — the exhausted table is one of the fault's targets."""
    journal, shown = drill_transcript(
        SEQUENCE, 1, ("wait 40m", "db", "diagnose ordrs", "diagnose orders", "fix db", "quit")
    )
    assert "sequence of orders exhausted" in shown
    assert "no change, component, table, query or lead named 'ordrs'" in shown
    assert "did you mean 'orders'?" in shown
    assert "cause declared: orders" in shown
    assert "diagnosed orders at" in phases(journal)["diagnosis"].note
