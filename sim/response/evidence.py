"""What an on-call engineer can look at, computed from telemetry only.

Every function here reads what the run has *published* — closed metrics windows, firing
alerts, kept log lines and their signatures, the change log as applied, load-balancer
rotation, vendors' status pages — and returns plain facts plus one line for people. None of
them reads the fault list: that is the point of the layer (design principle 3).
"""

from __future__ import annotations

import bisect
import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sim.model.cache import WARM
from sim.model.sql import tables_in
from sim.scenario.durations import format_duration, wall_clock
from sim.telemetry.metrics import SERIES_COLUMNS

if TYPE_CHECKING:
    from sim.response.running import Running

_S = {name: i for i, name in enumerate(SERIES_COLUMNS)}
_T, _SCOPE, _NAME, _REQ = _S["t"], _S["scope"], _S["name"], _S["requests"]
_ERR, _TO, _REJ, _P95 = _S["errors"], _S["timeouts"], _S["rejected"], _S["p95"]
_BUSY, _QUEUED = _S["busy"], _S["queued"]

# How far back a look at a dashboard goes, and the quiet stretch compared against.
RECENT = 300.0
MIN_BASELINE = 12  # windows needed before a latency ratio means anything
SATURATED = 0.9  # share of a component's slots in use that reads as "saturated"
LOOKBACK = 3600.0
NO_DATA = 60.0  # a series with no point for this long reads as "no data" (a 1-minute graph step)
# An endpoint reads as failing only with at least this many failed requests of the model in
# the span: each stands for `represents` real ones, so a handful of them is the model's
# sampling noise (three failed checkouts of 120 read "2 %" where a real shop's thousands of
# requests would show a fraction of that), not a trend a real dashboard would show.
MIN_FAILED = 5
# An endpoint reads as slow when the typical (median) p95 of its recent windows is this many
# times its normal p95: what a latency graph shows at a glance, not one window's spike.
# "Normal" is what the graph showed in the hour before the first page (before anyone was
# paged, the two hours before the look): not the incident itself, whose failing-fast stretches
# answer quickly and would make a recovered endpoint look slow.
SLOW = 5.0
TABLE_IN_ERROR = re.compile(r"\b(?:column|relation|table)\s+\"?([a-z_][a-z0-9_]*)\.", re.I)

# A database's own words about its data, objects and limits — a sequence at its maximum, an
# integer out of range, an object that does not exist, a SQLSTATE of class 22, 42, 53x or 54.
SEQUENCE_AT_MAX = re.compile(r"reached maximum value of sequence|out of range for (?:type|integer)")
DATABASE_SAYS = re.compile(
    "|".join(
        (
            r"SQLSTATE (?:22|42|53[124]|54)",  # data, undefined object, disk, memory, limits
            SEQUENCE_AT_MAX.pattern,
            r"\b(?:column|relation|table) \S+ does not exist",
        )
    )
)
# Error lines that say in words what is wrong — the broken thing or state itself, as the
# database, the kernel, TLS, a resolver or a quota system words it — not only where it hurts
# (a timeout, a refused connection, a 5xx, a full queue, too many clients, an open breaker,
# an unnamed exception). The same line the public post-mortems of docs/people.md are sorted
# by: "the first evidence stated what was wrong" (plain) or was symptoms (opaque).
SAYS_WHAT_IS_WRONG = re.compile(
    "|".join(
        (
            DATABASE_SAYS.pattern,
            r"No space left on device",
            r"certificate (?:has expired|is not yet valid)",
            r"\bx509: ",
            r"clock skew",
            r"[Qq]uota (?:exceeded|exhausted)|RESOURCE_EXHAUSTED",
            r"[Pp]ermission denied",
            r"Out of memory: Killed process|OOMKilled",
            r"failure in name resolution|NXDOMAIN|Name or service not known",
            r"[Nn]o cluster leader",
        )
    )
)


@dataclass(frozen=True)
class Evidence:
    """What one call to the action API showed or did."""

    call: str
    target: str | None
    t: float
    end: float
    ok: bool
    summary: str
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class Totals:
    """Requests and failures summed over some windows, with the worst p95 seen."""

    requests: int = 0
    failed: int = 0
    p95: float = 0.0

    @property
    def ratio(self) -> float:
        return self.failed / self.requests if self.requests else 0.0


def _time(row: Sequence[Any]) -> float:
    return float(row[_T])


class View:
    """Read-only access to what a run has published so far."""

    def __init__(self, simulation: Running) -> None:
        self.sim = simulation
        self.scenario = simulation.scenario
        self.threshold = simulation.scenario.error_threshold
        self._by_scope: dict[str, list[Sequence[Any]]] = {}
        self._indexed = 0

    @property
    def now(self) -> float:
        return float(self.sim.env.now)

    # -- metrics ---------------------------------------------------------------------------
    def rows_since(self, start: float, scope: str) -> Sequence[Sequence[Any]]:
        """Closed metrics rows of ``scope`` that reached the metrics store (gaps where monitoring
        was dark or an agent silent), for windows starting at or after ``start``, newest
        first. Rows are indexed by scope as they are published (each row is looked at once),
        and found by bisection on their time."""
        rows = self.sim.engine.metrics.rows
        lost = self.sim.pipeline.lost  # windows that never reached the metrics store
        for row in rows[self._indexed :]:
            if lost and (row[_T], row[_SCOPE], row[_NAME]) in lost:
                continue
            self._by_scope.setdefault(row[_SCOPE], []).append(row)
        self._indexed = len(rows)
        mine = self._by_scope.get(scope, [])
        first = bisect.bisect_left(mine, start, key=_time)
        return mine[first:][::-1]

    def totals(self, scope: str, start: float, end: float | None = None) -> dict[str, Totals]:
        """Per-name totals of ``scope`` series over windows in ``[start, end)``."""
        out: dict[str, Totals] = {}
        for row in self.rows_since(start, scope):
            if end is not None and row[_T] >= end:
                continue
            acc = out.setdefault(row[_NAME], Totals())
            acc.requests += row[_REQ]
            acc.failed += row[_ERR] + row[_TO] + row[_REJ]
            acc.p95 = max(acc.p95, row[_P95])
        return out

    def failing_endpoints(self, span: float = RECENT) -> dict[str, float]:
        """Endpoints whose failed share over the last ``span`` seconds is above the SLO line
        (and more than a handful of the model's requests: :data:`MIN_FAILED`)."""
        least = MIN_FAILED * self.scenario.traffic.represents
        return {
            name: round(t.ratio, 4)
            for name, t in sorted(self.totals("endpoint", self.now - span).items())
            if t.requests and t.ratio > self.threshold and t.failed >= least
        }

    def slow_endpoints(self, span: float = RECENT) -> dict[str, float]:
        """Endpoints whose median p95 over the last ``span`` seconds is :data:`SLOW` times or more
        their normal p95 (the median of their windows in the hour before the first page, or in
        the two hours before the span when nobody has been paged); none before
        :data:`MIN_BASELINE` windows of history."""
        start = self.now - span
        pages = [i["paged_at"] for i in self.sim.pager.incidents if i["paged_at"] is not None]
        normal_from, normal_to = (
            (min(pages) - LOOKBACK, min(pages)) if pages else (start - 2 * LOOKBACK, start)
        )
        recent: dict[str, list[float]] = {}
        before: dict[str, list[float]] = {}
        for row in self.rows_since(min(normal_from, start), "endpoint"):
            if not row[_REQ]:
                continue
            if row[_T] >= start:
                recent.setdefault(row[_NAME], []).append(row[_P95])
            if normal_from <= row[_T] < normal_to:
                before.setdefault(row[_NAME], []).append(row[_P95])
        out: dict[str, float] = {}
        for name, values in sorted(recent.items()):
            base = before.get(name, [])
            if len(base) < MIN_BASELINE:
                continue
            normal = statistics.median(base)
            ratio = statistics.median(values) / normal if normal else 1.0
            if ratio >= SLOW:
                out[name] = round(ratio, 1)
        return out

    def onset(self) -> float | None:
        """Start of the current run of failing minutes, read off the endpoint graphs."""
        per_t: dict[float, list[int]] = {}
        for row in self.rows_since(self.now - LOOKBACK * 2, "endpoint"):
            acc = per_t.setdefault(row[_T], [0, 0])
            acc[0] += row[_REQ]
            acc[1] += row[_ERR] + row[_TO] + row[_REJ]
        onset = None
        for t in sorted(per_t, reverse=True):
            n, bad = per_t[t]
            if n and bad / n > self.threshold / 2:
                onset = t
            elif onset is not None and t < onset - 120:
                break
        return onset

    def latency_ratio(self, scope: str, name: str, span: float) -> tuple[float, float | None]:
        """Worst p95 of the last ``span`` seconds against the median p95 of everything seen in
        that span and the hour before it (the median shrugs off the spike it is compared with,
        so a spike shows from the first hour of a run on)."""
        recent: list[float] = []
        seen: list[float] = []
        start = self.now - span
        for row in self.rows_since(self.now - span - LOOKBACK, scope):
            if row[_NAME] != name or not row[_REQ]:
                continue
            seen.append(row[_P95])
            if row[_T] >= start:
                recent.append(row[_P95])
        if not recent or len(seen) < MIN_BASELINE:
            return 1.0, None
        seen.sort()
        base = seen[len(seen) // 2]
        worst = max(recent)
        when = None
        for row in self.rows_since(start, scope):
            if row[_NAME] == name and row[_P95] == worst:
                when = row[_T]
                break
        return (worst / base if base else 1.0), when

    def no_data(self, scope: str, names: Sequence[str], span: float = NO_DATA) -> list[str]:
        """Those of ``names`` whose every window of the last ``span`` seconds was lost on the
        way to the metrics store: a hole at the end of their graphs, which is not "healthy"."""
        lost, closed = self.sim.pipeline.lost, self.sim.pipeline.closed
        if not lost or not closed:
            return []
        starts = closed[bisect.bisect_right(closed, closed[-1] - span) :]
        return sorted(n for n in names if all((t, scope, n) in lost for t in starts))

    def load(self, span: float) -> dict[str, float]:
        """Per component, the busiest share of its slots in the last ``span`` seconds (a full
        queue counts as 100 %)."""
        out: dict[str, float] = {}
        for row in self.rows_since(self.now - span, "component"):
            name = row[_NAME]
            capacity = self.sim.capacity(name)
            share = 1.0 if row[_QUEUED] else (row[_BUSY] / capacity if capacity else 0.0)
            out[name] = round(max(out.get(name, 0.0), share), 3)
        return out

    # -- observations ------------------------------------------------------------------------
    def status(self) -> tuple[str, dict[str, Any]]:
        """Regional or global? Synthetic checks by region, and the failing endpoints."""
        probes = self.totals("probe", self.now - RECENT)
        regions: dict[str, list[str]] = {}
        for key, t in sorted(probes.items()):
            endpoint, _, region = key.partition("@")
            regions.setdefault(region, [])
            if t.requests and t.ratio > 0.5:
                regions[region].append(endpoint)
        failing = self.failing_endpoints()
        bad_regions = [r for r, eps in regions.items() if eps]
        if not failing and not bad_regions:
            scope = "none"
        elif bad_regions and len(bad_regions) < len(regions):
            scope = "regional"
        else:
            scope = "global"
        onset = self.onset()
        if scope == "none":
            line = "all regions green; no endpoint above the error threshold"
        else:
            if scope == "regional":
                where = f"in {', '.join(bad_regions)} only"
            elif bad_regions:
                where = f"in every region ({', '.join(sorted(regions))})"
            else:
                where = "for shoppers everywhere (synthetic checks green: they skip these paths)"
            eps = ", ".join(f"{e} {r:.0%}" for e, r in failing.items())
            # the share is the last few minutes' (a fix three minutes ago still shows in it)
            window = format_duration(RECENT)
            line = f"{scope} outage {where}; failing in the last {window}: "
            line += eps or "synthetic checks only"
            if onset is not None:
                line += f"; since {self.clock(onset)}"
        facts: dict[str, Any] = {
            "scope": scope,
            "failing": failing,
            "regions": regions,
            "onset": onset,
        }
        # shoppers of a region whose connections to the edge fail (a region gone dark): the
        # edge's own per-region series, which only a dark region fills
        edge = self.totals("edge", self.now - RECENT)
        unreachable = sorted(r for r, t in edge.items() if t.requests)
        if unreachable:
            line += (
                f"; shoppers in {', '.join(unreachable)} cannot reach the edge "
                "(connect: no route to host)"
            )
            facts["unreachable"] = unreachable
        return line, facts

    def dashboard(self, span: float = RECENT) -> tuple[str, dict[str, Any]]:
        """Requests, failed share and p95 per endpoint; orders against the expected curve."""
        totals = self.totals("endpoint", self.now - span)
        endpoints = {
            name: {"requests": t.requests, "error_ratio": round(t.ratio, 4), "p95": t.p95}
            for name, t in sorted(totals.items())
        }
        lost = self.sim.pipeline.dark  # business windows that never reached the dashboards
        orders = sum(
            r[2]
            for r in self.sim.engine.metrics.business_rows
            if r[0] >= self.now - span and r[0] not in lost
        )
        expected = self.sim.expected_orders(self.now - span, self.now)
        orders_ratio = orders / expected if expected else 1.0
        failing = self.failing_endpoints(span)
        slow = self.slow_endpoints(span)
        edge, edge_at = self.latency_ratio("component", self._edge(), LOOKBACK)
        dark = self.no_data("endpoint", list(self.scenario.endpoints))
        # a cache's hit-ratio panel: below nine tenths of normal, it is still refilling
        cold = {
            name: round(c.warmth, 3)
            for name, c in sorted(self.sim.world.caches.items())
            if c.warmth < WARM and not self.no_data("component", [name])
        }
        facts = {
            "span": span,
            "no_data": dark,
            "endpoints": endpoints,
            "failing": failing,
            "slow": slow,
            "orders_ratio": round(orders_ratio, 3),
            "cold_caches": cold,
            "edge_latency_ratio": round(edge, 2),
            "edge_latency_at": edge_at,
            "onset": self.onset(),
        }
        if failing:
            worst = ", ".join(f"{e} {r:.0%} failed" for e, r in failing.items())
            line = f"{worst}; orders at {orders_ratio:.0%} of normal"
        else:
            line = f"every endpoint under {self.threshold:.0%} errors; orders at {orders_ratio:.0%} of normal"
        if slow:
            line += "; " + ", ".join(f"{n} p95 {r:g}× normal" for n, r in slow.items())
        if cold:
            line += "; " + ", ".join(f"{n} hit ratio at {w:.0%} of normal" for n, w in cold.items())
        if edge >= 1.5 and edge_at is not None:
            line += f"; edge p95 peaked {edge:.1f}× normal at {self.clock(edge_at)}"
        if len(dark) == len(self.scenario.endpoints):
            line = f"no data: nothing has reached the dashboards for {format_duration(NO_DATA)}"
        elif dark:
            line += f"; no data for {', '.join(dark)}"
        return line, facts

    def alerts(self) -> tuple[str, dict[str, Any]]:
        """The firing alerts, pages first; an error tracker's alert quotes its line
        (``message``), and the line for people ends with the first such quote."""
        firing = [
            {
                "id": a["id"],
                "monitor": a["monitor"],
                "target": a["target"],
                "severity": a["severity"],
                "value": a["value"],
                **({"message": a["message"]} if "message" in a else {}),
            }
            for a in self.sim.monitors.firing()
        ]
        firing.sort(key=lambda a: (a["severity"] != "critical", a["id"]))
        if not firing:
            return "no alert firing", {"firing": []}
        names = ", ".join(f"{a['monitor']}/{a['target']}" for a in firing[:6])
        more = f" and {len(firing) - 6} more" if len(firing) > 6 else ""
        quoted = [a for a in firing if "message" in a]
        # the quote a person reads first: the loudest that says what is wrong, else the loudest
        plain = [a for a in quoted if SAYS_WHAT_IS_WRONG.search(a["message"])]
        quote = max(plain or quoted, key=lambda a: a["value"]) if quoted else None
        said = f"; {quote['target']}: {quote['message']}" if quote else ""
        return f"{len(firing)} firing: {names}{more}{said}", {"firing": firing}

    def logs(
        self, component: str | None = None, since: float | None = None
    ) -> tuple[str, dict[str, Any]]:
        """The new ERROR signatures since the trouble began (or the last hour)."""
        onset = self.onset()
        start = since if since is not None else (onset - 300 if onset is not None else None)
        if start is None:
            start = self.now - LOOKBACK
        sigs = self.sim.logs.top_signatures(n=8, level="ERROR", since=start, component=component)
        warns = self.sim.logs.top_signatures(
            n=3, level="WARN", since=self.now - LOOKBACK * 2, component=component
        )
        listed = [
            {
                "component": s.component,
                "level": s.level,
                "signature": s.signature,
                "count": s.count,
                "first_seen": s.first_seen,
                "example": s.example,
            }
            for s in [*sigs, *warns]
        ]
        tables = sorted(
            {m.group(1).lower() for s in sigs for m in TABLE_IN_ERROR.finditer(s.example)}
        )
        if sigs:
            top = sigs[0]
            line = f"top new error on {top.component}: {top.example} ({top.count:,} lines)"
        else:
            line = "no new error signature"
        if warns:
            line += f"; loudest warning: {warns[0].component}: {warns[0].example}"
        return line, {
            "signatures": listed,
            "tables": tables,
            "since": start,
            "component": component,
        }

    def plainness(self) -> tuple[str, str | None]:
        """("plain", the line) when an error line the logs look would list says in words what
        is wrong (:data:`SAYS_WHAT_IS_WRONG`), else ("opaque", None) — what the team has in
        front of it, read without costing it time (the people model's, not a look)."""
        _, facts = self.logs()
        for s in facts["signatures"]:
            if s["level"] == "ERROR" and SAYS_WHAT_IS_WRONG.search(s["example"]):
                return "plain", str(s["example"])
        return "opaque", None

    def changes(self, component: str | None = None) -> tuple[str, dict[str, Any]]:
        """The change log as applied, newest first (last six hours). With ``component``, that
        component's own history instead: every change that touched it, those made outside the
        change log (an automation's, a customer's) included."""
        applied: list[dict[str, Any]] = [
            {
                "id": c.id,
                "kind": c.kind,
                "at": t,
                "author": c.author,
                "description": c.description,
                "logged": c.logged,
                "components": list(c.components),
                "tables": sorted(tables_in(c.statements)),
                **self._staging(c.id, c.flag, c.rollout is not None),
            }
            for t, c in reversed(self.sim.world.applied)
            if t >= self.now - 6 * 3600
            and (c.logged if component is None else component in c.components)
        ]
        facts: dict[str, Any] = {"changes": applied, "component": component}
        if not applied:
            where = "" if component is None else f" to {component}"
            return f"no change{where} in the last six hours", facts
        line = "; ".join(
            f"{self.clock(c['at'])} {c['kind']} {c['id']} ({self._where(c)})" for c in applied[:5]
        )
        return (line if component is None else f"{component}'s history: {line}"), facts

    def _staging(self, change: str, flag: str | None, staged: bool) -> dict[str, Any]:
        """A change's flag and how far its staged rollout has got (absent when it has none)."""
        out: dict[str, Any] = {}
        if flag is not None:
            out["flag"] = flag
            out["flag_off"] = flag in self.sim.rollouts.flags_off
        if staged:
            out["reached"] = {k: list(v) for k, v in self.sim.rollouts.reach(change).items()}
            out["stages_at"] = list(self.sim.rollouts.stage_at.get(change, ()))
            out["halted"] = self.sim.rollouts.halted.get(change)
        return out

    @staticmethod
    def _where(c: dict[str, Any]) -> str:
        """``web 2/10 instances so far, flag waf-rules``: where a change is, for people."""
        where = [
            f"{name} {n}/{of} instances so far" if "reached" in c and n < of else name
            for name, (n, of) in c.get("reached", dict.fromkeys(c["components"], (1, 1))).items()
        ]
        if c.get("halted"):
            where.append(f"rollout halted: {c['halted']}")
        if "flag" in c:
            where.append(f"flag {c['flag']}" + (" off" if c["flag_off"] else ""))
        return ", ".join(where)

    def deps(self, component: str | None = None) -> tuple[str, dict[str, Any]]:
        """Health of every component (or of one and what it calls): failed share and p95."""
        topo = self.sim.world.topology
        names = (
            [component, *topo.graph.successors(component)]
            if component is not None
            else topo.components
        )
        totals = self.totals("component", self.now - RECENT)
        load = self.load(RECENT)
        health: dict[str, dict[str, Any]] = {}
        # Components whose graphs are a hole: nothing of theirs arrived lately, though it did
        # before (an agent that stopped, a pipeline gone dark) — no data is not "healthy".
        silent = self.no_data("component", names)
        for name in names:
            t = totals.get(name, Totals())
            ratio, _ = self.latency_ratio("component", name, RECENT)
            health[name] = {
                "error_ratio": round(t.ratio, 4),
                "p95_ratio": round(ratio, 2),
                "in_rotation": len(self.sim.engine.runtimes[name].available),
                "replicas": self.sim.world.states[name].replicas,
                "saturation": load.get(name, 0.0),
            }
        failing = {n for n, h in health.items() if h["error_ratio"] > self.threshold}
        deepest = sorted(
            (n for n in failing if not failing & set(topo.graph.successors(n))),
            key=lambda n: (-health[n]["error_ratio"], n),  # ties by name: not by set order
        )
        slow = sorted(
            (n for n, h in health.items() if h["p95_ratio"] >= 1.8 and n not in failing),
            key=lambda n: (-health[n]["p95_ratio"], n),
        )
        if deepest:
            parts = [f"{n} failing {health[n]['error_ratio']:.0%}" for n in deepest]
            line = "deepest failing: " + ", ".join(parts)
            callers = sorted(failing - set(deepest))
            if callers:
                line += f" (callers failing too: {', '.join(callers)})"
        else:
            line = "every dependency healthy"
        if slow:
            line += "; slow: " + ", ".join(f"{n} p95 {health[n]['p95_ratio']:.1f}×" for n in slow)
        saturated = sorted(n for n, h in health.items() if h["saturation"] >= SATURATED)
        if saturated:
            line += "; saturated: " + ", ".join(
                f"{n} {health[n]['saturation']:.0%} busy" for n in saturated
            )
        if silent:
            callers = sorted(
                {c for n in silent for c in topo.graph.predecessors(n)} & (failing | set(slow))
            )
            line += "; no data from " + ", ".join(silent)
            if callers:
                line += f" (called by {', '.join(callers)})"
        facts = {
            "components": health,
            "no_data": silent,
            "deepest": deepest,
            "failing": sorted(failing),
            "slow": slow,
            "saturated": saturated,
        }
        return line, facts

    def net(self) -> tuple[str, dict[str, Any]]:
        """Network checks: edge and synthetic latency by region, loss, maintenance notices."""
        edge, edge_at = self.latency_ratio("component", self._edge(), LOOKBACK)
        regions: dict[str, float] = {}
        for key in sorted(self.totals("probe", self.now - LOOKBACK)):
            ratio, _ = self.latency_ratio("probe", key, LOOKBACK)
            region = key.partition("@")[2]
            regions[region] = max(regions.get(region, 1.0), round(ratio, 2))
        notices = [
            {"id": c.id, "at": t, "description": c.description}
            for t, c in self.sim.world.applied
            if c.kind == "notice" and t >= self.now - 6 * 3600
        ]
        edge_errors = self.totals("component", self.now - RECENT).get(self._edge(), Totals())
        own = edge_errors.ratio if edge_errors.requests else 0.0
        links = {
            name: {
                "utilisation": round(link.rho, 3),
                "loss": round(link.loss, 4),
                "added_latency_ms": round(link.delay * 1000, 1),
                "bandwidth_mbps": round(link.bandwidth * 8 / 1e6, 1),
            }
            for name, link in self.sim.network.links.items()
        }
        worst = max(links.items(), key=lambda kv: kv[1]["loss"], default=None)
        if worst is not None and worst[1]["loss"] >= 0.0005:
            name, w = worst
            line = (
                f"packet loss {w['loss']:.2%} on link {name} ({w['utilisation']:.0%} of "
                f"{w['bandwidth_mbps']:g} Mb/s, +{w['added_latency_ms']:g} ms)"
            )
        else:
            line = "no packet loss"
        line += f"; edge p95 {edge:.1f}× normal"
        if edge_at is not None and edge >= 1.5:
            line += f" (peak at {self.clock(edge_at)})"
        if notices:
            line += f"; notice {notices[-1]['id']}: {notices[-1]['description']}"
        facts = {
            "edge_latency_ratio": round(edge, 2),
            "edge_latency_at": edge_at,
            "regions": regions,
            "loss": max((v["loss"] for v in links.values()), default=0.0),
            "links": links,
            "notices": notices,
            "edge_error_ratio": round(own, 4),
        }
        return line, facts

    def lb(self) -> tuple[str, dict[str, Any]]:
        """Load-balancer checks: backends in rotation, its own errors, recent config changes."""
        edge = self._edge()
        topo = self.sim.world.topology
        backends = {}
        passive = [n for n, c in self.scenario.components.items() if c.health_check.outlier]
        names = [edge, *topo.graph.successors(edge)]
        for name in [*names, *(n for n in passive if n not in names)]:
            rt = self.sim.engine.runtimes[name]
            backends[name] = {
                "in_rotation": len(rt.available),
                "healthy": sum(not i.ejected for i in rt.instances),
                "up": sum(not d for d in self.sim.world.states[name].down),
                "replicas": self.sim.world.states[name].replicas,
                "panic": rt.panic,
                "checks_off": self.sim.world.states[name].unchecked,
            }
            if name in passive:  # out for their answers (passive checks), not their probes
                backends[name]["outlying"] = sum(i.outlying for i in rt.instances)
        configs = [
            {"id": c.id, "at": t, "description": c.description}
            for t, c in self.sim.world.applied
            if c.kind == "config" and edge in c.components and t >= self.now - 6 * 3600
        ]
        out = [n for n, b in backends.items() if b["healthy"] < b["replicas"]]
        parts = []
        for n in out:
            b = backends[n]
            part = f"{n} {b['healthy']}/{b['replicas']} healthy"
            if b["up"] > b["healthy"]:
                part += f" ({b['up'] - b['healthy']} up but failing their checks)"
            if b["panic"]:
                part += " (panic: sending to every instance)"
            parts.append(part)
        line = (
            "every backend in rotation" if not out else "failing health checks: " + ", ".join(parts)
        )
        line += "; health checks passing" if not out else ""
        outlying = [
            f"{n} {b['outlying']}/{b['replicas']}" for n, b in backends.items() if b.get("outlying")
        ]
        if outlying:
            line += "; ejected for failing answers (passive checks): " + ", ".join(outlying)
        if configs:
            line += f"; config change {configs[-1]['id']}: {configs[-1]['description']}"
        return line, {"backends": backends, "configs": configs, "out_of_rotation": out}

    def thirdparty(self) -> tuple[str, dict[str, Any]]:
        """Vendors' status pages (what each vendor says about itself)."""
        pages: dict[str, str] = {}
        for name, spec in self.scenario.components.items():
            if spec.kind != "third_party":
                continue
            state = self.sim.world.states[name]
            if state.hang or state.error_probability >= 0.5 or all(state.down):
                pages[name] = "major outage"
            elif state.error_probability > 0.01 or state.latency_factor > 2 or any(state.down):
                pages[name] = "degraded performance"
            else:
                pages[name] = "operational"
        if not pages:
            return "no third-party services", {"providers": {}}
        return "; ".join(f"{n}: {s}" for n, s in pages.items()), {"providers": pages}

    # -- helpers -----------------------------------------------------------------------------
    def _edge(self) -> str:
        topo = self.sim.world.topology
        for name, spec in self.scenario.components.items():
            if spec.kind == "load_balancer":
                return name
        return min(topo.components, key=lambda n: topo.layers().get(n, math.inf))

    def clock(self, t: float) -> str:
        """``HH:MM`` on the scenario's wall clock (what a dashboard shows)."""
        return wall_clock(self.scenario.clock_start, t, seconds=False)


__all__ = ["Evidence", "View"]
