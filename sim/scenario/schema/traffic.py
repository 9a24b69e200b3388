"""Traffic: who arrives and when, how shoppers move through the funnel, what they spend."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import Field, field_validator, model_validator

from sim.scenario.errors import describe
from sim.scenario.limits import (
    MAX_ARRIVAL_RATE,
    MAX_CURVE,
    MAX_FUNNEL_STEPS,
    MAX_GIVE_UP_AFTER,
    MAX_ORDER_VALUE,
    MAX_REGIONS,
    MAX_REPRESENTS,
    MAX_SURGE,
    MAX_SURGES,
    MAX_THINK_TIME,
    MAX_WEIGHT,
)
from sim.scenario.schema.base import (
    Duration,
    Model,
    Name,
    NamedMap,
    Probability,
    TimeDistribution,
    check_within,
)


class MoneyDistribution(Model):
    """Order values: lognormal with a mean and coefficient of variation, in ``currency``."""

    dist: Literal["constant", "lognormal"] = "lognormal"
    mean: float = Field(gt=0, le=MAX_ORDER_VALUE)
    cv: float = Field(default=0.6, gt=0, le=5)
    currency: str = "USD"


class Surge(Model):
    """A temporary multiplication of the arrival rate (a flash sale, a TV spot)."""

    start: Duration
    duration: Duration = Field(gt=0)
    factor: float = Field(gt=0, le=MAX_SURGE)


class Peak(Model):
    """A short surge that recurs on the wall clock: the top of every hour (push notifications,
    batch jobs and cron schedules, a TV slot), every day at 18:00, every 15 minutes."""

    every: Duration = Field(default=3600.0, gt=0, description="Its period (1h: hourly).")
    at: Duration = Field(
        default=0.0,
        ge=0,
        description="Where in each period it starts, on the scenario's wall clock (0: at the "
        "top of the hour for an hourly peak; 18h for a daily one at 18:00).",
    )
    duration: Duration = Field(gt=0)
    factor: float = Field(gt=0, le=MAX_SURGE, description="The arrival rate × this meanwhile.")

    @model_validator(mode="after")
    def _fits_its_period(self) -> Peak:
        if self.duration >= self.every:
            raise ValueError("duration: expected less than `every` (it would never end)")
        if self.at >= self.every:
            raise ValueError("at: expected less than `every`")
        return self


class FunnelStep(Model):
    """One step of the shopper funnel and the share of shoppers who go on to the next."""

    step: Name
    endpoint: Name
    proceed: Probability = Field(description="Share of shoppers who go on to the next step.")
    checkout: bool = Field(
        default=False,
        description=(
            "A shopper whose intended depth reaches the first step so marked means to check "
            "out; one who gives up after errors, wherever, is a failed checkout."
        ),
    )


class Traffic(Model):
    """Who arrives, when, and how they move through the shop."""

    arrival_rate: float = Field(
        gt=0, le=MAX_ARRIVAL_RATE, description="Simulated sessions per second at curve 1.0."
    )
    represents: int = Field(
        default=1, ge=1, le=MAX_REPRESENTS, description="Real shoppers per simulated one."
    )
    daily_curve: tuple[float, ...] = Field(default=(1.0,) * 24, min_length=24, max_length=24)
    surges: tuple[Surge, ...] = Field(default=(), max_length=MAX_SURGES)
    peaks: tuple[Peak, ...] = Field(
        default=(), max_length=MAX_SURGES, description="Surges that recur on the clock."
    )
    funnel: tuple[FunnelStep, ...] = Field(min_length=1, max_length=MAX_FUNNEL_STEPS)
    think_time: TimeDistribution = TimeDistribution(dist="exponential", mean=15.0)
    retry_probability: Probability = 0.5
    client_timeout: Duration = Field(default=60.0, gt=0, description="When a browser gives up.")
    dns_ttl: Duration = Field(
        default=300.0,
        gt=0,
        description="How long shoppers' resolvers keep the shop's address: a region failed "
        "over (failover_region) moves its shoppers evenly over it.",
    )
    give_up_after: int = Field(
        default=3, ge=1, le=MAX_GIVE_UP_AFTER, description="Errors after which a shopper leaves."
    )
    order_value: MoneyDistribution = MoneyDistribution(mean=60.0)
    regions: NamedMap[float] = Field(
        default_factory=lambda: {"eu-west": 1.0}, max_length=MAX_REGIONS
    )
    devices: NamedMap[float] = Field(
        default_factory=lambda: {"desktop": 0.45, "mobile": 0.5, "tablet": 0.05},
        max_length=MAX_REGIONS,
    )

    @property
    def checkout_from(self) -> int:
        """The first funnel step marked ``checkout``: a shopper whose intended depth reaches
        it means to check out (``len(funnel)`` when no step is marked: nobody does)."""
        return next((k for k, s in enumerate(self.funnel) if s.checkout), len(self.funnel))

    @field_validator("daily_curve")
    @classmethod
    def _curve(cls, curve: tuple[float, ...]) -> tuple[float, ...]:
        bad = [v for v in curve if not 0 <= v <= MAX_CURVE]
        if bad:
            raise ValueError(
                f"expected 24 multipliers of zero or more, each at most {MAX_CURVE:g}, "
                f"got {describe(bad[0])}"
            )
        return curve

    @field_validator("think_time")
    @classmethod
    def _think(cls, think: TimeDistribution) -> TimeDistribution:
        check_within(think.mean, high=MAX_THINK_TIME)  # the flow engine's delay kernels
        return think

    @field_validator("regions", "devices")
    @classmethod
    def _weights(cls, weights: Mapping[str, float]) -> Mapping[str, float]:
        if not weights or sum(weights.values()) <= 0 or min(weights.values()) < 0:
            raise ValueError("expected non-negative weights with a positive sum")
        if max(weights.values()) > MAX_WEIGHT:
            raise ValueError(f"expected weights of at most {MAX_WEIGHT:,}")
        return weights
