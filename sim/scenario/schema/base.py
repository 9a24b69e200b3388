"""What every part of the schema is built from: the base model, names, durations,
probabilities, read-only mappings and random durations."""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    WrapSerializer,
)

from sim.scenario.durations import format_duration, parse_duration, span
from sim.scenario.limits import MAX_DURATION

NAME_PATTERN = r"^[a-z][a-z0-9_.-]*$"

Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^(\d+(\.\d+)?(ms|s|m|h|d))+$"},
                {"type": "number", "minimum": 0, "maximum": MAX_DURATION},
            ],
            "description": "A duration: 250ms, 90s, 5m, 1h30m, or a number of seconds.",
        }
    ),
]


def check_within(seconds: float, low: float = 0.0, high: float = MAX_DURATION) -> float:
    """``seconds``, or a ``ValueError`` naming the bound it passes in the file's units."""
    if seconds < low:
        raise ValueError(f"expected at least {span(low)}, got {format_duration(seconds)}")
    if seconds > high:
        raise ValueError(f"expected at most {span(high)}, got {format_duration(seconds)}")
    return seconds


def within(low: float = 0.0, high: float = MAX_DURATION) -> AfterValidator:
    """Bounds on a duration field (see :func:`check_within`)."""
    return AfterValidator(lambda seconds: check_within(seconds, low, high))


Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Name = Annotated[str, Field(pattern=NAME_PATTERN)]

K = TypeVar("K")
V = TypeVar("V")


def _frozen_mapping(value: Mapping[K, V]) -> Mapping[K, V]:
    return MappingProxyType(dict(value))


def _dump_mapping(value: Mapping[Any, Any], handler: Any) -> Any:
    return handler(dict(value))


# A read-only mapping; serialises as a plain dict.
FrozenMap = Annotated[
    Mapping[K, V],
    AfterValidator(_frozen_mapping),
    WrapSerializer(_dump_mapping),
]
# A read-only mapping keyed by a name.
NamedMap = FrozenMap[Name, V]


class Model(BaseModel):
    """Base of every schema class: frozen, unknown keys rejected, numbers finite."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class TimeDistribution(Model):
    """A random duration: ``constant``, ``exponential`` or ``lognormal`` with a mean and a spread."""

    dist: Literal["constant", "exponential", "lognormal"] = "exponential"
    mean: Duration = Field(gt=0)
    cv: float = Field(default=0.5, gt=0, le=5, description="Coefficient of variation (lognormal).")
