"""Monitors: alert rules evaluated over closed metrics windows; alerts fire and resolve.

Each rule is evaluated separately per target (``target: "*"`` expands to every endpoint,
component or probe series it applies to) over a rolling ``over`` window of metrics windows,
and fires once its condition has held for ``for``. Silence (too little traffic to judge)
keeps an alert in the state it is in, so a route that stops getting traffic does not flap.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sim.model.world import World
from sim.scenario.schema import Monitor, Scenario
from sim.telemetry.metrics import BUSINESS_COLUMNS, SERIES_COLUMNS

_S = {name: i for i, name in enumerate(SERIES_COLUMNS)}
_B = {name: i for i, name in enumerate(BUSINESS_COLUMNS)}
QUANTILE = {"p50": _S["p50"], "p95": _S["p95"], "p99": _S["p99"]}
# An error tracker's "new issue": a signature first seen less than this long ago.
NEW_FOR = 3600.0


def default_monitors(scenario: Scenario) -> tuple[Monitor, ...]:
    """The monitor set used when a scenario names none (see docs/monitors.md)."""
    rules: list[dict[str, Any]] = [
        {
            "name": "endpoint-errors",
            "kind": "error_ratio",
            "scope": "endpoint",
            "threshold": 0.05,
            "over": 60,
            "for": 60,
            "min_requests": 20,
            "severity": "critical",
            "summary": "more than 5 % of requests to an endpoint fail",
        },
        {
            "name": "orders-drop",
            "kind": "throughput_drop",
            "scope": "shop",
            "threshold": 0.4,
            "over": 600,
            "for": 600,
            "min_requests": 20,
            "severity": "critical",
            "summary": "orders below 40 % of the expected curve",
        },
        {
            "name": "synthetic-checks",
            "kind": "synthetic",
            "scope": "endpoint",
            "threshold": 0.5,
            "over": 120,
            "for": 60,
            "min_requests": 2,
            "severity": "critical",
            "summary": "synthetic checks of an endpoint fail from a region",
        },
        {
            "name": "endpoint-latency",
            "kind": "latency",
            "scope": "endpoint",
            "threshold": 2.0,
            "quantile": "p95",
            "over": 300,
            "for": 300,
            "min_requests": 20,
            "severity": "warning",
            "summary": "p95 latency of an endpoint above 2 s",
        },
        {
            "name": "component-saturation",
            "kind": "saturation",
            "scope": "component",
            "threshold": 0.9,
            "over": 120,
            "for": 120,
            "min_requests": 0,
            "severity": "warning",
            "summary": "a component is using more than 90 % of its capacity",
        },
        {
            "name": "new-errors",
            "kind": "new_error",
            "scope": "component",
            "threshold": 30,
            "over": 60,
            "for": 60,
            "min_requests": 0,
            "severity": "warning",
            "summary": "a kind of error first seen in the last hour, over 30 lines a minute "
            "(the error tracker; it quotes the line)",
        },
        {
            "name": "error-log-rate",
            "kind": "log_errors",
            "scope": "shop",
            "threshold": 300,
            "over": 300,
            "for": 300,
            "min_requests": 0,
            "severity": "warning",
            "summary": "over 300 error log lines a minute for 5 minutes (the log watcher)",
        },
    ]
    return tuple(Monitor.model_validate(r) for r in rules)


def monitor_rules(scenario: Scenario) -> tuple[Monitor, ...]:
    """The rules ``scenario`` is monitored by: its own ``monitors:``, or the default set."""
    return scenario.monitors if scenario.monitors is not None else default_monitors(scenario)


class Window:
    """A rolling window of (start, numerator, denominator) samples with running sums."""

    __slots__ = ("den", "num", "samples")

    def __init__(self) -> None:
        self.samples: deque[tuple[float, float, float]] = deque()
        self.num = self.den = 0.0

    def push(self, t: float, num: float, den: float, oldest: float) -> None:
        """Add a sample and drop those that started at or before ``oldest``."""
        self.samples.append((t, num, den))
        self.num += num
        self.den += den
        while self.samples and self.samples[0][0] <= oldest:
            _, n, d = self.samples.popleft()
            self.num -= n
            self.den -= d


@dataclass
class Alert:
    """One alert instance: a monitor on one target, from firing to resolving."""

    monitor: Monitor
    target: str
    state: str = "inactive"  # inactive → pending → firing → inactive
    since: float = 0.0
    value: float = 0.0
    fired: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.monitor.name}/{self.target}"


class Monitors:
    """Evaluates every rule when a metrics window closes; emits ``alert.firing``/``alert.resolved``.

    ``capacity(component)`` gives its slots now (after capacity loss and ejected instances);
    ``expected_orders(t0, t1)`` gives the orders the traffic model expects in [t0, t1);
    ``error_lines()`` the cumulative count of error log lines (the log watcher's input).
    """

    def __init__(
        self,
        world: World,
        rules: tuple[Monitor, ...],
        window: float,
        capacity: Callable[[str], int],
        expected_orders: Callable[[float, float], float],
        error_lines: Callable[[], int] | None = None,
        external_probes: bool = False,
        new_errors: Callable[[float], list[tuple[str, str, int, str]]] | None = None,
    ) -> None:
        self.world = world
        self.external_probes = external_probes
        self.rules = rules
        self.window = window
        self.capacity = capacity
        self.expected_orders = expected_orders
        self.error_lines = error_lines
        self._last_errors = 0
        # the error tracker's view: new signatures' counts at the last window, the lines each
        # component logged in them this window, and the loudest one's line (what it quotes)
        self.new_errors = new_errors if any(r.kind == "new_error" for r in rules) else None
        self._tracked: dict[tuple[str, str], int] = {}
        self._new_lines: dict[str, float] = {}
        self.quotes: dict[str, str] = {}
        self.history: dict[str, Window] = {}
        self.alerts: dict[str, Alert] = {}
        self.records: list[dict[str, Any]] = []

    # -- window → samples ----------------------------------------------------------------
    def on_window(
        self,
        t: float,
        rows: list[tuple[Any, ...]],
        business: tuple[Any, ...] | None,
        absent: Sequence[tuple[str, str]] = (),
        alerting: bool = True,
    ) -> None:
        """Evaluate the rules on one closed window as it reached the metrics store
        (:class:`~sim.telemetry.pipeline.Pipeline`): ``rows`` arrived, ``absent`` series did
        not, ``business`` is None when its row was lost. While ``alerting`` is down only
        external probes' rules (their vendor's) move."""
        now = t + self.window
        errors_now = self.error_lines() if self.error_lines is not None else 0
        new_errors, self._last_errors = errors_now - self._last_errors, errors_now
        by_scope: dict[str, list[tuple[Any, ...]]] = {}
        for row in rows:
            by_scope.setdefault(row[1], []).append(row)
        missing: dict[str, list[str]] = {}
        for scope, name in absent:
            missing.setdefault(scope, []).append(name)
        if self.new_errors is not None:  # only when a rule is an error tracker
            self._track(now)
        for rule in self.rules:
            if not alerting and not (rule.kind == "synthetic" and self.external_probes):
                continue
            if rule.kind == "metric_absent":
                samples = self._absent(rule, by_scope, missing)
            elif business is None and rule.kind == "throughput_drop":
                continue
            else:
                samples = self._samples(rule, t, by_scope, business, new_errors)
            for target, num, den in samples:
                key = f"{rule.name}/{target}"
                hist = self.history.get(key)
                if hist is None:
                    hist = self.history[key] = Window()
                hist.push(t, num, den, t - rule.over + 1e-9)
                short = None
                if rule.kind == "burn_rate":  # the short window must burn too
                    short = self.history.setdefault(key + "#short", Window())
                    short.push(t, num, den, t - rule.short_window + 1e-9)
                self._evaluate(rule, target, key, hist, now, short)

    def _track(self, now: float) -> None:
        """Lines each component logged this window in signatures first seen within
        :data:`NEW_FOR`, and the line of the one it logged most of this window (kept while
        it logs no new error)."""
        assert self.new_errors is not None
        loudest: dict[str, int] = {}
        lines = dict.fromkeys(self._new_lines, 0.0)
        for component, sig, count, example in self.new_errors(now - NEW_FOR):
            delta = count - self._tracked.get((component, sig), 0)
            self._tracked[(component, sig)] = count
            if delta <= 0:
                continue
            lines[component] = lines.get(component, 0.0) + delta
            if delta > loudest.get(component, 0):
                loudest[component] = delta
                self.quotes[component] = example
        self._new_lines = lines

    @staticmethod
    def _absent(
        rule: Monitor,
        by_scope: dict[str, list[tuple[Any, ...]]],
        missing: dict[str, list[str]],
    ) -> list[tuple[str, float, float]]:
        """(target, 1 if its window never arrived else 0, 1) for each series of the scope."""
        out = [(name, 1.0, 1.0) for name in missing.get(rule.scope, ())]
        out += [(row[_S["name"]], 0.0, 1.0) for row in by_scope.get(rule.scope, ())]
        if rule.target == "*":
            return out
        prefix = rule.target + "@"
        return [s for s in out if s[0] == rule.target or s[0].startswith(prefix)]

    def _samples(
        self,
        rule: Monitor,
        t: float,
        by_scope: dict[str, list[tuple[Any, ...]]],
        business: tuple[Any, ...] | None,
        new_errors: int,
    ) -> list[tuple[str, float, float]]:
        """(target, numerator, denominator) of this window for each target of ``rule``."""
        if rule.kind == "throughput_drop":
            assert business is not None
            return [
                ("shop", float(business[_B["orders"]]), self.expected_orders(t, t + self.window))
            ]
        if rule.kind == "log_errors":
            return [("shop", float(new_errors), self.window / 60.0)]
        if rule.kind == "new_error":
            return [
                (component, lines, self.window / 60.0)
                for component, lines in sorted(self._new_lines.items())
                if rule.target in ("*", component)
            ]
        if rule.kind == "synthetic":
            source = "probe"
        else:
            source = "endpoint" if rule.scope == "shop" else rule.scope
        out: list[tuple[str, float, float]] = []
        shop_num = shop_den = 0.0
        prefix = rule.target + "@"
        for row in by_scope.get(source, ()):
            name = row[_S["name"]]
            if rule.target != "*" and name != rule.target and not name.startswith(prefix):
                continue
            n = row[_S["requests"]]
            failed = row[_S["errors"]] + row[_S["timeouts"]] + row[_S["rejected"]]
            if rule.kind in ("error_ratio", "synthetic", "burn_rate"):
                num, den = float(failed), float(n)
            elif rule.kind == "latency":
                num, den = row[QUANTILE[rule.quantile]] * n, float(n)
            else:  # saturation: busy slots over capacity, sampled at the window's end
                num, den = float(row[_S["busy"]]), float(self.capacity(name))
            if rule.scope == "shop":
                shop_num += num
                shop_den += den
            else:
                out.append((name, num, den))
        if rule.scope == "shop":
            out.append(("shop", shop_num, shop_den))
        return out

    # -- rule state machine --------------------------------------------------------------
    def _value(self, rule: Monitor, hist: Window, short: Window | None = None) -> float | None:
        num, den = hist.num, hist.den
        if rule.kind == "burn_rate":  # the burn rate both windows show: the lower of the two
            assert short is not None
            if den < rule.min_requests or den == 0 or short.den == 0:
                return None
            return min(num / den, short.num / short.den) / (1 - rule.objective)
        if rule.kind == "throughput_drop":
            return None if den < rule.min_requests else num / den
        if rule.kind in ("log_errors", "new_error", "saturation", "metric_absent"):
            return num / den if den else None  # no minimum evidence: min_requests ignored
        return None if den < rule.min_requests or den == 0 else num / den

    def _evaluate(
        self,
        rule: Monitor,
        target: str,
        key: str,
        hist: Window,
        now: float,
        short: Window | None = None,
    ) -> None:
        value = self._value(rule, hist, short)
        alert = self.alerts.get(key)
        if alert is None:
            alert = self.alerts[key] = Alert(rule, target)
        if value is None:  # not enough traffic to judge
            if alert.state == "pending":
                alert.state = "inactive"  # the condition must hold for `for` on evidence
            return  # a firing alert keeps firing
        alert.value = value
        holds = value < rule.threshold if rule.kind == "throughput_drop" else value > rule.threshold
        if holds:
            if alert.state == "inactive":
                alert.state, alert.since = "pending", now
            if alert.state == "pending" and now - alert.since >= rule.for_ - 1e-9:
                alert.state = "firing"
                self._fire(alert, now)
        elif alert.state == "firing":
            alert.state = "inactive"
            self._resolve(alert, now)
        else:
            alert.state = "inactive"

    def _fire(self, alert: Alert, now: float) -> None:
        rule = alert.monitor
        record = {
            "id": f"{alert.key}#{len(alert.fired) + 1}",
            "monitor": rule.name,
            "kind": rule.kind,
            "target": alert.target,
            "severity": rule.severity,
            "labels": {
                **dict(rule.labels),
                "alertname": rule.name,
                "severity": rule.severity,
                "target": alert.target,
            },
            "summary": f"{alert.target}: {rule.summary or rule.name}",
            "value": round(alert.value, 6),
            "threshold": rule.threshold,
            "starts_at": round(now, 6),
            "ends_at": None,
        }
        if rule.kind == "new_error" and alert.target in self.quotes:
            # an error tracker's notification is the line itself, wherever it is shown
            record["message"] = self.quotes[alert.target]
            record["summary"] = f"{alert.target}: {record['message']}"
        alert.fired.append(record)
        self.records.append(record)
        self.world.emit(
            now,
            "alert.firing",
            alert=record["id"],
            monitor=rule.name,
            rule=rule.kind,
            target=alert.target,
            severity=rule.severity,
            value=record["value"],
            **({"message": record["message"]} if "message" in record else {}),
        )

    def _resolve(self, alert: Alert, now: float) -> None:
        record = alert.fired[-1]
        record["ends_at"] = round(now, 6)
        self.world.emit(
            now,
            "alert.resolved",
            alert=record["id"],
            monitor=alert.monitor.name,
            target=alert.target,
            severity=alert.monitor.severity,
        )

    def firing(self) -> list[dict[str, Any]]:
        """Alerts firing now."""
        return [a.fired[-1] for a in self.alerts.values() if a.state == "firing"]
