"""More than one incident in a shift: which faults make up each, and when each began.

A scenario's faults are one incident unless they name theirs (``incident:`` on each fault,
docs/scenarios.md). Named, the incidents are taken in the order they begin — the earliest
start among their faults — and each owns the stretch of the run from its beginning to the
next one's: the errors, pages and declarations in that stretch are its own
(``sim.scoring.incidents``). What no scenario fault names — a mechanism's episode, a fault
an action set off — belongs to the incident whose stretch it began in.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class IncidentGroup:
    """One incident: its name, when its first fault began, and the faults that make it up."""

    name: str
    start: float
    faults: tuple[str, ...]


def names_several(labels: Iterable[str | None]) -> bool:
    """Whether faults labelled so make more than one incident (two or more names)."""
    return len({name for name in labels if name is not None}) > 1


def incident_groups(
    labels: Mapping[str, str | None], starts: Iterable[tuple[str, float]]
) -> list[IncidentGroup]:
    """The run's incidents in the order they began, or ``[]`` when it has one.

    ``labels`` maps each scenario fault to the incident it names (``None``: none named);
    ``starts`` is every fault of the run, the scenario's and the ones mechanisms and actions
    opened, with the time it began.
    """
    if not names_several(labels.values()):
        return []
    starts = sorted(starts, key=lambda pair: (pair[1], pair[0]))
    begun: dict[str, float] = {}
    for fid, start in starts:
        name = labels.get(fid)
        if name is not None:
            begun[name] = min(begun.get(name, start), start)
    order = sorted(begun, key=lambda name: (begun[name], name))
    cuts = [begun[name] for name in order]
    members: dict[str, list[str]] = {name: [] for name in order}
    for fid, start in starts:
        name = labels.get(fid)
        if name is None:  # an episode or a consequence: the incident whose stretch it is in
            name = order[max(0, bisect_right(cuts, start) - 1)]
        members[name].append(fid)
    return [IncidentGroup(name, begun[name], tuple(members[name])) for name in order]


__all__ = ["IncidentGroup", "incident_groups", "names_several"]
