"""What log lines say: failure wording per component kind, SQL statements, background noise.

Kept apart from :mod:`sim.telemetry.logs` (the store and the loggers) so that the wording can
grow without the machinery growing with it. Nothing here is random except through the
``random.Random`` a noise template is handed; addresses derive from names (crc32, not
``hash()``), so they are the same in every process.
"""

from __future__ import annotations

import random
import re
import string
import zlib
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

from sim.scenario.schema import Call, Scenario

if TYPE_CHECKING:
    from sim.engine.common.calltree import Frame, Node

DEBUG, INFO, WARN, ERROR = "DEBUG", "INFO", "WARN", "ERROR"
Said = tuple[str, str]  # (level, message)

_PORTS = {"database": 5432, "cache": 6379, "queue": 5672, "load_balancer": 443}
_POST_WORDS = ("login", "checkout", "pay", "order", "signup", "register", "session")
_PLACEHOLDER = re.compile(r"\{[^}]*\}")


# Signature normalisation, applied in order (ids before numbers, addresses before numbers).
NORMALISE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "ID"),
    (re.compile(r"\breq-[0-9a-z]+\b", re.I), "req-ID"),
    (re.compile(r"\b0x[0-9a-f]+\b", re.I), "ID"),
    (re.compile(r"\b(?=[0-9a-f]{8,}\b)[0-9a-f]*\d[0-9a-f]*\b", re.I), "ID"),  # hex ids
    (re.compile(r"'(?:[^'\\]|\\.)*'"), "'?'"),  # SQL literals
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b"), "ADDR"),  # ip[:port]
    # counts, 12ms, auth-2, 1.5 → N; HTTP statuses stay (`HTTP/1.1" 500`, `HTTP 503`, `500 GET /`)
    (
        re.compile(r"(?<![A-Za-z_\d])(?<!\d\" )(?<!HTTP )(?![1-5]\d\d [A-Z]{3,7} /)\d+(?:\.\d+)*"),
        "N",
    ),
    (re.compile(r"\s+"), " "),
)
SIGNATURE_LENGTH = 160


# -- small formatting helpers ------------------------------------------------------------
def address(component: str, instance: int | None, kind: str) -> str:
    """A stable private address of an instance: ``10.0.<from the name>.<10 + instance>:port``."""
    subnet = zlib.crc32(component.encode()) % 200 + 10
    return f"10.0.{subnet}.{10 + (instance or 0)}:{_PORTS.get(kind, 8080)}"


def seconds(s: float) -> str:
    """A timeout in seconds, as services print one: ``0.2s``, ``2s``, ``7.35s``, ``120s``."""
    return f"{s:.0f}s" if s >= 100 else f"{s:.3g}s"


def http_method(path: str) -> str:
    """POST for paths that change something (login, checkout, pay …), GET otherwise."""
    low = path.lower()
    return "POST" if any(w in low for w in _POST_WORDS) else "GET"


def path_template(path: str) -> str:
    """``/product/{sku}`` → ``/product/{0}``: placeholders filled per request by ``str.format``."""
    return _PLACEHOLDER.sub("{0}", path.replace("{0}", "0"))


def status(timeout: bool, cls: str | None) -> int:
    """The HTTP status a failure is answered with (a rejection is an ``…Full``/``Open`` class)."""
    if timeout:
        return 504
    if cls in ("CircuitOpen", "QueueFull", "NoHealthyUpstream", "ShardUnavailable"):
        return 503
    return 502 if cls == "ConnectionRefused" else 500


def instance_of(msg: str | None) -> int | None:
    """The instance number in ``connect to db-0 refused``-style texts."""
    if not msg or not msg.startswith("connect to "):
        return None
    tail = msg[11:].split(" ", 1)[0].rpartition("-")[2]
    return int(tail) if tail.isdigit() else None


# -- database wording --------------------------------------------------------------------
@lru_cache(maxsize=1024)
def pg_error(msg: str) -> str:
    """The server's line: Postgres writes ``ERROR:  text``; a scenario's own text stays as is."""
    return msg if msg.startswith(("ERROR:", "FATAL:", "PANIC:")) else f"ERROR:  {msg}"


@lru_cache(maxsize=1024)
def pg_client_text(msg: str) -> str:
    """The text a driver's exception carries: no ``ERROR:`` prefix, no ``(SQLSTATE …)``."""
    text = msg.removeprefix("ERROR:").removeprefix("FATAL:")
    cut = text.find(" (SQLSTATE")
    return (text[:cut] if cut >= 0 else text).strip()


_SEQUENCE = re.compile(r'sequence "([a-z_][a-z0-9_]*?)_id_seq"')
# A MySQL/MariaDB error as its client reports it: ``ERROR 1062 (23000): Duplicate entry …``
# (sim.model.data.messages words a `dialect: mysql` database's errors so).
MYSQL_ERROR = re.compile(r"ERROR (\d+) \(([0-9A-Z]{5})\): (.*)", re.S)


@lru_cache(maxsize=1024)
def mysql_client_text(cls: str, msg: str) -> str:
    """The exception a Python MySQL driver (PyMySQL) raises for a MySQL database's error —
    ``pymysql.err.IntegrityError: (1062, "Duplicate entry '2147483647' for key 'events.PRIMARY'")``
    (a scenario's own text, not in the client's form, is carried as it is)."""
    m = MYSQL_ERROR.fullmatch(msg)
    if m is None:
        return f"pymysql.err.{cls}: {msg}"
    return f'pymysql.err.{cls}: ({m.group(1)}, "{m.group(3)}")'


@lru_cache(maxsize=1024)
def sql_statement(tables: tuple[str, ...], msg: str | None) -> str:
    """A plausible statement over ``tables``: the insert whose ID ``msg`` says ran out, or a
    select of the column ``msg`` says is missing."""
    ran_out = _SEQUENCE.search(msg or "")
    if ran_out:  # nextval failed: the insert that asked it for an ID
        into = ran_out.group(1)
        return f"INSERT INTO {into} (created_at, updated_at) VALUES (now(), now()) RETURNING id"
    table, column = _missing(msg or "")
    names = list(tables) or [table or "items"]
    main = table if table in names else names[0]
    others = [t for t in names if t != main]
    cols = ["id", column, "updated_at"] if column else ["id", "updated_at"]
    if not others:
        return f"SELECT {', '.join(cols)} FROM {main} WHERE id = $1"
    a = main[0]
    joins = "".join(
        f" JOIN {t} t{i} ON t{i}.{main.rstrip('s')}_id = {a}.id" for i, t in enumerate(others, 1)
    )
    select = ", ".join(f"{a}.{c}" for c in cols)
    return f"SELECT {select} FROM {main} {a}{joins} WHERE {a}.id = $1"


def _missing(msg: str) -> tuple[str | None, str | None]:
    """(table, column) named by ``column t.c does not exist`` or ``relation "t" does not exist``."""
    low = msg.lower()
    for word, is_column in (("column ", True), ("relation ", False)):
        at = low.find(word)
        if at >= 0:
            name = msg[at + len(word) :].split(" ", 1)[0].strip('"')
            table, _, last = name.rpartition(".")
            return (table or None, last or None) if is_column else (last or None, None)
    return None, None


# -- a failed call -----------------------------------------------------------------------
_CANCELED: tuple[Said, ...] = ((ERROR, "ERROR:  canceling statement due to user request"),)
_TOO_MANY: tuple[Said, ...] = ((ERROR, "FATAL:  sorry, too many clients already"),)
# MariaDB (log_warnings=2, its default) notes a client that went away mid-statement; it logs
# nothing of a connection it refused for want of a free one
_MYSQL_ABORTED: tuple[Said, ...] = (
    (WARN, "[Warning] Aborted connection to db: 'shop' user: 'app' (Got an error writing "
           "communication packets)"),
)  # fmt: skip


def callee_says(
    node: Node, timeout: bool, served: bool, cls: str, msg: str | None
) -> tuple[Said, ...]:
    """What the failing component itself writes (nothing when it cannot know it failed)."""
    kind = node.comp.spec.kind
    if kind == "third_party":
        return ()  # we do not see a provider's logs
    mysql = kind == "database" and node.comp.dialect == "mysql"
    if timeout:
        if kind == "database" and served:
            return _MYSQL_ABORTED if mysql else _CANCELED
        return ()
    if cls == "QueueFull":
        if kind == "database":
            return () if mysql else _TOO_MANY
        return ((WARN, f"rejecting request: queue full ({node.comp.queue_limit} waiting)"),)
    if cls in ("ConnectionRefused", "NoHealthyUpstream", "ShardUnavailable", "CircuitOpen"):
        return ()
    text = msg or "internal server error"
    if kind != "database":
        return ((ERROR, f"unhandled exception in request handler: {cls}: {text}"),)
    if mysql:
        # MySQL and MariaDB answer a failed statement to the client and log nothing of it
        # (their error log is the server's own life: start, crash, aborted connections)
        return ()
    stmt = node.query or (sql_statement(node.tables, msg) if node.tables else None)
    if stmt:
        return (ERROR, pg_error(text)), (ERROR, f"STATEMENT:  {stmt}")
    return ((ERROR, pg_error(text)),)


def caller_says(f: Frame, timeout: bool, cls: str, msg: str | None) -> Said | None:
    """What the caller writes about its call ``f`` that failed, naming the dependency.

    WARN when the call will be retried or is optional, ERROR otherwise.
    """
    node, parent = f.node, f.parent
    assert parent is not None
    lb = parent.node.comp.spec.kind == "load_balancer"
    callee, kind = node.comp.name, node.comp.spec.kind
    level = WARN if f.attempt < node.attempts or not node.required else ERROR
    attempt = f" (attempt {f.attempt + 1} of {node.attempts + 1})" if node.attempts else ""
    if timeout:
        after = seconds(f.deadline - f.t0)
        if cls == "PoolTimeout" and node.pool is not None:
            return level, (
                f"PoolTimeout: could not obtain a connection from pool {callee} "
                f"(size {node.pool.capacity}) within {after}"
            )
        if lb:
            return level, (
                "upstream timed out (110: Connection timed out) while reading response "
                f'header from upstream, upstream: "{callee}" after {after}'
            )
        return level, f"upstream timeout calling {callee} after {after}{attempt}"
    mysql = kind == "database" and node.comp.dialect == "mysql"
    if cls == "ConnectionRefused":
        return level, _refused(lb, callee, kind, instance_of(msg), mysql) + attempt
    if cls == "NoHealthyUpstream":
        if lb:
            return level, f'no live upstreams while connecting to upstream "{callee}"'
        return level, f"no healthy upstream for {callee}: every instance failing health checks"
    if cls == "ShardUnavailable":  # the message names the shard
        return level, f"{msg}: failing health checks; no other shard holds its data{attempt}"
    if cls == "CircuitOpen":
        return level, f'circuit breaker "{node.label}" is OPEN; not calling {callee} (failing fast)'
    if lb:
        return None  # a load balancer's access line says it all
    if cls == "QueueFull":
        if mysql:  # every connection the server allows is taken
            return level, f"pymysql.err.OperationalError: (1040, 'Too many connections'){attempt}"
        return level, f"{callee} answered HTTP 503 Service Unavailable: queue full{attempt}"
    text = msg or "internal server error"
    if kind == "database":
        if mysql:
            return level, mysql_client_text(cls, text) + attempt
        return level, f"psycopg.errors.{cls}: {pg_client_text(text)}{attempt}"
    if kind == "cache":
        return level, f"redis.exceptions.ResponseError: {cls}: {text}{attempt}"
    return level, f"call to {callee} failed: {cls}: {text}{attempt}"


def default_path(root: Node) -> str:
    """``/<first service>`` under the edge tiers, when no endpoint path was given."""
    node = root
    while node.comp.spec.kind in ("load_balancer", "web") and node.children:
        node = node.children[0]
    return "/" if node is root else f"/{node.comp.name}"


def _refused(lb: bool, callee: str, callee_kind: str, inst: int | None, mysql: bool) -> str:
    addr = address(callee, inst, callee_kind)
    host, _, port = addr.partition(":")
    if lb:
        return (
            "connect() failed (111: Connection refused) while connecting to upstream, "
            f'upstream: "http://{addr}/"'
        )
    if mysql:
        return (
            f"pymysql.err.OperationalError: (2003, \"Can't connect to MySQL server on "
            f"'{host}' ([Errno 111] Connection refused)\")"
        )
    if callee_kind == "database":
        return (
            f'psycopg.OperationalError: connection to server at "{host}", port {port} '
            "failed: Connection refused"
        )
    if callee_kind == "cache":
        return (
            f"redis.exceptions.ConnectionError: Error 111 connecting to {addr}. Connection refused."
        )
    return f"connect ECONNREFUSED {addr} ({callee})"


# -- background noise --------------------------------------------------------------------
# Each template is (relative weight, level, text). ``{table}`` and ``{dep}`` come from the
# component (the tables its calls touch, the components it calls); every other field is a
# number or word drawn by :data:`FIELDS`. Benign ERRORs are rare (< 5 % of a kind's lines).
NoiseTemplate = tuple[float, str, str]


def _ip(r: random.Random) -> str:
    return f"{r.randint(20, 220)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"


FIELDS: dict[str, Callable[[random.Random], object]] = {
    "buffers": lambda r: r.randint(40, 4000),
    "pct": lambda r: f"{r.uniform(0.1, 9.9):.1f}",
    "small": lambda r: r.randint(0, 6),
    "secs": lambda r: f"{r.uniform(1, 170):.3f}",
    "frac": lambda r: f"{r.random():.3f}",
    "pages": lambda r: r.randint(100, 90000),
    "tuples": lambda r: r.randint(10, 9000),
    "slow_ms": lambda r: f"{500 + r.expovariate(1 / 900):.3f}",
    "days": lambda r: r.randint(1, 30),
    "keys": lambda r: r.randint(10, 5000),
    "mb": lambda r: r.randint(4, 1024),
    "us": lambda r: r.randint(10_000, 90_000),
    "changes": lambda r: r.randint(100, 10000),
    "pid": lambda r: r.randint(100, 60000),
    "id": lambda r: r.randint(1000, 99999),
    "ip": _ip,
    "port": lambda r: r.randint(30000, 60000),
    "ms": lambda r: r.randint(3, 180),
    "slow": lambda r: r.randint(500, 3000),
    "attempt": lambda r: r.randint(2, 3),
    "flags": lambda r: r.randint(40, 90),
    "rev": lambda r: r.randint(1000, 9999),
    "idle": lambda r: r.randint(0, 10),
    "busy": lambda r: r.randint(0, 10),
    "worker": lambda r: r.randint(1, 16),
    "digit": lambda r: r.randint(1, 9),
    "probe": lambda r: r.choice(("wp-login.php", ".env", "phpmyadmin/", ".git/config")),
    "members": lambda r: r.randint(2, 12),
    "lag": lambda r: r.randint(100, 5000),
}

DATABASE: tuple[NoiseTemplate, ...] = (
    (10, INFO, "checkpoint starting: time"),
    (10, INFO, "checkpoint complete: wrote {buffers} buffers ({pct}%); 0 WAL file(s) added, "
               "0 removed, {small} recycled; write={secs} s, sync={frac} s, total={secs} s"),
    (8, INFO, 'automatic vacuum of table "shop.public.{table}": index scans: 1, pages: 0 '
              "removed, {pages} remain, tuples: {tuples} removed"),
    (5, INFO, 'automatic analyze of table "shop.public.{table}"'),
    (12, WARN, "duration: {slow_ms} ms  statement: SELECT id, created_at FROM {table} WHERE "
               "updated_at > now() - interval '{days} days' ORDER BY id LIMIT 500"),
    (6, INFO, "could not receive data from client: Connection reset by peer"),
    (5, INFO, "connection authorized: user=app database=shop application_name=pgbouncer"),
    (1, ERROR, "FATAL:  terminating connection due to idle-in-transaction timeout"),
)  # fmt: skip
# A MySQL/MariaDB server's own log: aborted connections (MariaDB logs them by default), the
# page cleaner falling behind, the slow query log. It writes nothing of a client's failed
# statement (:func:`callee_says`), and no benign line of it is an ERROR.
MYSQL_DATABASE: tuple[NoiseTemplate, ...] = (
    (14, WARN, "[Warning] Aborted connection {id} to db: 'shop' user: 'app' host: '{ip}' "
               "(Got timeout reading communication packets)"),
    (6, WARN, "[Warning] Aborted connection {id} to db: 'shop' user: 'app' host: '{ip}' "
              "(Got an error reading communication packets)"),
    (10, INFO, "[Note] InnoDB: page_cleaner: 1000ms intended loop took {slow}ms. The settings "
               "might not be optimal. (flushed={buffers} and evicted=0, during the time.)"),
    (12, WARN, "# Query_time: {secs}  Lock_time: 0.000{digit}  Rows_sent: 500  Rows_examined: "
               "{tuples}  SELECT id, created_at FROM {table} WHERE updated_at > NOW() - "
               "INTERVAL {days} DAY ORDER BY id LIMIT 500"),
    (3, INFO, "[Note] Detected table cache mutex contention at instance 1: {pct}% waits. "
              "Additional table cache instance activated. Number of instances after "
              "activation: 2."),
)  # fmt: skip
CACHE: tuple[NoiseTemplate, ...] = (
    (12, INFO, "{keys} keys evicted (maxmemory-policy allkeys-lru, used_memory {mb}M)"),
    (8, WARN, "slowlog: command took {us} microseconds: KEYS session:* ({keys} keys scanned)"),
    (6, INFO, "{changes} changes in 60 seconds. Saving..."),
    (6, INFO, "Background saving started by pid {pid}"),
    (6, INFO, "Background saving terminated with success"),
    (1, WARN, "Client id={id} addr={ip}:{port} closed for reaching output buffer limits"),
)
SERVICE: tuple[NoiseTemplate, ...] = (
    (8, WARN, "DeprecationWarning: datetime.datetime.utcnow() is deprecated and scheduled for "
              "removal in a future version. Use timezone-aware objects instead."),
    (4, WARN, "DeprecationWarning: pkg_resources is deprecated as an API"),
    (10, INFO, "GC pause {ms}ms (gen2, {mb}MB freed)"),
    (6, WARN, "retrying DNS lookup for {dep}.svc.cluster.local (attempt {attempt}): "
              "Temporary failure in name resolution"),
    (8, INFO, "feature flags refreshed ({flags} flags, revision {rev})"),
    (6, INFO, "connection pool stats: {idle} idle, {busy} in use, 0 waiting"),
    (4, WARN, "slow handler: GET /internal/metrics took {slow}ms"),
    (4, INFO, "worker {worker} recycled after 10000 requests"),
    (1, ERROR, "499 GET /product/{id} client closed connection before the response was sent"),
)  # fmt: skip
LOAD_BALANCER: tuple[NoiseTemplate, ...] = (
    (14, INFO, '"GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.29" rt=0.00{digit}'),
    (8, WARN, "SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share) "
              "while SSL handshaking, client: {ip}"),
    (6, INFO, '"GET /{probe} HTTP/1.1" 404 153 "-" "Mozilla/5.0 (compatible; scanner)" '
              "client={ip}"),
    (4, INFO, "client {ip} closed keepalive connection"),
    (1, ERROR, "SSL_read() failed (SSL: error:0A000126:SSL routines::unexpected eof while "
               "reading) while keepalive, client: {ip}"),
)  # fmt: skip
QUEUE: tuple[NoiseTemplate, ...] = (
    (10, INFO, "consumer group rebalance complete ({members} members)"),
    (6, WARN, "consumer lag {lag} messages on partition 3"),
    (4, INFO, "segment rolled after {secs} s"),
)
NOISE: dict[str, tuple[NoiseTemplate, ...]] = {
    "database": DATABASE,
    "cache": CACHE,
    "web": SERVICE,
    "service": SERVICE,
    "load_balancer": LOAD_BALANCER,
    "queue": QUEUE,
    "third_party": (),  # we do not see a provider's logs
    "link": (),  # a link logs nothing: its counters are in the net view
}


@lru_cache(maxsize=256)
def fields_of(template: str) -> tuple[str, ...]:
    """The named fields of a template, in order, each once."""
    names = (f for _, f, _, _ in string.Formatter().parse(template) if f)
    return tuple(dict.fromkeys(names))


def noise_text(
    template: str, r: random.Random, tables: tuple[str, ...], deps: tuple[str, ...]
) -> str:
    """Fill ``template``: ``{table}``/``{dep}`` from the component, the rest from ``FIELDS``."""
    values: dict[str, object] = {}
    for name in fields_of(template):
        if name == "table":
            values[name] = r.choice(tables) if tables else "products"
        elif name == "dep":
            values[name] = r.choice(deps) if deps else "metrics-collector"
        else:
            values[name] = FIELDS[name](r)
    return template.format_map(values)


def noise_sources(scenario: Scenario) -> list[tuple[str, int, tuple[str, ...], tuple[str, ...]]]:
    """(component, replicas, tables its calls touch, components it calls) of each noisy one."""
    tables: dict[str, set[str]] = {}
    calls = [ep.call for ep in scenario.endpoints.values()]
    while calls:
        call = calls.pop()
        tables.setdefault(call.component, set()).update(call.tables)
        calls.extend(c for c in call.calls if isinstance(c, Call))
    return [
        (
            name,
            comp.replicas,
            tuple(sorted(tables.get(name, ()))),
            tuple(sorted(d.callee for d in scenario.dependencies if d.caller == name)),
        )
        for name, comp in scenario.components.items()
        if NOISE.get(comp.kind)
    ]
