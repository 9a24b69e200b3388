"""The public incident a scenario is modelled on: who, when, where it was published, its
timeline as data, and the figures the scenario takes from it. ``benchmarks/calibration.py``
compares the published milestones with the simulated ones (docs/incidents.md); the block
does not change a run."""

import datetime as dt
from typing import Literal

from pydantic import Field

from sim.scenario.schema.base import Duration, FrozenMap, Model

Milestone = Literal["detection", "acknowledgement", "diagnosis", "mitigation", "resolution"]
MAX_TIMELINE = 200


class SourceEvent(Model):
    """One line of the published timeline, timed from the start of the impact."""

    at: Duration = Field(description="Since the impact started (e.g. 1127m).")
    what: str = Field(min_length=1, max_length=1_000)
    clock: str = Field(
        default="", max_length=40, description="The time as published (e.g. 18:14 UTC)."
    )


class Source(Model):
    """The public post-mortem a scenario is modelled on."""

    company: str = Field(min_length=1, max_length=200)
    date: dt.date = Field(description="The day the incident started.")
    url: str = Field(pattern=r"^https?://\S+$", max_length=2_000)
    title: str = Field(default="", max_length=500)
    timeline: tuple[SourceEvent, ...] = Field(default=(), max_length=MAX_TIMELINE)
    milestones: FrozenMap[Milestone, Duration] = Field(
        default_factory=dict,
        description="Published milestones since the impact started: what calibration checks.",
    )
    inputs: tuple[str, ...] = Field(
        default=(),
        max_length=50,
        description="The published figures the scenario's parameters were taken from.",
    )
    left_out: tuple[str, ...] = Field(
        default=(),
        max_length=50,
        description="What the incident had that the scenario does not model.",
    )


__all__ = ["Milestone", "Source", "SourceEvent"]
