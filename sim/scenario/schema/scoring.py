"""Scoring: how a scenario weighs the parts of the 0–100 score, and the SLO behind the error
budget."""

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, field_validator

from sim.scenario.limits import MAX_WEIGHT
from sim.scenario.schema.base import Duration, FrozenMap, Model

ScoreKey = Literal["detection", "mitigation", "resolution", "impact", "conduct"]


class Slo(Model):
    """The availability objective the error budget is counted against."""

    objective: float = Field(default=0.999, gt=0, lt=1)
    window: Duration = Field(default=30 * 86400.0, gt=0)


class Scoring(Model):
    """How this scenario weighs the parts of the 0–100 score."""

    weights: FrozenMap[ScoreKey, float] = Field(
        default_factory=lambda: {  # type: ignore[arg-type]
            "detection": 15.0,
            "mitigation": 25.0,
            "resolution": 20.0,
            "impact": 20.0,
            "conduct": 20.0,
        }
    )
    slo: Slo = Slo()
    windows: FrozenMap[
        Literal["detection", "mitigation", "resolution"], tuple[Duration, Duration]
    ] = Field(
        default_factory=dict,
        description="Per phase, [full marks at or under, nothing at or over], e.g. [2m, 15m].",
    )

    @field_validator("windows")
    @classmethod
    def _ordered(cls, windows: Mapping[str, tuple[float, float]]) -> Mapping[str, Any]:
        bad = [k for k, (lo, hi) in windows.items() if not lo < hi]
        if bad:
            raise ValueError(
                f"each window must go from a shorter to a longer time: {', '.join(bad)}"
            )
        return windows

    @field_validator("weights")
    @classmethod
    def _positive(cls, weights: Mapping[str, float]) -> Mapping[str, float]:
        bad = [k for k, v in weights.items() if v < 0]
        if bad:
            raise ValueError(f"weights must not be negative: {', '.join(bad)}")
        bad = [k for k, v in weights.items() if v > MAX_WEIGHT]
        if bad:
            raise ValueError(f"weights must be at most {MAX_WEIGHT:,}: {', '.join(bad)}")
        if not any(weights.values()):
            raise ValueError("at least one weight must be above zero")
        return weights
