"""Windowed metrics: counters and log-bucketed latency histograms, closed into rows per window.

Memory grows with the number of windows, never with the number of requests: each series
holds counters and a histogram for the open window only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

OK, ERROR, TIMEOUT, REJECTED = 0, 1, 2, 3
OUTCOMES = ("ok", "error", "timeout", "rejected")

_BASE = 1.03  # histogram bucket width: quantiles within ±1.5 %
_K = 1.0 / math.log(_BASE)
_ZERO = -(10**9)

SERIES_COLUMNS = (
    "t",
    "scope",
    "name",
    "requests",
    "ok",
    "errors",
    "timeouts",
    "rejected",
    "p50",
    "p95",
    "p99",
    "mean_latency",
    "busy",
    "queued",
    "mean_wait",
)
BUSINESS_COLUMNS = (
    "t",
    "sessions",
    "orders",
    "revenue",
    "checkout_attempts",
    "checkout_failures",
    "failed_sessions",
    "lost_revenue",
)
ERROR_COLUMNS = ("t", "scope", "name", "error_class", "count")


class Series:
    """Counters of one component or endpoint for the open window."""

    __slots__ = ("counts", "errors", "hist", "lat_sum", "name", "scope", "wait_n", "wait_sum")

    def __init__(self, scope: str, name: str) -> None:
        self.scope = scope
        self.name = name
        self.counts = [0, 0, 0, 0]
        self.hist: dict[int, int] = {}
        self.errors: dict[str, int] = {}
        self.lat_sum = 0.0
        self.wait_sum = 0.0
        self.wait_n = 0

    def record(self, outcome: int, latency: float, error_class: str | None = None) -> None:
        self.counts[outcome] += 1
        self.lat_sum += latency
        b = math.floor(math.log(latency) * _K) if latency > 0 else _ZERO
        hist = self.hist
        hist[b] = hist.get(b, 0) + 1
        if error_class is not None:
            self.errors[error_class] = self.errors.get(error_class, 0) + 1

    def quantiles(self, qs: tuple[float, ...]) -> list[float]:
        """Quantiles of the open window's latencies (0.0 when empty)."""
        total = sum(self.hist.values())
        if not total:
            return [0.0 for _ in qs]
        out: list[float] = []
        items = sorted(self.hist.items())
        for q in qs:
            rank, seen = q * total, 0
            for b, n in items:
                seen += n
                if seen >= rank:
                    out.append(0.0 if b == _ZERO else _BASE ** (b + 0.5))
                    break
        return out

    def reset(self) -> None:
        self.counts = [0, 0, 0, 0]
        self.hist = {}
        self.errors = {}
        self.lat_sum = self.wait_sum = 0.0
        self.wait_n = 0


class Business:
    """Shop-level counters for the open window (simulated shoppers, unscaled)."""

    __slots__ = (
        "checkout_attempts",
        "checkout_failures",
        "failed_sessions",
        "lost_revenue",
        "orders",
        "revenue",
        "sessions",
    )

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.sessions = self.orders = self.checkout_attempts = 0
        self.checkout_failures = self.failed_sessions = 0
        self.revenue = self.lost_revenue = 0.0


Gauge = Callable[[str], tuple[int, int]]
# (window start, the window's series rows, its business row), called as each window closes
WindowListener = Callable[[float, list[tuple[Any, ...]], tuple[Any, ...]], None]


class Metrics:
    """All series plus business counters; :meth:`close_window` turns them into rows."""

    def __init__(self, window: float, represents: int) -> None:
        self.window = window
        self.represents = represents
        self.series: dict[tuple[str, str], Series] = {}
        self.business = Business()
        self.rows: list[tuple[Any, ...]] = []
        self.business_rows: list[tuple[Any, ...]] = []
        self.error_rows: list[tuple[Any, ...]] = []
        self.listeners: list[WindowListener] = []

    def get(self, scope: str, name: str) -> Series:
        key = (scope, name)
        if key not in self.series:
            self.series[key] = Series(scope, name)
        return self.series[key]

    def close_window(self, t: float, gauge: Gauge) -> None:
        """Close the window that started at ``t``; ``gauge(component)`` gives (busy, queued)."""
        r = self.represents
        first = len(self.rows)
        for s in self.series.values():
            c = s.counts
            total = sum(c)
            p50, p95, p99 = s.quantiles((0.5, 0.95, 0.99))
            busy, queued = gauge(s.name) if s.scope == "component" else (0, 0)
            self.rows.append(
                (
                    t,
                    s.scope,
                    s.name,
                    total * r,
                    c[OK] * r,
                    c[ERROR] * r,
                    c[TIMEOUT] * r,
                    c[REJECTED] * r,
                    _r(p50),
                    _r(p95),
                    _r(p99),
                    _r(s.lat_sum / total if total else 0.0),
                    busy,
                    queued,
                    _r(s.wait_sum / s.wait_n if s.wait_n else 0.0),
                )
            )
            for cls in sorted(s.errors):
                self.error_rows.append((t, s.scope, s.name, cls, s.errors[cls] * r))
            s.reset()
        b = self.business
        self.business_rows.append(
            (
                t,
                b.sessions * r,
                b.orders * r,
                round(b.revenue * r, 2),
                b.checkout_attempts * r,
                b.checkout_failures * r,
                b.failed_sessions * r,
                round(b.lost_revenue * r, 2),
            )
        )
        b.reset()
        for listener in self.listeners:
            listener(t, self.rows[first:], self.business_rows[-1])


def _r(x: float) -> float:
    return round(x, 6)
