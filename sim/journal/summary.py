"""The impact summary of a run, computed from its metrics rows (pure functions)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sim.telemetry.metrics import BUSINESS_COLUMNS, SERIES_COLUMNS

_S = {name: i for i, name in enumerate(SERIES_COLUMNS)}
_B = {name: i for i, name in enumerate(BUSINESS_COLUMNS)}


def error_ratio_by_window(rows: Sequence[Sequence[Any]]) -> list[tuple[float, int, int]]:
    """``(window start, requests, failed)`` over all endpoints, in time order."""
    by_t: dict[float, list[int]] = {}
    for row in rows:
        if row[_S["scope"]] != "endpoint":
            continue
        acc = by_t.setdefault(row[_S["t"]], [0, 0])
        acc[0] += row[_S["requests"]]
        acc[1] += row[_S["errors"]] + row[_S["timeouts"]] + row[_S["rejected"]]
    return [(t, n, bad) for t, (n, bad) in sorted(by_t.items())]


def error_episode(
    windows: list[tuple[float, int, int]], threshold: float, window: float
) -> tuple[float | None, float | None, float]:
    """When user-facing errors first rose above ``threshold``, when they last fell back, the peak.

    ``stopped`` is ``None`` while errors are still above the threshold in the last window.
    """
    started = stopped = None
    peak = 0.0
    for t, n, bad in windows:
        ratio = bad / n if n else 0.0
        peak = max(peak, ratio)
        if ratio > threshold:
            if started is None:
                started = t
            stopped = None
        elif started is not None and stopped is None:
            stopped = t
    return started, stopped, peak


def summarise(
    rows: Sequence[Sequence[Any]],
    business: Sequence[Sequence[Any]],
    threshold: float,
    window: float,
) -> dict[str, Any]:
    """Totals and the error episode of a run."""
    windows = error_ratio_by_window(rows)
    started, stopped, peak = error_episode(windows, threshold, window)
    requests = sum(n for _, n, _ in windows)
    failed = sum(bad for _, _, bad in windows)

    def total(col: str) -> Any:
        return sum(r[_B[col]] for r in business)

    return {
        "requests": requests,
        "failed_requests": failed,
        "error_ratio": round(failed / requests, 6) if requests else 0.0,
        "peak_error_ratio": round(peak, 6),
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
