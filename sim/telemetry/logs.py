"""Structured logs: what each component writes, sampled into a bounded store you can query.

:class:`EngineLogger` listens to the request flow and writes what real services would log
when a call fails (the database's error and statement, the caller's driver exception, the
timeout naming its dependency, the load balancer's access line). :class:`LogNoise` adds the
background chatter every shop has. :class:`LogStore` counts every line under its signature
and keeps a bounded sample, so memory stays flat however long the run.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Generator, Mapping
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from itertools import accumulate
from typing import TYPE_CHECKING, Any

import simpy

from sim.scenario.schema import Scenario
from sim.telemetry import logtext as lt
from sim.telemetry.metrics import TIMEOUT

if TYPE_CHECKING:
    from sim.engine.common.calltree import Frame


@dataclass(frozen=True, slots=True)
class LogLine:
    """One log line as a responder sees it."""

    t: float
    component: str
    instance: int | None
    level: str  # "DEBUG" | "INFO" | "WARN" | "ERROR"
    message: str
    request_id: str | None
    signature: str


@dataclass(frozen=True, slots=True)
class Signature:
    """Lines that differ only in numbers, ids and literals, counted together."""

    signature: str
    component: str
    level: str
    count: int
    first_seen: float
    last_seen: float
    example: str


@lru_cache(maxsize=16384)
def signature_of(message: str) -> str:
    """``message`` with numbers → N, ids → ID, quoted literals → '?', addresses → ADDR.

    Lines that differ only in request ids, counts, durations, instance suffixes (``auth-2``)
    or SQL literals share a signature; cut to :data:`~sim.telemetry.logtext.SIGNATURE_LENGTH`.
    """
    for pattern, repl in lt.NORMALISE:
        message = pattern.sub(repl, message)
    return message.strip()[: lt.SIGNATURE_LENGTH]


class _Stat:
    __slots__ = ("count", "example", "first", "kept", "last")

    def __init__(self, t: float, example: str, count: int = 0, kept: int = 0) -> None:
        self.count, self.kept, self.example = count, kept, example
        self.first = self.last = t


# (seq, t, component, instance, level, message, request_id, signature)
_Row = tuple[int, float, str, int | None, str, str, str | None, str]


class LogStore:
    """Every line counted under its (component, level, signature); a bounded sample kept.

    Kept lines are the first ``examples`` lines of each signature plus a uniform reservoir
    sample (Algorithm R over the lines added) of at most ``budget`` lines: memory is bounded
    by ``budget + examples × signatures`` however long the run. Counts are exact and scaled
    by ``represents`` (each simulated line stands for that many real ones).
    """

    def __init__(
        self, rng: random.Random, budget: int = 5000, represents: int = 1, examples: int = 3
    ) -> None:
        self.budget, self.represents, self.examples = budget, represents, examples
        self._random = rng.random
        self._stats: dict[tuple[str, str, str], _Stat] = {}
        self._levels: dict[str, int] = {}  # lines seen per level (scaled)
        # Kept lines as flat tuples of atoms (seq, *LogLine fields): the garbage collector
        # stops tracking such tuples, so a full store costs a long run no collection time.
        self._reservoir: list[_Row] = []
        self._examples: list[_Row] = []
        self._seen = self._total = 0

    def add(
        self,
        t: float,
        component: str,
        level: str,
        message: str,
        request_id: str | None = None,
        instance: int | None = None,
        *,
        weight: int | None = None,
    ) -> None:
        """Count one line (as ``weight`` real lines; default ``represents``) and maybe keep it."""
        sig = signature_of(message)
        w = self.represents if weight is None else weight
        key = (component, level, sig)
        st = self._stats.get(key)
        if st is None:
            st = self._stats[key] = _Stat(t, message)
        st.count += w
        self._levels[level] = self._levels.get(level, 0) + w
        if t > st.last:
            st.last = t
        elif t < st.first:
            st.first = t
        self._total += w
        seq = self._seen
        self._seen = n = seq + 1
        keep = st.kept < self.examples
        full = n > self.budget
        slot = int(self._random() * n) if full else -1  # Algorithm R: keep with p = budget/n
        if keep or slot < self.budget:
            line = (seq, t, component, instance, level, message, request_id, sig)
            if keep:
                st.kept += 1
                self._examples.append(line)
            if not full:
                self._reservoir.append(line)
            elif slot < self.budget:
                self._reservoir[slot] = line

    @property
    def total(self) -> int:
        """Lines seen, scaled."""
        return self._total

    def count(self, level: str | None = None, component: str | None = None) -> int:
        """Lines seen (scaled) at ``level`` and/or on ``component`` (a sum over signatures)."""
        if component is None and level is not None:
            return self._levels.get(level, 0)  # the alert rules ask this every window
        return sum(
            s.count
            for (c, lv, _), s in self._stats.items()
            if component in (None, c) and level in (None, lv)
        )

    def kept(self) -> list[LogLine]:
        """Every kept line (sample ∪ examples), in time order."""
        merged = {row[0]: row for row in self._reservoir}
        merged.update((row[0], row) for row in self._examples)
        rows = sorted(merged.values(), key=lambda row: (row[1], row[0]))
        return [LogLine(*row[1:]) for row in rows]

    def query(
        self,
        component: str | None = None,
        level: str | Collection[str] | None = None,
        text: str | None = None,
        start: float | None = None,
        end: float | None = None,
        limit: int | None = None,
    ) -> list[LogLine]:
        """Kept lines matching every filter given, in time order (the first ``limit`` of them).

        ``level`` is one level or a collection of levels; ``text`` is a case-insensitive
        substring of the message or the request id; ``start`` ≤ t < ``end``.
        """
        levels = {level} if isinstance(level, str) else level
        needle = text.lower() if text else ""
        out = [
            line
            for line in self.kept()
            if (component is None or line.component == component)
            and (levels is None or line.level in levels)
            and (start is None or line.t >= start)
            and (end is None or line.t < end)
            and (needle in line.message.lower() or needle in (line.request_id or "").lower())
        ]
        return out if limit is None else out[:limit]

    def signatures(self) -> list[Signature]:
        """Every signature, most frequent first (ties: first seen first)."""
        sigs = [
            Signature(sig, comp, level, s.count, s.first, s.last, s.example)
            for (comp, level, sig), s in self._stats.items()
        ]
        sigs.sort(key=lambda s: (-s.count, s.first_seen, s.component, s.level, s.signature))
        return sigs

    def new_errors(self, since: float) -> list[tuple[str, str, int, str]]:
        """(component, signature, count, example) of every ERROR signature first seen at or
        after ``since``: what an error tracker lists as new issues."""
        return [
            (comp, sig, s.count, s.example)
            for (comp, level, sig), s in self._stats.items()
            if level == "ERROR" and s.first >= since
        ]

    def top_signatures(
        self,
        n: int = 10,
        level: str | None = None,
        since: float | None = None,
        component: str | None = None,
    ) -> list[Signature]:
        """The ``n`` most frequent signatures; with ``since``, only those first seen at or after it."""
        return [
            s
            for s in self.signatures()
            if level in (None, s.level)
            and component in (None, s.component)
            and (since is None or s.first_seen >= since)
        ][:n]

    # -- journal ---------------------------------------------------------------------------
    def to_journal(self, lines: bool = True) -> dict[str, Any]:
        """Kept lines (unless ``lines=False``) and every signature, JSON-ready, in order."""
        kept = [{**asdict(line), "t": round(line.t, 6)} for line in self.kept()] if lines else []
        signatures = [
            {**asdict(s), "first_seen": round(s.first_seen, 6), "last_seen": round(s.last_seen, 6)}
            for s in self.signatures()
        ]
        return {
            "budget": self.budget,
            "represents": self.represents,
            "examples": self.examples,
            "total": self._total,
            "seen": self._seen,
            "lines": kept,
            "signatures": signatures,
        }

    @classmethod
    def from_journal(cls, data: Mapping[str, Any]) -> LogStore:
        """A store over a saved journal's logs (for querying; counts as they were saved)."""
        store = cls(random.Random(0), int(data["budget"]), int(data.get("represents", 1)))
        store.examples = int(data.get("examples", 3))
        for row in data["signatures"]:
            st = _Stat(float(row["first_seen"]), row["example"], int(row["count"]), store.examples)
            st.last = float(row["last_seen"])
            store._stats[row["component"], row["level"], row["signature"]] = st
            store._levels[row["level"]] = store._levels.get(row["level"], 0) + st.count
        store._reservoir = [
            (i, *(row[f.name] for f in fields(LogLine))) for i, row in enumerate(data["lines"])
        ]
        store._total = int(data["total"])
        store._seen = int(data.get("seen", len(store._reservoir)))
        return store


class EngineLogger:
    """Writes what the shop's services would log when a call fails (a ``FlowObserver``).

    ``paths`` maps ``id(root node)`` → endpoint path (for access lines); ``fallbacks`` maps a
    dependency label (``"web → email-provider"``) → what the caller does without it.
    """

    def __init__(
        self,
        env: simpy.Environment,
        store: LogStore,
        paths: Mapping[int, str] | None = None,
        fallbacks: Mapping[str, str] | None = None,
    ) -> None:
        self.env = env
        self.store = store
        self._weight: int | None = None  # of the request being logged (probes count once)
        self.fallbacks = dict(fallbacks or {})
        # id(root node) → (method, path template with {0} placeholders, has placeholders)
        self._paths: dict[int, tuple[str, str, bool]] = {}
        for key, path in (paths or {}).items():
            tpl = lt.path_template(path)
            self._paths[key] = (lt.http_method(path), tpl, tpl != path)
        self._handled: Frame | None = None  # a frame whose component just logged its error

    def add(
        self,
        t: float,
        component: str,
        level: str,
        message: str,
        request_id: str | None,
        instance: int | None,
    ) -> None:
        self.store.add(t, component, level, message, request_id, instance, weight=self._weight)

    def _request(self, f: Frame) -> str:
        """``METHOD /path`` of the request ``f`` belongs to."""
        root = f
        while root.parent is not None:
            root = root.parent
        entry = self._paths.get(id(root.node))
        if entry is None:
            path = lt.default_path(root.node)
            entry = self._paths[id(root.node)] = (lt.http_method(path), path, False)
        method, tpl, fill = entry
        return f"{method} {tpl.format(1000 + f.req.rid % 487) if fill else tpl}"

    def failed(
        self,
        f: Frame,
        outcome: int,
        cls: str | None,
        msg: str | None,
        origin: bool,
        *,
        at: float | None = None,
        handled: bool = False,
    ) -> None:
        """Log frame ``f``'s failure where the services involved would log it.

        The flow engine logs a window's failures at once: ``at`` stamps the lines, and
        ``handled`` says the child's failure that failed ``f`` was already logged by its caller.
        """
        handled_frame, self._handled = self._handled, None
        if handled:
            handled_frame = f
        self._weight = f.req.log_weight
        now = self.env._now if at is None else at
        rid = f"req-{f.req.rid:08x}"
        node, parent = f.node, f.parent
        name = node.comp.name
        inst = f.inst.i if f.inst is not None else None
        cls = cls or "Error"
        timeout = outcome == TIMEOUT
        if origin:
            for level, text in lt.callee_says(node, timeout, f.svc_end > 0, cls, msg):
                self.add(now, name, level, text, rid, inst)
            if parent is not None:
                said = lt.caller_says(f, timeout, cls, msg)
                if said is not None:
                    p_inst = parent.inst.i if parent.inst is not None else None
                    self.add(now, parent.node.comp.name, said[0], said[1], rid, p_inst)
                self._handled = parent
            elif timeout:  # the shopper's browser gave up
                self.add(now, name, lt.WARN, f'"{self._request(f)} HTTP/1.1" 499', rid, inst)
            return
        kids = node.children
        child = kids[f.child].comp.name if f.child < len(kids) else "upstream"
        status = lt.status(timeout, cls)
        if parent is None:
            text = f'"{self._request(f)} HTTP/1.1" {status} upstream={child}'
            self.add(now, name, lt.ERROR, text, rid, inst)
            return
        if f is not handled_frame:
            what = "timed out" if timeout else f"failed: {cls}"
            text = f"{status} {self._request(f)} upstream {child} {what}"
            self.add(now, name, lt.ERROR, text, rid, inst)
        if f.attempt < node.attempts:
            text = f"{name} answered HTTP {status} (attempt {f.attempt + 1} of {node.attempts + 1})"
            p_inst = parent.inst.i if parent.inst is not None else None
            self.add(now, parent.node.comp.name, lt.WARN, f"{text}, retrying", rid, p_inst)

    def fell_back(self, p: Frame, c: Frame, cls: str | None, msg: str | None) -> None:
        """The caller carries on without an optional dependency, and says so."""
        self._handled = None
        self._weight = p.req.log_weight
        fallback = self.fallbacks.get(c.node.label, "continuing without it")
        text = f"optional dependency {c.node.comp.name} failed ({cls or 'Error'}); fallback: {fallback}"
        inst = p.inst.i if p.inst is not None else None
        self.add(self.env._now, p.node.comp.name, lt.WARN, text, f"req-{p.req.rid:08x}", inst)


class LogNoise:
    """Background chatter on every component whose logs we see (not third parties).

    Each component emits ``scenario.logs.noise_rate`` lines a minute (Poisson), each line
    counted once (noise is not scaled by ``represents``).
    """

    def __init__(
        self, env: simpy.Environment, store: LogStore, scenario: Scenario, rng: random.Random
    ) -> None:
        self.env = env
        self.store = store
        self.rng = rng
        spec = scenario.logs
        if spec.noise and spec.noise_rate > 0:
            for name, replicas, tables, deps in lt.noise_sources(scenario):
                templates = lt.NOISE[scenario.components[name].kind]
                db = scenario.databases.get(name)
                if db is not None and db.dialect == "mysql":
                    templates = lt.MYSQL_DATABASE
                env.process(self._chatter(name, replicas, tables, deps, templates, spec.noise_rate))

    def _chatter(
        self,
        name: str,
        replicas: int,
        tables: tuple[str, ...],
        deps: tuple[str, ...],
        templates: tuple[lt.NoiseTemplate, ...],
        per_minute: float,
    ) -> Generator[simpy.Event, Any, None]:
        rng, env, add = self.rng, self.env, self.store.add
        cum = list(accumulate(w for w, _, _ in templates))
        while True:
            yield env.timeout(rng.expovariate(per_minute / 60.0))
            u = rng.random() * cum[-1]
            _, level, tpl = templates[next(k for k, c in enumerate(cum) if u < c)]
            text = lt.noise_text(tpl, rng, tables, deps)
            add(env.now, name, level, text, None, rng.randrange(replicas), weight=1)


def noisy_warning(
    env: simpy.Environment,
    store: LogStore,
    component: str,
    level: str,
    message: str,
    start: float,
    duration: float,
    rate_per_min: float,
    rng: random.Random,
) -> None:
    """A red-herring burst: ``message`` on ``component`` at ``rate_per_min`` from ``start``.

    Lines come as a Poisson stream in [start, start + duration), each counted once.
    """

    def burst() -> Generator[simpy.Event, Any, None]:
        if start > env.now:
            yield env.timeout(start - env.now)
        end = start + duration
        while rate_per_min > 0:
            gap = rng.expovariate(rate_per_min / 60.0)
            if env.now + gap >= end:
                return
            yield env.timeout(gap)
            store.add(env.now, component, level, message, None, None, weight=1)

    env.process(burst())
