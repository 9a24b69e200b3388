"""Logs: realistic lines per failure, noise in every run, bounded sampling, queries, signatures."""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import asdict, dataclass
from types import SimpleNamespace
from typing import Any

import pytest
import simpy

from sim.engine.common.streams import stream
from sim.engine.request.engine import RequestEngine
from sim.faults.schedule import FaultSchedule
from sim.model.world import World
from sim.response.actions import Actions
from sim.scenario import Scenario
from sim.scenario.schema import Logs, ThirdPartyOutageFault
from sim.telemetry.logs import EngineLogger, LogNoise, LogStore, noisy_warning, signature_of
from sim.telemetry.logtext import ERROR, callee_says, caller_says, sql_statement

MIGRATION_COLUMNS = ("password_hash", "total_cents")
FAULT_AT = 2400.0  # mig-2041 runs at 40m


@dataclass
class LoggedRun:
    env: simpy.Environment
    engine: RequestEngine
    store: LogStore


def logged_run(
    scenario: Scenario,
    seed: int,
    horizon: float,
    *,
    faults: bool = True,
    actions: bool = True,
    paths: bool = True,
) -> LoggedRun:
    """Run ``scenario`` with the logger and the noise attached, the way the runner wires them."""
    env = simpy.Environment()
    world = World(scenario)
    schedule = FaultSchedule(env, world, enabled=faults)
    if actions:
        responder = Actions(env, world, schedule)
        for a in scenario.actions:
            responder.schedule(a.at, a.action, a.target)
    engine = RequestEngine(env, world, seed)
    store = LogStore(
        stream(seed, "logs"), budget=scenario.logs.budget, represents=scenario.traffic.represents
    )
    if paths:
        roots = {id(engine.roots[name]): ep.path for name, ep in scenario.endpoints.items()}
        fallbacks = {
            f"{d.caller} → {d.callee}": d.fallback
            for d in scenario.dependencies
            if d.fallback is not None
        }
        engine.flow.observer = EngineLogger(env, store, paths=roots, fallbacks=fallbacks)
    else:
        engine.flow.observer = EngineLogger(env, store)
    LogNoise(env, store, scenario, stream(seed, "noise"))
    engine.run(horizon)
    engine.finish()
    return LoggedRun(env, engine, store)


@pytest.fixture(scope="module")
def incident(seed_scenario: Scenario) -> LogStore:
    return logged_run(seed_scenario, 7, 3600).store


@pytest.fixture(scope="module")
def baseline(seed_scenario: Scenario) -> LogStore:
    return logged_run(seed_scenario, 7, 3600, faults=False, paths=False).store


def mentions_migration(text: str) -> bool:
    return any(c in text for c in MIGRATION_COLUMNS)


# -- signatures ----------------------------------------------------------------------------
def test_signature_groups_lines_that_differ_only_in_numbers_and_ids() -> None:
    """Request ids, counts, durations, addresses, instance suffixes and literals do not split a signature."""
    same = [
        (
            "upstream timeout calling payment-provider after 8s (attempt 2 of 3)",
            "upstream timeout calling payment-provider after 7.35s (attempt 3 of 3)",
        ),
        ("connect ECONNREFUSED 10.0.3.12:5432 (db)", "connect ECONNREFUSED 10.0.77.11:5432 (db)"),
        ("worker auth-2 took 12ms for req-0000abcd", "worker auth-0 took 950ms for req-00f00d12"),
        (
            "duration: 1234.5 ms  statement: SELECT * FROM users WHERE email = 'ann@example.com'",
            "duration: 77.0 ms  statement: SELECT * FROM users WHERE email = 'bob@example.org'",
        ),
        ("trace 123e4567-e89b-12d3-a456-426614174000 at 0x7f3a", "trace deadbeef-0000-4000-8000-0123456789ab at 0x1"),
    ]  # fmt: skip
    for a, b in same:
        assert signature_of(a) == signature_of(b), (a, b)


def test_signature_separates_different_errors() -> None:
    """Different columns, statuses or dependencies give different signatures."""
    different = [
        "ERROR: column users.password_hash does not exist (SQLSTATE 42703)",
        "ERROR: column orders.total_cents does not exist (SQLSTATE 42703)",
        '"POST /login HTTP/1.1" 500 upstream=web',
        '"POST /login HTTP/1.1" 504 upstream=web',
        "upstream timeout calling payment-provider after 8s",
        "upstream timeout calling email-provider after 8s",
    ]
    assert len({signature_of(m) for m in different}) == len(different)


def test_signature_is_short_and_stable() -> None:
    """A signature is cut to a bounded length, and the same message always gives the same one."""
    long = "x" * 1000 + " 42"
    assert len(signature_of(long)) <= 160
    assert signature_of("GC pause 12ms") == signature_of("GC pause 12ms") == "GC pause Nms"


# -- the store -------------------------------------------------------------------------------
def test_reservoir_is_bounded_and_counts_are_exact() -> None:
    """200k lines with a budget of 1000 keep at most budget + examples × signatures, counting every line."""
    store = LogStore(random.Random(1), budget=1000, represents=3, examples=3)
    kinds = [f"event {a}{b} happened" for a in "ghijklmnop" for b in "wxyz"]
    expected: Counter[str] = Counter()
    for i in range(200_000):
        kind = kinds[(i * 7) % len(kinds)]
        store.add(i * 0.01, "web", "INFO", f"{kind} after {i % 97}ms", f"req-{i:08x}", i % 4)
        expected[kind] += 3
    sigs = store.signatures()
    assert len(sigs) == len(kinds)
    assert len(store.kept()) <= 1000 + 3 * len(sigs)
    assert store.total == 600_000
    assert {s.signature.split(" after")[0]: s.count for s in sigs} == dict(expected)


def test_reservoir_sample_is_uniform_over_the_run() -> None:
    """The kept sample covers the whole run evenly, not just its start or its end."""
    store = LogStore(random.Random(2), budget=2000, examples=0)
    n = 100_000
    for i in range(n):
        store.add(float(i), "db", "INFO", "checkpoint starting: time")
    times = [line.t for line in store.kept()]
    assert len(times) == 2000
    assert abs(sum(times) / len(times) - n / 2) < 0.05 * n
    quarters = Counter(int(t * 4 // n) for t in times)
    assert all(400 < quarters[q] < 600 for q in range(4))


def test_first_lines_of_every_signature_are_kept() -> None:
    """A rare signature keeps its first examples even when the reservoir is long full."""
    store = LogStore(random.Random(3), budget=100, examples=2)
    for i in range(20_000):
        store.add(float(i), "cache", "INFO", f"{i} keys evicted")
    store.add(20_000.0, "db", "ERROR", "FATAL:  sorry, too many clients already", "req-00000001")
    rare = store.query(component="db")
    assert [line.message for line in rare] == ["FATAL:  sorry, too many clients already"]


def small_store() -> LogStore:
    store = LogStore(random.Random(0), budget=100, represents=2)
    store.add(
        5.0, "db", "ERROR", "ERROR: column users.password_hash does not exist", "req-00000002", 0
    )
    store.add(1.0, "web", "INFO", "GC pause 12ms (gen2, 40MB freed)", None, 1)
    store.add(3.0, "web", "WARN", "DeprecationWarning: pkg_resources is deprecated", None, 0)
    store.add(
        7.0,
        "auth",
        "ERROR",
        "psycopg.errors.UndefinedColumn: column users.password_hash does not exist",
        "req-00000002",
        2,
    )
    store.add(
        9.0,
        "web",
        "ERROR",
        "500 POST /login upstream auth failed: UndefinedColumn",
        "req-00000002",
        3,
    )
    store.add(11.0, "web", "INFO", "GC pause 30ms (gen2, 12MB freed)", None, 2)
    return store  # fmt: skip


def test_query_filters_by_component_level_text_and_time_in_time_order() -> None:
    """Each filter narrows the kept lines, and results come in time order whatever the add order."""
    store = small_store()
    assert [line.t for line in store.query()] == [1.0, 3.0, 5.0, 7.0, 9.0, 11.0]
    assert [line.t for line in store.query(component="web")] == [1.0, 3.0, 9.0, 11.0]
    assert [line.t for line in store.query(level="ERROR")] == [5.0, 7.0, 9.0]
    assert [line.t for line in store.query(level=("WARN", "ERROR"), component="web")] == [3.0, 9.0]
    assert [line.t for line in store.query(text="PASSWORD_HASH")] == [5.0, 7.0]
    assert [line.t for line in store.query(text="req-00000002")] == [5.0, 7.0, 9.0]
    assert [line.t for line in store.query(start=3.0, end=9.0)] == [3.0, 5.0, 7.0]
    assert [line.t for line in store.query(component="web", limit=2)] == [1.0, 3.0]


def test_top_signatures_since_returns_only_new_signatures() -> None:
    """``since`` keeps the signatures first seen at or after it, most frequent first."""
    store = small_store()
    for t in (12.0, 13.0):
        store.add(t, "db", "ERROR", "ERROR: column users.password_hash does not exist")
    top = store.top_signatures(level="ERROR")
    assert [(s.component, s.count) for s in top] == [("db", 6), ("auth", 2), ("web", 2)]
    new = store.top_signatures(since=6.0)
    assert {s.component for s in new} == {"auth", "web"}
    assert all(s.first_seen >= 6.0 for s in new)
    gc = store.top_signatures(component="web", level="INFO")[0]
    assert (gc.signature, gc.count, gc.first_seen, gc.last_seen) == (
        "GC pause Nms (gen2, NMB freed)",
        4,
        1.0,
        11.0,
    )
    assert gc.example == "GC pause 12ms (gen2, 40MB freed)"  # fmt: skip


def test_journal_round_trip() -> None:
    """``from_journal(to_journal())`` answers the same queries and writes the same journal."""
    store = LogStore(random.Random(4), budget=150, represents=5)
    for i in range(3000):
        store.add(
            i / 3,
            ("web", "db", "auth")[i % 3],
            ("INFO", "ERROR")[i % 2],
            f"thing {i % 11} in {i}ms",
        )
    data = json.loads(json.dumps(store.to_journal()))
    loaded = LogStore.from_journal(data)
    assert loaded.to_journal() == data
    assert loaded.total == store.total == 15000
    errors = [row for row in data["signatures"] if row["level"] == "ERROR"][:5]
    assert [asdict(sig) for sig in loaded.top_signatures(5, level="ERROR")] == errors
    assert [(x.t, x.message) for x in loaded.query(component="db", start=100, end=400)] == [
        (round(x.t, 6), x.message) for x in store.query(component="db", start=100, end=400)
    ]


def test_same_seed_same_kept_lines() -> None:
    """Two stores with the same seed keep the same lines; another seed keeps others."""

    def fill(seed: int) -> dict[str, object]:
        store = LogStore(random.Random(seed), budget=50)
        for i in range(5000):
            store.add(float(i), "web", "INFO", f"request {i} served")
        return store.to_journal()

    assert fill(9) == fill(9)
    assert fill(9)["lines"] != fill(10)["lines"]


# -- noise ---------------------------------------------------------------------------------
def test_noisy_warning_emits_only_in_its_window_at_its_rate() -> None:
    """A red-herring burst writes its message at about its rate, only between its start and end."""
    env = simpy.Environment()
    store = LogStore(random.Random(0), budget=5000, represents=12)
    noisy_warning(
        env,
        store,
        "auth",
        "WARN",
        "rate limiter: bucket refill lagging by 12ms",
        600,
        1200,
        30,
        random.Random(5),
    )
    env.run(until=7200)
    lines = store.query(component="auth")
    assert 500 < len(lines) < 700  # 20 min × 30/min = 600
    assert all(600 <= line.t < 1800 and line.level == "WARN" for line in lines)
    assert store.total == len(lines)  # a burst is counted line for line, not scaled  # fmt: skip


def test_noise_follows_the_scenario_switch_and_rate(seed_scenario: Scenario) -> None:
    """Noise comes from every component whose logs we see, at noise_rate, and not at all when off."""
    env = simpy.Environment()
    store = LogStore(random.Random(0), budget=10000)
    LogNoise(env, store, seed_scenario, random.Random(1))
    env.run(until=3600)
    seen = {line.component for line in store.query()}
    visible = {n for n, c in seed_scenario.components.items() if c.kind != "third_party"}
    assert seen == visible
    assert 0.8 * 60 * len(visible) < store.total < 1.2 * 60 * len(visible)
    assert store.count(level="ERROR") < 0.05 * store.total
    quiet = seed_scenario.model_copy(update={"logs": Logs(noise=False)})
    env, store = simpy.Environment(), LogStore(random.Random(0))
    LogNoise(env, store, quiet, random.Random(1))
    env.run(until=3600)
    assert store.total == 0


# -- the seed incident ---------------------------------------------------------------------
def test_migration_is_the_top_new_error_signature(incident: LogStore) -> None:
    """After the migration the most frequent new ERROR signature names the dropped column."""
    top = incident.top_signatures(3, level="ERROR", since=FAULT_AT)
    assert top
    assert mentions_migration(top[0].signature)
    assert top[0].first_seen >= FAULT_AT


def test_database_logs_the_error_and_the_failing_statement(incident: LogStore) -> None:
    """The database writes Postgres's error line and the statement; the caller writes the driver's exception."""
    db = incident.query(component="db", level="ERROR", text="password_hash")
    assert any(line.message.startswith("ERROR: column users.password_hash") for line in db)
    statements = [line.message for line in db if line.message.startswith("STATEMENT:")]
    assert statements
    assert all("FROM users" in s for s in statements)
    auth = incident.query(component="auth", text="psycopg.errors.UndefinedColumn")
    assert auth
    assert all(line.request_id and line.request_id.startswith("req-") for line in auth)
    same_request = incident.query(text=auth[0].request_id)
    assert {"db", "auth", "web", "lb"} <= {line.component for line in same_request}


def test_the_statement_beside_an_exhausted_sequence_is_the_insert_that_asked_for_an_id() -> None:
    """nextval failed for an INSERT, so the database logs that INSERT, into the sequence's
    table; a missing column is logged with the SELECT that named it."""
    ran_out = (
        'ERROR: nextval: reached maximum value of sequence "update_log_id_seq" (2147483647) '
        "(SQLSTATE 2200H)"
    )
    insert = sql_statement(("users", "sessions", "update_log"), ran_out)
    assert insert.startswith("INSERT INTO update_log ")
    assert "RETURNING id" in insert
    missing = sql_statement(("users",), "column users.password_hash does not exist")
    assert missing.startswith("SELECT id, password_hash")
    assert "FROM users" in missing


def _db_call(dialect: str) -> tuple[Any, Any]:
    """A failed call from the cart service into a database of ``dialect``: (node, frame)."""
    db = SimpleNamespace(
        name="db", spec=SimpleNamespace(kind="database"), dialect=dialect, queue_limit=64
    )
    cart = SimpleNamespace(name="cart", spec=SimpleNamespace(kind="service"))
    node = SimpleNamespace(
        comp=db, attempts=0, required=True, pool=None, query=None, tables=("carts",), label="db"
    )
    parent = SimpleNamespace(node=SimpleNamespace(comp=cart))
    return node, SimpleNamespace(node=node, parent=parent, attempt=0, deadline=2.0, t0=0.0)


@pytest.mark.parametrize(
    ("dialect", "refused", "full", "server_full", "server_cut"),
    [
        (
            "postgresql",
            'psycopg.OperationalError: connection to server at "10.0.',
            "db answered HTTP 503 Service Unavailable: queue full",
            "FATAL:  sorry, too many clients already",
            "ERROR:  canceling statement due to user request",
        ),
        (
            "mysql",
            "pymysql.err.OperationalError: (2003, \"Can't connect to MySQL server on '10.0.",
            "pymysql.err.OperationalError: (1040, 'Too many connections')",
            None,
            "[Warning] Aborted connection to db: 'shop' user: 'app'",
        ),
    ],
)
def test_a_database_words_refusals_full_tables_and_cut_statements_in_its_dialect(
    dialect: str, refused: str, full: str, server_full: str | None, server_cut: str
) -> None:
    """Each dialect's own words: PostgreSQL and psycopg, or MariaDB and PyMySQL — whose server
    logs nothing of a connection it refused for want of a free one."""
    node, frame = _db_call(dialect)
    said = caller_says(frame, False, "ConnectionRefused", "connect to db-0 refused")
    assert said is not None
    assert said[1].startswith(refused)
    full_said = caller_says(frame, False, "QueueFull", None)
    assert full_said == (ERROR, full)
    server = callee_says(node, False, False, "QueueFull", None)
    assert [text for _, text in server] == ([server_full] if server_full else [])
    ((_, cut),) = callee_says(node, True, True, "Timeout", None)
    assert cut.startswith(server_cut)


def test_load_balancer_writes_access_lines_with_the_endpoint(incident: LogStore) -> None:
    """The edge logs the failed request as an access line with the endpoint's method and path."""
    lb = incident.query(component="lb", level="ERROR", text="/login")
    assert lb
    assert lb[0].message.startswith('"POST /login HTTP/1.1" 500')


def test_no_run_without_the_migration_mentions_it(baseline: LogStore) -> None:
    """Without faults no signature and no kept line mentions the migration's columns."""
    assert not any(mentions_migration(s.signature) for s in baseline.signatures())
    assert not baseline.query(text="password_hash")
    assert not baseline.query(text="total_cents")


def test_noise_is_present_in_every_run(incident: LogStore, baseline: LogStore) -> None:
    """Both runs carry background noise (lines with no request id) from several components."""
    for store in (incident, baseline):
        noise = [line for line in store.query() if line.request_id is None]
        assert len({line.component for line in noise}) >= 5
        assert any(line.level == "WARN" for line in noise)


def test_third_parties_are_silent(incident: LogStore) -> None:
    """We never see a provider's own logs."""
    assert not incident.query(component="payment-provider")
    assert not incident.query(component="email-provider")


def test_timeouts_name_the_dependency_and_fallbacks_are_logged(seed_scenario: Scenario) -> None:
    """A hanging provider: the caller logs the timeout naming it, then its fallback."""
    hang = ThirdPartyOutageFault(
        id="email-hang", type="third_party_outage", target="email-provider", mode="hangs", start=60
    )
    scenario = seed_scenario.model_copy(update={"faults": (hang,), "actions": ()})
    store = logged_run(scenario, 3, 1800).store
    timeouts = store.query(component="web", text="upstream timeout calling email-provider after 2s")
    assert timeouts
    assert all(line.level == "WARN" for line in timeouts)  # an optional call: a warning
    fallbacks = store.query(component="web", text="fallback: queue the receipt e-mail for later")
    assert fallbacks
    assert fallbacks[0].message.startswith("optional dependency email-provider failed (Timeout)")


@pytest.mark.slow
def test_log_memory_stays_bounded_over_six_hours(seed_scenario: Scenario) -> None:
    """A 6 h baseline with chatty noise keeps at most budget + examples × signatures lines, flat over time."""
    chatty = seed_scenario.model_copy(update={"logs": Logs(budget=200, noise_rate=10)})
    run = logged_run(chatty, 7, 3 * 3600, faults=False, actions=False)
    store = run.store
    bound_then = store.budget + store.examples * len(store.signatures())
    assert len(store.kept()) <= bound_then
    sigs_then = len(store.signatures())
    run.engine.run(6 * 3600)  # the engines advance with run_until, not env.run
    sigs = len(store.signatures())
    assert store.total > 30_000
    assert len(store.kept()) <= store.budget + store.examples * sigs
    assert sigs - sigs_then <= 5  # the signatures, and so the bound, stay flat
    assert sigs < 200
