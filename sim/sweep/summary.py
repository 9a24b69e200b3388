"""Summaries of a sweep: per variant, how often and how fast, what it cost, with 95 % CIs.

The rules (docs/sweep.md#summary-columns):

- The time statistics and the shares are over the runs **with user-facing impact**
  (``had_impact``); runs without impact are counted in ``runs`` but have nothing to detect
  or resolve.
- A run that did not reach a milestone within the horizon counts as **+inf** for it. So the
  median time to resolve is +inf (printed "unresolved") when more than half of the runs were
  not resolved, and the mean is +inf as soon as one was not; CI bounds may be +inf too.
  The median is the lower median: the time by which at least half of the runs got there.
- Shares come with a Wilson score interval; medians and means with a percentile bootstrap
  (2,000 resamples by default) whose random stream is seeded from ``seed``, the group and
  the column, so a summary is the same every time and whatever else is in the table.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

Z95 = 1.959963984540054
SHARES = ("detected", "mitigated", "resolved")
TIMES = ("time_to_detect", "time_to_mitigate", "time_to_resolve")
COSTS = ("failed_checkouts", "lost_revenue", "score")
RESAMPLES = 2000
MEDIAN = ("median", "median_lo", "median_hi")


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float, float]:
    """The share ``successes / n`` and its Wilson score interval (NaNs when ``n`` is 0)."""
    if n == 0:
        return math.nan, math.nan, math.nan
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return p, max(0.0, centre - half), min(1.0, centre + half)


def lower_median(values: np.ndarray[Any, Any], axis: int | None = None) -> Any:
    """The smallest value with at least half of the values at or below it (+inf-safe)."""
    import numpy as np

    return np.quantile(values, 0.5, axis=axis, method="inverted_cdf")


def bootstrap(
    values: np.ndarray[Any, Any], rng: np.random.Generator, resamples: int = RESAMPLES
) -> dict[str, float]:
    """Median and mean of ``values`` with percentile-bootstrap 95 % intervals.

    Bounds are order statistics of the resampled estimates (no interpolation), so +inf in
    the data gives +inf bounds, never NaN.
    """
    import numpy as np

    n = len(values)
    if n == 0:
        return dict.fromkeys(
            ("median", "median_lo", "median_hi", "mean", "mean_lo", "mean_hi"), math.nan
        )
    samples = values[rng.integers(0, n, size=(resamples, n))]
    medians = lower_median(samples, axis=1)
    means = samples.mean(axis=1)
    q = np.array([0.025, 0.975])
    m_lo, m_hi = np.quantile(medians, q, method="inverted_cdf")
    a_lo, a_hi = np.quantile(means, q, method="inverted_cdf")
    return {
        "median": float(lower_median(values)),
        "median_lo": float(m_lo),
        "median_hi": float(m_hi),
        "mean": float(values.mean()),
        "mean_lo": float(a_lo),
        "mean_hi": float(a_hi),
    }


def _rng(seed: int, group: Any, column: str) -> np.random.Generator:
    import numpy as np

    salt = zlib.crc32(f"{group!r}\0{column}".encode())
    return np.random.default_rng(np.random.SeedSequence([seed, salt]))


def summarise(
    df: pd.DataFrame,
    by: str | Sequence[str] = "variant",
    *,
    seed: int = 0,
    resamples: int = RESAMPLES,
) -> pd.DataFrame:
    """One row per group of ``df`` (a :func:`sim.sweep` table): runs, shares, times, costs.

    Columns, in order: the ``by`` column(s); for ``by="variant"`` the varied keys; ``runs``,
    ``impact_runs``; for detected, mitigated, resolved: ``<x>_runs``, ``<x>_share``,
    ``<x>_share_lo``, ``<x>_share_hi``; for time_to_detect, time_to_mitigate,
    time_to_resolve (seconds): ``<t>_median``, ``<t>_median_lo``, ``<t>_median_hi``,
    ``<t>_mean``, ``<t>_mean_lo``, ``<t>_mean_hi``; for failed_checkouts, lost_revenue and
    score (all runs): ``<c>_median``, ``<c>_median_lo``, ``<c>_median_hi``. Groups keep
    their order in ``df``.
    """
    import numpy as np
    import pandas as pd

    keys = [by] if isinstance(by, str) else list(by)
    missing = [k for k in keys if k not in df.columns]
    if missing:
        raise KeyError(f"cannot group by {missing[0]!r}: no such column")
    varied = list((df.attrs.get("vary") or {}).keys()) if keys == ["variant"] else []
    varied = [k for k in varied if k in df.columns]
    records: list[dict[str, Any]] = []
    for group, part in df.groupby(keys, sort=False, observed=True):
        label = group if isinstance(group, tuple) else (group,)
        rec: dict[str, Any] = dict(zip(keys, label, strict=True))
        for k in varied:
            rec[k] = part[k].iloc[0]
        hit = part[part["had_impact"].astype(bool)]
        rec["runs"] = len(part)
        rec["impact_runs"] = len(hit)
        for share in SHARES:
            k = int(hit[share].astype(bool).sum())
            p, lo, hi = wilson(k, len(hit))
            rec[f"{share}_runs"] = k
            rec[f"{share}_share"], rec[f"{share}_share_lo"], rec[f"{share}_share_hi"] = p, lo, hi
        for col in TIMES:
            values = hit[col].to_numpy(dtype=float, na_value=np.nan)
            values = np.where(np.isnan(values), np.inf, values)
            stats = bootstrap(values, _rng(seed, label, col), resamples)
            rec.update({f"{col}_{name}": v for name, v in stats.items()})
        for col in COSTS:
            values = part[col].to_numpy(dtype=float, na_value=np.nan)
            values = values[~np.isnan(values)]
            stats = bootstrap(values, _rng(seed, label, col), resamples)
            rec.update({f"{col}_{name}": stats[name] for name in MEDIAN})
        records.append(rec)
    out = pd.DataFrame.from_records(records)
    out.attrs.update(df.attrs)
    out.attrs["summary"] = {"by": keys, "seed": seed, "resamples": resamples, "confidence": 0.95}
    return out
