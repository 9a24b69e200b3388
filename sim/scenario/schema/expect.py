"""Expectations: what a regression run of a scenario must show, checked by pytest (the
chaosdrill plugin, docs/regression.md); they do not change the run."""

from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema, model_validator

from sim.scenario.schema.base import Duration, Model, Name

MAX_SEEDS = 10_000


def _seed_list(value: Any) -> Any:
    """``5`` → ``(1, 2, 3, 4, 5)``; a list passes on to item validation."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number of seeds or a list of seeds, got {value!r}")
    if isinstance(value, int):
        if not 1 <= value <= MAX_SEEDS:
            raise ValueError(
                f"expected a number of seeds from 1 to {MAX_SEEDS} (5 means seeds 1 to 5), "
                f"got {value}"
            )
        return tuple(range(1, value + 1))
    if isinstance(value, list | tuple):
        return value
    raise ValueError(
        f"expected a number of seeds (5 means seeds 1 to 5) or a list such as [1, 2, 3], "
        f"got {value!r}"
    )


def _distinct_seeds(seeds: tuple[int, ...]) -> tuple[int, ...]:
    if not seeds:
        raise ValueError("expected at least one seed, got an empty list")
    if len(seeds) > MAX_SEEDS:
        raise ValueError(f"expected at most {MAX_SEEDS} seeds, got {len(seeds)}")
    twice = sorted({s for s in seeds if seeds.count(s) > 1})
    if twice:
        raise ValueError(f"each seed may appear once; repeated: {', '.join(map(str, twice))}")
    return seeds


Seeds = Annotated[
    tuple[Annotated[int, Field(ge=0)], ...],
    BeforeValidator(_seed_list),
    AfterValidator(_distinct_seeds),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": MAX_SEEDS},
                {
                    "type": "array",
                    "items": {"type": "integer", "minimum": 0},
                    "minItems": 1,
                    "maxItems": MAX_SEEDS,
                    "uniqueItems": True,
                },
            ],
            "description": "A number of seeds (5 means seeds 1 to 5) or a list of seeds.",
        }
    ),
]
Count = Annotated[float, Field(ge=0)]

# Bounds on a milestone of the incident, in time since user-facing impact began.
TIMED_BOUNDS = (
    "detected_within",
    "acknowledged_within",
    "diagnosed_within",
    "mitigated_within",
    "resolved_within",
)


class RunBounds(Model):
    """Upper bounds on what any run costs and signals, the baseline included."""

    failed_requests_at_most: Count | None = Field(default=None, description="Scaled requests.")
    failed_checkouts_at_most: Count | None = Field(default=None, description="Scaled checkouts.")
    affected_users_at_most: Count | None = Field(
        default=None, description="Shoppers who saw an error (scaled)."
    )
    lost_revenue_at_most: Count | None = Field(
        default=None, description="In the scenario's currency."
    )
    error_budget_spent_at_most: Count | None = Field(
        default=None, description="A fraction of the SLO window's error budget: 0.25 is 25 %."
    )
    pages_at_most: int | None = Field(default=None, ge=0, description="Pages sent to on-call.")
    alerts_at_most: int | None = Field(
        default=None, ge=0, description="Alerts fired, any severity."
    )
    critical_alerts_at_most: int | None = Field(default=None, ge=0)
    tickets_at_most: Count | None = Field(default=None, description="Support tickets (scaled).")

    @model_validator(mode="after")
    def _at_least_one(self) -> "RunBounds":
        if all(value is None for value in self.model_dump().values()):
            example = "resolved_within: 45m" if isinstance(self, Bounds) else "pages_at_most: 0"
            raise ValueError(f"expected at least one bound, such as {example}")
        return self


class Bounds(RunBounds):
    """Bounds on one run with faults: how fast each milestone came, what it cost, its score.

    A ``*_within`` bound is a time since user-facing impact began; a milestone that was not
    reached within the horizon misses it. A run with no user-facing impact meets every one.
    """

    detected_within: Duration | None = None
    acknowledged_within: Duration | None = None
    diagnosed_within: Duration | None = None
    mitigated_within: Duration | None = Field(
        default=None, description="Until the error ratio went back under the threshold for good."
    )
    resolved_within: Duration | None = Field(
        default=None, description="Until resolved was declared with every fault over."
    )
    score_at_least: float | None = Field(default=None, ge=0, le=100)


class BaselineBounds(RunBounds):
    """Bounds on the baseline: the same scenario and seed with every fault removed."""

    @model_validator(mode="before")
    @classmethod
    def _no_incident(cls, data: Any) -> Any:
        if isinstance(data, dict):
            timed = [k for k in (*TIMED_BOUNDS, "score_at_least") if k in data]
            if timed:
                raise ValueError(
                    f"the baseline has no faults, so no incident to time or score "
                    f"({', '.join(timed)}); bound its pages, alerts or impact instead, "
                    f"e.g. pages_at_most: 0"
                )
        return data


class Expect(Model):
    """What a run of this scenario must show, checked by ``pytest`` (the chaosdrill plugin).

    ``each`` is checked for every seed (one test per seed); ``p50`` and ``p90`` bound the
    median and the 90th percentile over all seeds (nearest rank, one test each); ``baseline``
    bounds the run with every fault removed, at the first seed (one test).
    """

    seeds: Seeds | None = Field(
        default=None, description="Default: the scenario's seed. A number n means 1 to n."
    )
    responder: Name | None = Field(
        default=None, description="Who responds; default: the scenario's response.responder."
    )
    each: Bounds | None = None
    p50: Bounds | None = None
    p90: Bounds | None = None
    baseline: BaselineBounds | None = None

    @model_validator(mode="after")
    def _something_to_check(self) -> "Expect":
        if self.each is None and self.p50 is None and self.p90 is None and self.baseline is None:
            raise ValueError("expected at least one of each, p50, p90 or baseline")
        return self
