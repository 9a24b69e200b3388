"""The timeline's lines: metrics windows grouped into bins, per endpoint and for the shop."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.journal.record import Table


def bin_width(window: float, requested: float | None) -> float:
    """Bins are whole windows: the requested width rounded, or the first ≥ 60 s."""
    if requested is not None:
        if requested <= 0:
            raise ValueError(f"bin_seconds must be positive, got {requested}")
        return max(window, window * round(requested / window))
    return window * max(1, math.ceil(60.0 / window - 1e-9))


# A line: its value per bin (seconds since the start), bins in ascending order; NaN is a gap.
Line = dict[float, float]
NAN = float("nan")


def endpoint_series(
    table: Table, binw: float
) -> tuple[list[str], dict[str, Line], dict[str, Line]]:
    """Per endpoint: error ratio in % and worst p95 in ms, per bin (seconds).

    ``table`` is the journal's metrics table (:meth:`~sim.journal.record.Journal.table`).
    Bins without requests are NaN (a gap in the line), not 0 %.
    """
    columns, rows = table
    at = {c: i for i, c in enumerate(columns)}
    i_scope, i_name, i_t, i_req = at["scope"], at["name"], at["t"], at["requests"]
    i_err, i_to, i_rej, i_p95 = at["errors"], at["timeouts"], at["rejected"], at["p95"]
    counts: dict[str, dict[float, list[float]]] = {}  # name → bin → [requests, bad]
    worst: dict[str, dict[float, float]] = {}  # name → bin → worst p95 (windows with requests)
    for row in rows:
        if row[i_scope] != "endpoint":
            continue
        name = str(row[i_name])
        b = (row[i_t] // binw) * binw
        slot = counts.setdefault(name, {}).setdefault(b, [0.0, 0.0])
        requests = row[i_req]
        slot[0] += requests
        slot[1] += row[i_err] + row[i_to] + row[i_rej]
        bins = worst.setdefault(name, {})
        p95 = row[i_p95]
        if requests > 0 and p95 is not None and not math.isnan(p95):
            bins[b] = max(bins.get(b, -math.inf), p95 * 1000.0)
        else:
            bins.setdefault(b, -math.inf)
    ratio: dict[str, Line] = {}
    latency: dict[str, Line] = {}
    for name, per_bin in counts.items():
        ratio[name] = {
            b: 100.0 * c[1] / c[0] if c[0] > 0 else NAN for b, c in sorted(per_bin.items())
        }
        latency[name] = {b: v if v > -math.inf else NAN for b, v in sorted(worst[name].items())}
    return list(counts), ratio, latency


def business_series(table: Table, binw: float, window: float) -> dict[str, Line]:
    """Business counts per minute, per bin (a partial last bin is scaled by its real length)."""
    columns, rows = table
    at = {c: i for i, c in enumerate(columns)}
    names = ("orders", "checkout_failures", "failed_sessions")
    picks = [at[c] for c in names]
    i_t = at["t"]
    sums: dict[float, list[float]] = {}  # bin → [windows, then one sum per column]
    for row in rows:
        b = (row[i_t] // binw) * binw
        slot = sums.setdefault(b, [0.0] * (len(names) + 1))
        slot[0] += 1
        for k, i in enumerate(picks, 1):
            slot[k] += row[i]
    ordered = sorted(sums.items())
    return {
        column: {b: slot[k] * 60.0 / (slot[0] * window) for b, slot in ordered}
        for k, column in enumerate(names, 1)
    }


def steps(line: Line, binw: float, when: Any) -> tuple[list[float], list[float]]:
    """x (date numbers) and y for a steps-post line, closed at the end of the last bin."""
    xs = [when(float(t)) for t in line]
    ys = [float(v) for v in line.values()]
    if xs:
        xs.append(when(float(next(reversed(line))) + binw))
        ys.append(ys[-1])
    return xs, ys
