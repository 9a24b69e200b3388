"""The impact summary's error episode on hand-made metrics rows."""

from __future__ import annotations

from typing import Any

from sim.journal.summary import error_episode


def rows(series: dict[str, list[tuple[int, int]]]) -> list[tuple[Any, ...]]:
    """Endpoint rows from {endpoint: [(requests, failed) per 10 s window]}."""
    out = []
    for name, windows in series.items():
        for i, (n, bad) in enumerate(windows):
            out.append((i * 10.0, "endpoint", name, n, n - bad, bad, 0, 0, 0, 0, 0, 0, 0, 0, 0))
    return out


def test_quiet_endpoint_inside_an_outage_does_not_end_it() -> None:
    """A broken login that gets a failed request only now and then still counts until its last failure."""
    login = [(0, 0), (10, 10), (5, 5), (0, 0), (1, 1), (1, 1), (2, 0), (2, 0)]
    home = [(100, 0)] * 8
    assert error_episode(rows({"login": login, "home": home}), 0.02, 10.0) == (10.0, 60.0)


def test_one_unlucky_request_is_not_an_outage() -> None:
    """A single failure among many requests over the minute stays under the threshold."""
    home = [(100, 0), (100, 0), (100, 1), (100, 0), (100, 0)]
    assert error_episode(rows({"home": home}), 0.02, 10.0) == (None, None)


def test_outage_still_on_at_the_horizon_has_not_stopped() -> None:
    """When the last window still fails, `stopped` is None."""
    login = [(10, 0), (10, 10), (10, 10)]
    assert error_episode(rows({"login": login}), 0.02, 10.0) == (10.0, None)
