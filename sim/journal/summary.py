"""The impact summary of a run, computed from its metrics rows (pure functions).

The rows are read once, in time order (as the metrics close them), and only the last minute
of each endpoint is held on the way, so a summary of a month-long run, whose rows are read
back from disk, needs no more memory than one of an hour.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

from sim.telemetry.metrics import BUSINESS_COLUMNS, SERIES_COLUMNS

_S = {name: i for i, name in enumerate(SERIES_COLUMNS)}
_B = {name: i for i, name in enumerate(BUSINESS_COLUMNS)}


class _Scan:
    """One pass over a run's series rows: endpoint totals, the worst window, and the error
    episode.

    A window counts as failing when an endpoint has failures in it *and* that endpoint's
    failed share over the last ``smooth`` seconds is above ``threshold``. Judging each endpoint
    on its own keeps a broken login visible after most shoppers have stopped trying to log in;
    the rolling minute keeps a single unlucky request from counting. Each endpoint's rows must
    come in time order, and for the worst window each window's rows together, as the metrics
    close them; only the last minute of each endpoint is held.
    """

    def __init__(self, threshold: float, window: float, smooth: float) -> None:
        self.threshold = threshold
        self.window = window
        self.smooth = smooth
        self.span = max(1, round(smooth / window))
        self.recent: dict[str, deque[tuple[float, int, int]]] = {}
        self.first: float | None = None  # the first and last failing windows
        self.last: float | None = None
        self.last_t: float | None = None  # the run's last window, whatever its scope
        self.requests = self.failed = 0
        self.peak = 0.0  # the worst window's failed share over all endpoints
        self._at: float | None = None  # the window being added up, and its totals
        self._n = self._bad = 0

    def add(self, row: Sequence[Any]) -> None:
        t = row[_S["t"]]
        self.last_t = t if self.last_t is None else max(self.last_t, t)
        if row[_S["scope"]] != "endpoint":
            return
        requests = row[_S["requests"]]
        bad = row[_S["errors"]] + row[_S["timeouts"]] + row[_S["rejected"]]
        self.requests += requests
        self.failed += bad
        if t != self._at:
            self.finish()
            self._at = t
        self._n += requests
        self._bad += bad
        series = self.recent.get(row[_S["name"]])
        if series is None:
            series = self.recent[row[_S["name"]]] = deque(maxlen=self.span)
        series.append((t, requests, bad))
        if not bad:
            return
        minute = [s for s in series if s[0] > t - self.smooth]
        n = sum(s[1] for s in minute)
        if n and sum(s[2] for s in minute) / n > self.threshold:
            self.first = t if self.first is None else min(self.first, t)
            self.last = t if self.last is None else max(self.last, t)

    def finish(self) -> None:
        """Count the window being added up into the worst one (call after the last row)."""
        if self._n:
            self.peak = max(self.peak, self._bad / self._n)
        self._n = self._bad = 0

    def episode(self) -> tuple[float | None, float | None]:
        """``(started, stopped)``: the start of the first failing window and the end of the
        last one — or ``None`` when the run's last window is still failing."""
        if self.first is None or self.last is None:
            return None, None
        return self.first, None if self.last == self.last_t else self.last + self.window


def _scan(
    rows: Iterable[Sequence[Any]], threshold: float, window: float, smooth: float = 60.0
) -> _Scan:
    scan = _Scan(threshold, window, smooth)
    for row in rows:
        scan.add(row)
    scan.finish()
    return scan


def error_episode(
    rows: Iterable[Sequence[Any]], threshold: float, window: float, smooth: float = 60.0
) -> tuple[float | None, float | None]:
    """When shoppers first saw errors, and when they last did (see :class:`_Scan`)."""
    return _scan(rows, threshold, window, smooth).episode()


def summarise(
    rows: Iterable[Sequence[Any]],
    business: Sequence[Sequence[Any]],
    threshold: float,
    window: float,
) -> dict[str, Any]:
    """Totals and the error episode of a run, from its series rows (read once, in time
    order) and its business rows."""
    scan = _scan(rows, threshold, window)
    requests, failed = scan.requests, scan.failed
    started, stopped = scan.episode()

    def total(col: str) -> Any:
        return sum(r[_B[col]] for r in business)

    return {
        "requests": requests,
        "failed_requests": failed,
        "error_ratio": round(failed / requests, 6) if requests else 0.0,
        "peak_error_ratio": round(scan.peak, 6),
        "errors_started": started,
        "errors_stopped": stopped,
        "sessions": total("sessions"),
        "failed_sessions": total("failed_sessions"),
        "orders": total("orders"),
        "revenue": round(total("revenue"), 2),
        "checkout_attempts": total("checkout_attempts"),
        "failed_checkouts": total("checkout_failures"),
        "lost_revenue": round(total("lost_revenue"), 2),
    }
