"""Durations in scenario files: ``250ms``, ``90s``, ``5m``, ``1h30m``, or a plain number of seconds."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sim.scenario.errors import describe
from sim.scenario.limits import DAY, MAX_DURATION

_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_WHOLE = re.compile(r"^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$")


def parse_duration(value: object) -> float:
    """Return ``value`` as seconds; raise ``ValueError`` with the accepted forms otherwise.

    A duration is at most :data:`~sim.scenario.limits.MAX_DURATION` (366 days).
    """
    if isinstance(value, bool):
        raise ValueError(
            f"expected a duration such as 250ms, 90s, 5m or 1h30m, got {str(value).lower()}"
        )
    if isinstance(value, int | float):
        if value != value or value < 0:  # NaN, or negative
            raise ValueError(f"expected a duration of zero or more, got {value!r}")
        return _at_most_a_year(value, value)
    if isinstance(value, str):
        text = value.strip().replace(" ", "")
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            return _at_most_a_year(float(text), value)  # seconds, as on the command line
        if _WHOLE.match(text):
            seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(text))
            return _at_most_a_year(seconds, value)
    raise ValueError(f"expected a duration such as 250ms, 90s, 5m or 1h30m, got {describe(value)}")


def _at_most_a_year(seconds: float, given: object) -> float:
    """``seconds`` as a float, refused above :data:`MAX_DURATION` (compared before converting:
    a whole number of 400 digits has no float, and a decimal one reads as infinity)."""
    if seconds > MAX_DURATION:
        raise ValueError(
            f"expected a duration of at most {span(MAX_DURATION)}, got {describe(given)}"
        )
    return float(seconds)


def span(seconds: float) -> str:
    """A bound in a message: :func:`format_duration`, with whole days spelt out
    (``720h (30 days)``)."""
    text = format_duration(seconds)
    days = seconds / DAY
    return f"{text} ({days:g} days)" if days >= 2 and days == int(days) else text


def format_duration(seconds: float) -> str:
    """Render seconds the way scenario files write them (``1h30m``, ``45s``, ``250ms``)."""
    if seconds < 1 and seconds != 0:
        return f"{seconds * 1000:.0f}ms"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{secs}s" if secs else "",
    ]
    return "".join(parts) or "0s"


def wall_clock(start: datetime, t: float, seconds: bool = True) -> str:
    """Simulated time ``t`` on the scenario's wall clock: ``08:41:40`` (``08:41`` without
    ``seconds``), to the nearest second."""
    at = start + timedelta(seconds=round(t))
    return f"{at:%H:%M:%S}" if seconds else f"{at:%H:%M}"
