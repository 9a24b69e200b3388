"""Capacity that is managed: a component's scaling policy and the account it launches into.

A policy tracks a target (AWS-style target tracking): every ``interval`` it takes one
datapoint of its metric over the instances past their warm-up; after ``out_after`` datapoints
above the target it launches as many instances as bring the metric to the target, after
``in_after`` datapoints below it terminates the surplus. A launch goes through the account's
provisioning service (``launches`` at a time) and its quota (refused beyond it), boots, then
serves; a scale-in takes instances out at once. docs/mechanisms.md says what this can and
cannot say.
"""

from typing import Literal

from pydantic import Field, model_validator

from sim.scenario.limits import MAX_REPLICAS
from sim.scenario.schema.base import Duration, Model

MAX_LAUNCHES = 100  # launches a provisioning service can have under way at once


class Autoscaling(Model):
    """A target-tracking scaling policy on one component."""

    metric: Literal["cpu", "inflight", "request_rate"] = Field(
        description="cpu: share of worker time spent computing (a call waiting on a dependency "
        "computes nothing); inflight: share of worker slots held, computing or waiting; "
        "request_rate: calls per second per instance."
    )
    target: float = Field(
        gt=0,
        description="The metric's target: a share (0-1) for cpu and inflight, calls per second "
        "per instance for request_rate.",
    )
    min: int = Field(ge=1, le=MAX_REPLICAS, description="Fewest instances it scales in to.")
    max: int = Field(ge=1, le=MAX_REPLICAS, description="Most instances it scales out to.")
    interval: Duration = Field(default=60.0, ge=1, description="One datapoint of the metric.")
    out_after: int = Field(
        default=3, ge=1, le=100, description="Datapoints above the target before a scale-out."
    )
    in_after: int = Field(
        default=15,
        ge=1,
        le=1000,
        description="Datapoints below target × in_below before a scale-in.",
    )
    in_below: float = Field(
        default=0.9,
        gt=0,
        le=1,
        description="A datapoint counts towards a scale-in under target × this (AWS target "
        "tracking: 90 %), so that a fleet at its target does not shed instances.",
    )
    cooldown: Duration = Field(
        default=300.0, ge=0, description="After a scale-out, no scale-in for this long."
    )
    boot: Duration = Field(
        default=120.0, ge=0, description="Launch to in service (booted, passing checks)."
    )
    warmup: Duration = Field(
        default=300.0,
        ge=0,
        description="In service but not yet counted in the metric (its figures are not "
        "representative yet).",
    )

    @model_validator(mode="after")
    def _bounds(self) -> "Autoscaling":
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        if self.metric in ("cpu", "inflight") and self.target > 1:
            hint = f" ({self.target:g} % is {self.target / 100:g})" if self.target <= 100 else ""
            raise ValueError(
                f"a {self.metric} target is a share of capacity between 0 and 1, "
                f"got {self.target:g}{hint}"
            )
        return self


class Capacity(Model):
    """The account instances are launched into: its quota and its provisioning service."""

    quota: int | None = Field(
        default=None,
        ge=1,
        le=100 * MAX_REPLICAS,
        description="Instances the account may run, all components together (third parties "
        "are not the account's); a launch beyond it is refused. None: no quota.",
    )
    launches: int = Field(
        default=10,
        ge=1,
        le=MAX_LAUNCHES,
        description="Launches the provisioning service works on at once; more wait.",
    )
    quota_raise: Duration = Field(
        default=1800.0,
        ge=0,
        description="How long a quota increase takes once asked for (a provider's support "
        "case: set by the provider, a constant here).",
    )
    quota_step: float = Field(
        default=2.0, gt=1, le=100, description="A raise multiplies the quota by this."
    )
