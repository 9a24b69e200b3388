"""The timeline's lines: metrics windows grouped into bins, per endpoint and for the shop."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


def bin_width(window: float, requested: float | None) -> float:
    """Bins are whole windows: the requested width rounded, or the first ≥ 60 s."""
    if requested is not None:
        if requested <= 0:
            raise ValueError(f"bin_seconds must be positive, got {requested}")
        return max(window, window * round(requested / window))
    return window * max(1, math.ceil(60.0 / window - 1e-9))


def endpoint_series(
    frame: pd.DataFrame, binw: float
) -> tuple[list[str], dict[str, pd.Series], dict[str, pd.Series]]:
    """Per endpoint: error ratio in % and worst p95 in ms, indexed by bin start (seconds).

    Bins without requests are NaN (a gap in the line), not 0 %.
    """
    ep = frame[frame["scope"] == "endpoint"].copy()
    ep["bin"] = (ep["t"] // binw) * binw
    ep["bad"] = ep["errors"] + ep["timeouts"] + ep["rejected"]
    ep["p95_ms"] = ep["p95"].where(ep["requests"] > 0) * 1000.0
    names = [str(n) for n in dict.fromkeys(ep["name"])]
    ratio: dict[str, pd.Series] = {}
    p95: dict[str, pd.Series] = {}
    for name, rows in ep.groupby("name", sort=False):
        g = rows.groupby("bin")
        sums = g[["requests", "bad"]].sum()
        req = sums["requests"].where(sums["requests"] > 0)
        ratio[str(name)] = 100.0 * sums["bad"] / req
        p95[str(name)] = g["p95_ms"].max()
    return names, ratio, p95


def business_series(frame: pd.DataFrame, binw: float, window: float) -> dict[str, pd.Series]:
    """Business counts per minute, per bin (a partial last bin is scaled by its real length)."""
    biz = frame.copy()
    biz["bin"] = (biz["t"] // binw) * binw
    g = biz.groupby("bin")
    covered = g["t"].count() * window
    return {
        column: g[column].sum() * 60.0 / covered
        for column in ("orders", "checkout_failures", "failed_sessions")
    }


def steps(series: pd.Series, binw: float, when: Any) -> tuple[list[float], list[float]]:
    """x (date numbers) and y for a steps-post line, closed at the end of the last bin."""
    xs = [when(float(t)) for t in series.index]
    ys = [float(v) for v in series.to_numpy()]
    if xs:
        xs.append(when(float(series.index[-1]) + binw))
        ys.append(ys[-1])
    return xs, ys
