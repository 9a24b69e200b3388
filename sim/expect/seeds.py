"""Seed lists as people write them: ``1-10``, ``3,5,8``, ``1-3,7``, or a count (5 → 1..5)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

MAX_SEEDS = 10_000  # as sim.scenario.schema.MAX_SEEDS, kept here so importing this stays cheap
_SEED_PART = re.compile(r"^(\d+)(?:-(\d+))?$")


def parse_seeds(spec: str) -> tuple[int, ...]:
    """``"1-10"``, ``"3,5,8"`` or ``"1-3,7"`` → the seeds, in the order given, once each."""
    seeds: list[int] = []
    for part in spec.replace(" ", "").split(","):
        match = _SEED_PART.match(part)
        if not match:
            raise ValueError(f"expected seeds such as 1-10 or 3,5,8, got {spec!r}")
        first = int(match[1])
        last = int(match[2]) if match[2] is not None else first
        if last < first:
            raise ValueError(f"expected a range from low to high such as 1-10, got {part!r}")
        if last - first >= MAX_SEEDS:
            raise ValueError(f"at most {MAX_SEEDS} seeds, got {part!r}")
        seeds.extend(s for s in range(first, last + 1) if s not in seeds)
    return tuple(seeds)


def format_seeds(seeds: Sequence[int]) -> str:
    """The seeds as ``1-5`` or ``3,5,8`` (runs of consecutive seeds as ranges)."""
    parts: list[str] = []
    i = 0
    while i < len(seeds):
        j = i
        while j + 1 < len(seeds) and seeds[j + 1] == seeds[j] + 1:
            j += 1
        parts.append(f"{seeds[i]}-{seeds[j]}" if j - i >= 2 else str(seeds[i]))
        if j - i == 1:
            parts.append(str(seeds[j]))
        i = j + 1
    return ",".join(parts)


def as_seeds(value: Any, what: str) -> tuple[int, ...]:
    """Seeds given in code: a list, a count (5 → 1..5) or a spec string ("1-10"); ``what``
    names where they came from in the error message."""
    if isinstance(value, bool):
        raise ValueError(f"{what}: expected a list of seeds, a count or 1-10, got {value!r}")
    if isinstance(value, int):
        if not 1 <= value <= MAX_SEEDS:
            raise ValueError(f"{what}: expected a count of 1 to {MAX_SEEDS} seeds, got {value}")
        return tuple(range(1, value + 1))
    if isinstance(value, str):
        try:
            return parse_seeds(value)
        except ValueError as exc:
            raise ValueError(f"{what}: {exc}") from None
    try:
        seeds = tuple(int(s) for s in value)
    except (TypeError, ValueError):
        raise ValueError(
            f"{what}: expected a list of seeds, a count or 1-10, got {value!r}"
        ) from None
    if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise ValueError(f"{what}: expected distinct seeds of 0 or more, got {value!r}")
    return seeds
