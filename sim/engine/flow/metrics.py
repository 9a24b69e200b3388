"""The flow engine's metrics: a window's expected per-call figures as arrays, closed into rows.

The request engine counts each call into a :class:`~sim.telemetry.metrics.Series`; the flow
engine adds whole profiles (expected figures per request, times the requests of a step) into
arrays — one row per series, the latency histogram on the same log-spaced buckets — and at
the window's end rounds the expected counts at random (so they add up over windows) and
writes the same rows :class:`~sim.telemetry.metrics.Metrics` writes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sim.telemetry.metrics import Series

BASE = 1.03  # as sim.telemetry.metrics: bucket b holds latencies in [BASE**b, BASE**(b+1))
K = 1.0 / math.log(BASE)
LOW = math.floor(math.log(1e-5) * K)  # 10 µs: faster calls share the first bucket
HIGH = math.floor(math.log(1e4) * K)  # 10⁴ s: slower share the last
BUCKETS = HIGH - LOW + 2  # column 0 holds zero latencies
SPREAD = (-1.2816, -0.5244, 0.0, 0.5244, 1.2816)  # deciles of a normal: 1/5 of the mass each
LATENCY_SIGMA = 0.5  # spread of a latency atom in the histograms (lognormal sigma)
_VALUES = np.concatenate(([0.0], BASE ** (np.arange(LOW, HIGH + 1) + 0.5)))


def bucket(latency: float) -> int:
    """The histogram column of ``latency`` (0 for zero)."""
    if latency <= 0:
        return 0
    b = math.floor(math.log(latency) * K)
    return min(max(b, LOW), HIGH) - LOW + 1


class Share:
    """What one request of an endpoint adds to the series it touches, in expectation.

    ``rows`` are indices into the engine's dense series; the histogram is kept sparse
    (coordinates and masses) because a profile touches few buckets.
    """

    __slots__ = ("counts", "errors", "expect", "hist", "lat", "rows", "wait")

    def __init__(self, size: int) -> None:
        self.counts = np.zeros((size, 4))
        self.expect = np.zeros(size)  # expected calls (endpoints: their counts are drawn)
        self.lat = np.zeros(size)
        self.wait = np.zeros((size, 2))  # (wait sum, calls served)
        self.hist: dict[tuple[int, int], float] = {}
        self.errors: dict[tuple[int, str], float] = {}
        self.rows: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def add_latencies(self, row: int, lat: dict[tuple[float, bool], float]) -> None:
        """Latency atoms ``(duration, spread?) → mass``: a lognormal spread unless exact."""
        hist = self.hist
        for (dur, spread), m in lat.items():
            self.lat[row] += m * dur
            if dur <= 0 or not spread:
                key = (row, bucket(dur))
                hist[key] = hist.get(key, 0.0) + m
                continue
            base = math.log(dur) - LATENCY_SIGMA**2 / 2.0
            share = m / len(SPREAD)
            for z in SPREAD:
                key = (row, bucket(math.exp(base + z * LATENCY_SIGMA)))
                hist[key] = hist.get(key, 0.0) + share

    def freeze(self) -> None:
        """Turn the histogram into arrays for :func:`numpy.add.at`."""
        keys = list(self.hist)
        self.rows = (
            np.array([k[0] for k in keys], dtype=np.intp),
            np.array([k[1] for k in keys], dtype=np.intp),
            np.array([self.hist[k] for k in keys]),
        )


class DenseWindow:
    """One window's figures for ``series`` (the components' and endpoints' own)."""

    def __init__(self, series: list[Series]) -> None:
        self.series = series
        self.index = {s: i for i, s in enumerate(series)}
        size = len(series)
        self.counts = np.zeros((size, 4))
        self.expected = np.zeros(size)  # expected calls (the drawn counts' expectation)
        self.lat = np.zeros(size)
        self.wait = np.zeros((size, 2))
        self.hist = np.zeros((size, BUCKETS))
        self.errors: dict[tuple[int, str], float] = {}

    def add(self, share: Share, n: float) -> None:
        """``n`` expected requests of ``share``'s endpoint."""
        self.counts += share.counts * n
        self.expected += share.expect * n
        self.lat += share.lat * n
        self.wait += share.wait * n
        if share.rows is None:
            share.freeze()
        assert share.rows is not None
        r, c, m = share.rows
        np.add.at(self.hist, (r, c), m * n)
        for key, mass in share.errors.items():
            self.errors[key] = self.errors.get(key, 0.0) + mass * n

    def close(
        self,
        t: float,
        gauge: Any,
        rng: np.random.Generator,
    ) -> dict[Series, tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
        """Rows (and error rows) for every series; resets the window."""
        whole = np.floor(self.counts)
        counts = (whole + (rng.random(whole.shape) < self.counts - whole)).astype(np.int64)
        totals = counts.sum(axis=1)
        used = np.flatnonzero(self.hist.any(axis=0))  # the few buckets this window touched
        quantiles = [np.zeros(len(self.series))] * 3
        if len(used):
            hist = self.hist[:, used]
            mass = hist.sum(axis=1)
            cum = np.cumsum(hist, axis=1)
            values = _VALUES[used]
            quantiles = [
                np.where(
                    mass > 0, values[np.argmax(cum >= (q * mass)[:, None] - 1e-12, axis=1)], 0.0
                )
                for q in (0.5, 0.95, 0.99)
            ]
        p50, p95, p99 = (np.round(x, 6).tolist() for x in quantiles)
        expected = self.expected
        denom = np.where(expected > 0, expected, 1.0)
        mean = np.round(np.where(expected > 0, self.lat / denom, 0.0), 6).tolist()
        served = self.wait[:, 1]
        wait = np.round(np.where(served > 0, self.wait[:, 0] / np.maximum(served, 1e-12), 0.0), 6)
        wait_l = wait.tolist()
        errors: dict[int, list[tuple[str, int]]] = {}
        for (at_row, cls), x in sorted(self.errors.items()):
            n = math.floor(x)
            n += 1 if rng.random() < x - n else 0
            if n:
                errors.setdefault(at_row, []).append((cls, n))
        ready: dict[Series, tuple[tuple[Any, ...], list[tuple[Any, ...]]]] = {}
        counts_l = counts.tolist()
        for i, s in enumerate(self.series):
            busy, queued = gauge(s.name) if s.scope == "component" else (0, 0)
            r = s.scale
            c = counts_l[i]
            total = int(totals[i])
            if not total:
                row = (t, s.scope, s.name, 0, 0, 0, 0, 0, 0.0, 0.0, 0.0, 0.0, busy, queued, 0.0)
            else:
                row = (
                    t,
                    s.scope,
                    s.name,
                    total * r,
                    c[0] * r,
                    c[1] * r,
                    c[2] * r,
                    c[3] * r,
                    p50[i],
                    p95[i],
                    p99[i],
                    mean[i],
                    busy,
                    queued,
                    wait_l[i],
                )
            ready[s] = (row, [(t, s.scope, s.name, cls, n * r) for cls, n in errors.get(i, [])])
        self.counts[:] = 0.0
        self.expected[:] = 0.0
        self.lat[:] = 0.0
        self.wait[:] = 0.0
        if len(used):
            self.hist[:, used] = 0.0
        self.errors = {}
        return ready


__all__ = ["BUCKETS", "DenseWindow", "Share", "bucket"]
