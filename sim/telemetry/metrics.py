"""Windowed metrics: counters and log-bucketed latency histograms, closed into rows per window.

Memory never grows with the number of requests: each series holds counters and a histogram
for the open window only. Nor, past :data:`INLINE_ROWS`, with the number of windows: the
closed rows are :class:`~sim.telemetry.tables.Rows`, and once a run has more series rows in
memory than that, the older half of every table moves to disk (whole windows) and is read
back from there on demand.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Mapping
from operator import itemgetter
from typing import Any

from sim.telemetry.tables import Rows, Spool

OK, ERROR, TIMEOUT, REJECTED = 0, 1, 2, 3

_BASE = 1.03  # histogram bucket width: quantiles within ±1.5 %
# A latency's histogram bucket is floor(log(latency) * LOG_BUCKETS); 0 s goes to ZERO_BUCKET.
LOG_BUCKETS = 1.0 / math.log(_BASE)
ZERO_BUCKET = -(10**9)
_log, _floor = math.log, math.floor

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
# Each column's type, a letter per column: d a float, i an integer, s a string.
SERIES_KINDS = "dssiiiiiddddiid"
BUSINESS_KINDS = "diidiiid"
ERROR_KINDS = "dsssi"

# Series rows a run keeps in memory. Up to this many (the 2 h seed run has 22,310) nothing
# goes to disk and the journal holds the tables inline; past it, the older half of every
# table is spilled, so that memory holds at most this many series rows — at least the last
# four hours at the seed's 10 s windows, more than any responder looks back.
INLINE_ROWS = 100_000


class Series:
    """Counters of one component or endpoint for the open window."""

    __slots__ = (
        "counts",
        "errors",
        "hist",
        "lat_sum",
        "name",
        "scale",
        "scope",
        "total",
        "wait_n",
        "wait_sum",
    )

    def __init__(self, scope: str, name: str, scale: int = 1) -> None:
        self.scope = scope
        self.name = name
        self.scale = scale  # real requests per simulated one
        self.counts = [0, 0, 0, 0]
        self.hist: dict[int, int] = {}
        self.errors: dict[str, int] = {}
        self.lat_sum = 0.0
        self.wait_sum = 0.0
        self.wait_n = 0
        self.total = 0  # calls counted in the windows closed so far

    def record(self, outcome: int, latency: float, error_class: str | None = None) -> None:
        self.counts[outcome] += 1
        self.lat_sum += latency
        b = _floor(_log(latency) * LOG_BUCKETS) if latency > 0 else ZERO_BUCKET
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
        ranks = iter(sorted(qs))
        rank = next(ranks) * total
        seen = 0
        for b, n in sorted(self.hist.items()):  # one pass for all quantiles
            seen += n
            while seen >= rank:
                out.append(0.0 if b == ZERO_BUCKET else _BASE ** (b + 0.5))
                q = next(ranks, None)
                if q is None:
                    return out
                rank = q * total
        return out

    def reset(self) -> None:
        c = self.counts
        self.total += c[0] + c[1] + c[2] + c[3]
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
        self.rows = Rows("series", SERIES_COLUMNS, SERIES_KINDS)
        self.business_rows = Rows("business", BUSINESS_COLUMNS, BUSINESS_KINDS)
        self.error_rows = Rows("errors", ERROR_COLUMNS, ERROR_KINDS)
        self.listeners: list[WindowListener] = []
        self.spool: Spool | None = None  # where spilled rows go, once some have

    @property
    def tables(self) -> dict[str, Rows]:
        """The three tables by the names the journal gives them."""
        return {t.name: t for t in (self.rows, self.business_rows, self.error_rows)}

    def get(self, scope: str, name: str) -> Series:
        key = (scope, name)
        if key not in self.series:
            # Probes are synthetic checks, not shoppers: they are counted as they are.
            scale = 1 if scope in ("probe", "synthetic") else self.represents
            self.series[key] = Series(scope, name, scale)
        return self.series[key]

    def close_window(
        self,
        t: float,
        gauge: Gauge,
        ready: Mapping[Series, tuple[tuple[Any, ...], list[tuple[Any, ...]]]] | None = None,
    ) -> None:
        """Close the window that started at ``t``; ``gauge(component)`` gives (busy, queued).

        ``ready`` holds rows (and error rows) an engine made itself for some series (the flow
        engine keeps its series as arrays); they take those series' places in the order.
        """
        first = len(self.rows)
        rows = self.rows.recent
        for s in self.series.values():
            if ready is not None and s in ready:
                row, errors = ready[s]
                rows.append(row)
                self.error_rows.extend(errors)
                continue
            busy, queued = gauge(s.name) if s.scope == "component" else (0, 0)
            c = s.counts
            total = c[0] + c[1] + c[2] + c[3]
            if not total and not s.wait_n:  # an idle window: nothing to reset
                rows.append(
                    (t, s.scope, s.name, 0, 0, 0, 0, 0, 0.0, 0.0, 0.0, 0.0, busy, queued, 0.0)
                )
                continue
            r = s.scale
            p50, p95, p99 = s.quantiles((0.5, 0.95, 0.99))
            mean = s.lat_sum / total if total else 0.0
            wait = s.wait_sum / s.wait_n if s.wait_n else 0.0
            rows.append(
                (
                    t,
                    s.scope,
                    s.name,
                    total * r,
                    c[OK] * r,
                    c[ERROR] * r,
                    c[TIMEOUT] * r,
                    c[REJECTED] * r,
                    round(p50, 6),
                    round(p95, 6),
                    round(p99, 6),
                    round(mean, 6),
                    busy,
                    queued,
                    round(wait, 6),
                )
            )
            for cls in sorted(s.errors):
                self.error_rows.append((t, s.scope, s.name, cls, s.errors[cls] * r))
            s.reset()
        r = self.represents
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
        if len(self.rows.recent) > INLINE_ROWS:
            self._spill()

    def seal(self) -> None:
        """Gather each table of a run that spilled into one Parquet file in its spool
        (:meth:`Rows.seal <sim.telemetry.tables.Rows.seal>`); call once, after the last window."""
        if self.spool is not None:
            for table in self.tables.values():
                table.seal(self.spool)

    def release(self) -> None:
        """Remove the spilled rows from disk now, when nothing is going to read the tables."""
        if self.spool is not None:
            self.spool.remove()

    def _spill(self) -> None:
        """Move the windows that started before the middle of the series rows in memory to
        disk, in every table alike."""
        if self.spool is None:
            self.spool = Spool()
        recent = self.rows.recent
        cut = recent[len(recent) // 2][0]
        for table in self.tables.values():
            table.spill(bisect.bisect_left(table.recent, cut, key=_START), self.spool)


_START = itemgetter(0)
