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
    rows: Sequence[Sequence[Any]], threshold: float, window: float, smooth: float = 60.0
) -> tuple[float | None, float | None]:
    """When shoppers first saw errors, and when they last did.

    A window counts as failing when an endpoint has failures in it *and* that endpoint's
    failed share over the last ``smooth`` seconds is above ``threshold``. Judging each endpoint
    on its own keeps a broken login visible after most shoppers have stopped trying to log in;
    the rolling minute keeps a single unlucky request from counting. ``started`` is the start
    of the first failing window, ``stopped`` the end of the last one — or ``None`` when the
    run's last window is still failing.
    """
    per_endpoint: dict[str, list[tuple[float, int, int]]] = {}
    last_t = None
    for row in rows:
        t = row[_S["t"]]
        last_t = t if last_t is None else max(last_t, t)
        if row[_S["scope"]] != "endpoint":
            continue
        bad = row[_S["errors"]] + row[_S["timeouts"]] + row[_S["rejected"]]
        per_endpoint.setdefault(row[_S["name"]], []).append((t, row[_S["requests"]], bad))
    span = max(1, round(smooth / window))
    failing: set[float] = set()
    for series in per_endpoint.values():
        series.sort()
        for i, (t, _, bad) in enumerate(series):
            if not bad:
                continue
            recent = [s for s in series[max(0, i - span + 1) : i + 1] if s[0] > t - smooth]
            n = sum(s[1] for s in recent)
            if n and sum(s[2] for s in recent) / n > threshold:
                failing.add(t)
    if not failing:
        return None, None
    first, last = min(failing), max(failing)
    return first, None if last == last_t else last + window


def summarise(
    rows: Sequence[Sequence[Any]],
    business: Sequence[Sequence[Any]],
    threshold: float,
    window: float,
) -> dict[str, Any]:
    """Totals and the error episode of a run."""
    windows = error_ratio_by_window(rows)
    started, stopped = error_episode(rows, threshold, window)
    peak = max((bad / n for _, n, bad in windows if n), default=0.0)
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
