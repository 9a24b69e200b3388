"""The impact summary of a run, computed from its metrics rows (pure functions).

The rows are read once, in time order (as the metrics close them), and only the last minute
of each endpoint is held on the way, so a summary of a month-long run, whose rows are read
back from disk, needs no more memory than one of an hour.
"""

from __future__ import annotations

from bisect import bisect_right
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

    def __init__(
        self, threshold: float, window: float, smooth: float, cuts: Sequence[float] = ()
    ) -> None:
        self.threshold = threshold
        # More than one incident: where each after the first began. The failing windows of
        # each stretch are also kept apart (the episode of each incident).
        self.cuts = list(cuts)
        self.stretches: list[list[float]] = []  # [first, last] failing window of each stretch
        if self.cuts:
            self.stretches = [[] for _ in range(len(self.cuts) + 1)]
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
            if self.cuts:
                stretch = self.stretches[bisect_right(self.cuts, t)]
                if stretch:
                    stretch[0], stretch[1] = min(stretch[0], t), max(stretch[1], t)
                else:
                    stretch.extend((t, t))

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

    def episodes(self) -> list[tuple[float | None, float | None]]:
        """The episode of each stretch between the cuts, as :meth:`episode` says it of the
        run: a stretch whose errors go on into the next one's (or to the run's end) has not
        stopped — its impact ran into the next incident's."""
        out: list[tuple[float | None, float | None]] = []
        ends = [*self.cuts, None]
        for stretch, end in zip(self.stretches, ends, strict=True):
            if not stretch:
                out.append((None, None))
                continue
            first, last = stretch
            stopped = last + self.window
            still = last == self.last_t or (end is not None and stopped >= end)
            out.append((first, None if still else stopped))
        return out


def _scan(
    rows: Iterable[Sequence[Any]],
    threshold: float,
    window: float,
    smooth: float = 60.0,
    cuts: Sequence[float] = (),
) -> _Scan:
    scan = _Scan(threshold, window, smooth, cuts)
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
    cuts: Sequence[float] = (),
) -> dict[str, Any]:
    """Totals and the error episode of a run, from its series rows (read once, in time
    order) and its business rows. With ``cuts`` (where each incident after the first began)
    also ``episodes``: each incident's own ``(started, stopped)``."""
    scan = _scan(rows, threshold, window, cuts=cuts)
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
    } | ({"episodes": scan.episodes()} if cuts else {})
