"""The scenario schema, declared once: typed, validated, immutable.

Every class here is a frozen pydantic model that rejects unknown keys. Shape and value
checks live here (pass one); cross-references between sections are checked in
:mod:`sim.scenario.references` (pass two).
"""

from collections.abc import Mapping
from datetime import datetime
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
    field_validator,
    model_validator,
)

from sim.scenario.durations import parse_duration

NAME_PATTERN = r"^[a-z][a-z0-9_.-]*$"

Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^(\d+(\.\d+)?(ms|s|m|h|d))+$"},
                {"type": "number", "minimum": 0},
            ],
            "description": "A duration: 250ms, 90s, 5m, 1h30m, or a number of seconds.",
        }
    ),
]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Name = Annotated[str, Field(pattern=NAME_PATTERN)]

V = TypeVar("V")


def _frozen_mapping(value: Mapping[str, V]) -> Mapping[str, V]:
    return MappingProxyType(dict(value))


def _dump_mapping(value: Mapping[str, Any], handler: Any) -> Any:
    return handler(dict(value))


# A read-only mapping keyed by a name; serialises as a plain dict.
NamedMap = Annotated[
    Mapping[Name, V],
    AfterValidator(_frozen_mapping),
    WrapSerializer(_dump_mapping),
]


class Model(BaseModel):
    """Base of every schema class: frozen, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


ComponentKind = Literal[
    "load_balancer", "web", "service", "database", "cache", "queue", "third_party"
]
ActionKind = Literal[
    "restart",
    "rollback_deploy",
    "rollback_migration",
    "rollback_config",
    "deploy_fix",
    "failover",
    "scale_out",
    "isolate",
    "restore",
]
# Actions whose target is a change id (the rest target a component), and the change kind each needs.
CHANGE_ACTIONS: frozenset[str] = frozenset(
    {"rollback_deploy", "rollback_migration", "rollback_config"}
)
ROLLBACK_OF: Mapping[str, str] = MappingProxyType(
    {"deploy": "rollback_deploy", "migration": "rollback_migration", "config": "rollback_config"}
)


class TimeDistribution(Model):
    """A random duration: ``constant``, ``exponential`` or ``lognormal`` with a mean and a spread."""

    dist: Literal["constant", "exponential", "lognormal"] = "exponential"
    mean: Duration = Field(gt=0)
    cv: float = Field(default=0.5, gt=0, le=5, description="Coefficient of variation (lognormal).")


class MoneyDistribution(Model):
    """Order values: lognormal with a mean and coefficient of variation, in ``currency``."""

    dist: Literal["constant", "lognormal"] = "lognormal"
    mean: float = Field(gt=0)
    cv: float = Field(default=0.6, gt=0, le=5)
    currency: str = "USD"


class HealthCheck(Model):
    """Load-balancer health checks of a component's instances."""

    interval: Duration = Field(default=10.0, gt=0)
    unhealthy_after: int = Field(default=2, ge=1, description="Failed checks before ejection.")
    healthy_after: int = Field(default=2, ge=1, description="Passed checks before re-admission.")


class Component(Model):
    """A deployable piece of the shop: its instances, capacity, speed and baseline errors."""

    kind: ComponentKind
    description: str = ""
    replicas: int = Field(default=1, ge=1, le=1000)
    concurrency: int = Field(default=64, ge=1, description="Requests served at once per replica.")
    queue_limit: int = Field(default=1000, ge=0, description="Waiting requests per replica.")
    service_time: TimeDistribution
    error_rate: Probability = 0.0
    error_class: str = "InternalError"
    regions: tuple[Name, ...] = Field(default=("eu-west",), min_length=1)
    version: str = "1.0.0"
    balancing: Literal["round_robin", "least_connections"] = "round_robin"
    health_check: HealthCheck = HealthCheck()
    restart_time: Duration = Field(default=30.0, ge=0, description="Per instance, rolling.")


class Retry(Model):
    """Retries of a failed call: extra ``attempts`` with exponential backoff and jitter."""

    attempts: int = Field(default=0, ge=0, le=10)
    backoff: Duration = Field(default=0.1, ge=0)
    multiplier: float = Field(default=2.0, ge=1)
    jitter: Probability = 0.5


class Breaker(Model):
    """A circuit breaker on a dependency: opens on a failure ratio, fails fast while open."""

    failure_ratio: Probability = 0.5
    min_calls: int = Field(default=20, ge=1)
    window: Duration = Field(default=10.0, gt=0)
    open_for: Duration = Field(default=30.0, gt=0)


class Dependency(Model):
    """``caller`` calls ``callee``: the timeout, retries, pool and fallback of that call."""

    caller: Name
    callee: Name
    timeout: Duration = Field(default=30.0, gt=0)
    retries: Retry = Retry()
    required: bool = True
    fallback: str | None = None
    pool: int | None = Field(default=None, ge=1, description="Connections per caller replica.")
    breaker: Breaker | None = None

    @model_validator(mode="after")
    def _fallback_only_when_optional(self) -> "Dependency":
        if self.required and self.fallback is not None:
            raise ValueError(
                "a fallback is only used by an optional dependency; set required: false"
            )
        return self


class Call(Model):
    """One node of an endpoint's call tree: a component and the calls it makes, in order."""

    component: Name
    tables: tuple[Name, ...] = Field(default=(), description="Tables this call reads or writes.")
    query: str | None = Field(default=None, description="The SQL it runs (shown in logs).")
    calls: tuple["Call | Name", ...] = ()


class Endpoint(Model):
    """A user-facing endpoint: a path and the call tree that serves it."""

    path: str = Field(pattern=r"^/")
    call: Call


class Surge(Model):
    """A temporary multiplication of the arrival rate (a flash sale, a TV spot)."""

    start: Duration
    duration: Duration = Field(gt=0)
    factor: float = Field(gt=0)


class FunnelStep(Model):
    """One step of the shopper funnel and the share of shoppers who go on to the next."""

    step: Name
    endpoint: Name
    proceed: Probability = Field(description="Share of shoppers who go on to the next step.")
    checkout: bool = Field(default=False, description="Failures here count as failed checkouts.")


class Traffic(Model):
    """Who arrives, when, and how they move through the shop."""

    arrival_rate: float = Field(gt=0, description="Simulated sessions per second at curve 1.0.")
    represents: int = Field(default=1, ge=1, description="Real shoppers per simulated one.")
    daily_curve: tuple[float, ...] = Field(default=(1.0,) * 24, min_length=24, max_length=24)
    surges: tuple[Surge, ...] = ()
    funnel: tuple[FunnelStep, ...] = Field(min_length=1)
    think_time: TimeDistribution = TimeDistribution(dist="exponential", mean=15.0)
    retry_probability: Probability = 0.5
    client_timeout: Duration = Field(default=60.0, gt=0, description="When a browser gives up.")
    give_up_after: int = Field(default=3, ge=1, description="Errors after which a shopper leaves.")
    order_value: MoneyDistribution = MoneyDistribution(mean=60.0)
    regions: NamedMap[float] = Field(default_factory=lambda: {"eu-west": 1.0})
    devices: NamedMap[float] = Field(
        default_factory=lambda: {"desktop": 0.45, "mobile": 0.5, "tablet": 0.05}
    )

    @field_validator("daily_curve")
    @classmethod
    def _curve(cls, curve: tuple[float, ...]) -> tuple[float, ...]:
        if any(v < 0 for v in curve):
            raise ValueError("expected 24 multipliers of zero or more")
        return curve

    @field_validator("regions", "devices")
    @classmethod
    def _weights(cls, weights: Mapping[str, float]) -> Mapping[str, float]:
        if not weights or sum(weights.values()) <= 0 or min(weights.values()) < 0:
            raise ValueError("expected non-negative weights with a positive sum")
        return weights


class Change(Model):
    """An entry of the change log: deploys, migrations, config changes, notices."""

    id: Name
    kind: Literal["deploy", "migration", "config", "notice"]
    at: Duration
    author: str
    description: str
    components: tuple[Name, ...] = Field(min_length=1)
    statements: tuple[str, ...] = Field(default=(), description="SQL of a migration.")
    version: str | None = Field(default=None, description="New version, for a deploy.")


Remedies = Annotated[
    Mapping[ActionKind, Duration],
    AfterValidator(_frozen_mapping),
    WrapSerializer(_dump_mapping),
]


class FaultBase(Model):
    """What every fault has: an id, when it starts and ends, and the actions that remedy it."""

    id: Name
    start: Duration | None = Field(default=None, description="Defaults to the change's time.")
    duration: Duration | Literal["until_remedied"] = "until_remedied"
    remedies: Remedies = Field(default_factory=dict)


class SchemaMigrationFault(FaultBase):
    """A migration the running code cannot live with: queries touching ``breaks`` fail."""

    type: Literal["schema_migration"]
    change: Name
    breaks: NamedMap[str] = Field(min_length=1, description="table → database error message")
    error_class: str = "UndefinedColumn"
    share: Probability = Field(
        default=1.0,
        description="Share of the queries on a broken table that fail (a canary shard: 0.05).",
    )


class CrashFault(FaultBase):
    """Instances of a component go down (process crash, node loss)."""

    type: Literal["crash"]
    target: Name
    instances: int | None = Field(default=None, ge=1, description="How many; all if omitted.")


class LatencyFault(FaultBase):
    """A component becomes slower by ``factor``."""

    type: Literal["latency"]
    target: Name
    factor: float = Field(gt=1)


class ErrorRateFault(FaultBase):
    """A component fails a share of its requests."""

    type: Literal["error_rate"]
    target: Name
    probability: Probability
    error_class: str = "InternalError"
    message: str = "internal server error"


class CapacityLossFault(FaultBase):
    """A component keeps only a ``remaining`` share of its concurrency (noisy neighbour, CPU)."""

    type: Literal["capacity_loss"]
    target: Name
    remaining: float = Field(gt=0, lt=1)


class ThirdPartyOutageFault(FaultBase):
    """A third-party provider fails fast with errors or hangs until callers time out."""

    type: Literal["third_party_outage"]
    target: Name
    mode: Literal["errors", "hangs"] = "errors"
    message: str = "503 Service Unavailable"


Fault = Annotated[
    SchemaMigrationFault
    | CrashFault
    | LatencyFault
    | ErrorRateFault
    | CapacityLossFault
    | ThirdPartyOutageFault,
    Field(discriminator="type"),
]


# -- signals: what an on-call engineer sees ----------------------------------------------

Severity = Literal["critical", "warning", "info"]


class Monitor(Model):
    """A rule over the metrics that fires an alert when it holds for ``for`` (key ``for``).

    Kinds: ``error_ratio`` (failed/requests of an endpoint or component), ``latency``
    (a quantile above ``threshold`` seconds), ``throughput_drop`` (orders below ``threshold``
    × the expected curve), ``saturation`` (busy/capacity above ``threshold``), ``synthetic``
    (share of failed probes from any one region), ``log_errors`` (error log lines per minute,
    the log watcher).
    """

    name: Name
    kind: Literal[
        "error_ratio", "latency", "throughput_drop", "saturation", "synthetic", "log_errors"
    ]
    scope: Literal["endpoint", "component", "shop"] = "endpoint"
    target: str = Field(default="*", description="A name, or * for each one separately.")
    threshold: float = Field(ge=0)
    quantile: Literal["p50", "p95", "p99"] = "p95"
    over: Duration = Field(default=60.0, gt=0, description="Evaluation window.")
    for_: Duration = Field(default=60.0, ge=0, alias="for", description="How long it must hold.")
    min_requests: int = Field(default=10, ge=0, description="Below this, the rule is silent.")
    severity: Severity = "warning"
    labels: NamedMap[str] = Field(default_factory=dict)
    summary: str = ""


class Rotation(Model):
    """Who is paged, how fast they acknowledge, when the secondary is paged."""

    size: int = Field(default=4, ge=2, description="Engineers on the rotation (faker names).")
    names: tuple[str, ...] = Field(
        default=(), description="Names instead of faker ones: primary, secondary, …"
    )
    ack_delay: TimeDistribution = TimeDistribution(dist="lognormal", mean=180.0, cv=0.8)
    escalate_after: Duration = Field(default=600.0, gt=0)
    group_wait: Duration = Field(default=30.0, ge=0, description="Alerts grouped into a page.")
    group_interval: Duration = Field(
        default=3600.0, gt=0, description="A new page only after this long without alerts."
    )

    @field_validator("names")
    @classmethod
    def _primary_and_secondary(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        if len(names) == 1:
            raise ValueError("expected at least two names (a primary and a secondary), got one")
        return names


class Probes(Model):
    """Synthetic checks from each region against endpoints."""

    enabled: bool = True
    interval: Duration = Field(default=30.0, gt=0)
    endpoints: tuple[Name, ...] = Field(
        default=(), description="Default: every funnel endpoint that is not a checkout step."
    )
    regions: tuple[Name, ...] = Field(default=(), description="Default: the traffic regions.")


class Logs(Model):
    """Structured logs: how many lines are kept, and the background noise."""

    budget: int = Field(default=5000, ge=100, description="Lines kept (a uniform sample).")
    noise: bool = True
    noise_rate: float = Field(
        default=1.0, ge=0, description="Noise lines per minute per component."
    )


class Escalation(Model):
    """Customer service escalates to engineering after ``tickets`` within ``within``."""

    tickets: int = Field(default=5, ge=1)
    within: Duration = Field(default=600.0, gt=0)


class Complaints(Model):
    """Support tickets from shoppers who gave up after errors."""

    probability: Probability = Field(default=0.02, description="Per real shopper who gave up.")
    lag: TimeDistribution = TimeDistribution(dist="lognormal", mean=300.0, cv=0.8)
    escalation: Escalation = Escalation()


class RedHerring(Model):
    """A visible signal that is not the cause: it must not fire the alerts that page.

    Kinds: ``change`` (mark a change-log entry as a red herring), ``latency_blip`` (a short,
    small slowdown of ``target``), ``slow_component`` (a slower but healthy ``target``),
    ``log_noise`` (a noisy ``message`` on ``target`` at ``rate`` lines per minute).
    """

    id: Name
    kind: Literal["change", "latency_blip", "slow_component", "log_noise"]
    change: Name | None = None
    target: Name | None = None
    start: Duration | None = Field(default=None, description="Default: the change's time.")
    duration: Duration = Field(default=600.0, gt=0)
    factor: float = Field(default=1.5, ge=1)
    message: str | None = None
    level: Literal["INFO", "WARN", "ERROR"] = "WARN"
    rate: float = Field(default=6.0, gt=0)
    note: str = Field(default="", description="Why it is misleading (for the post-mortem).")


class RedHerrings(Model):
    """The red herrings of a scenario, with a switch to turn them all off."""

    enabled: bool = True
    items: tuple[RedHerring, ...] = ()


class ScriptedAction(Model):
    """An action applied at a fixed time: the ``scripted`` responder's whole plan."""

    at: Duration
    action: ActionKind
    target: Name


# -- response: runbooks and the modelled responders --------------------------------------

RunbookCall = Literal[
    "status",
    "dashboard",
    "alerts",
    "logs",
    "changes",
    "deps",
    "net",
    "lb",
    "thirdparty",
    "restart",
    "rollback",
    "isolate",
    "restore",
    "failover",
    "scale_out",
    "fix",
    "diagnose",
    "remedy",
    "notify",
    "update",
    "mitigated",
    "resolved",
    "wait",
    "verify",
]
# Causes that are neither a component nor a change: what "the network" and "the load
# balancer" stand for in a diagnosis or a runbook target.
LEADS: tuple[str, ...] = ("network", "lb")
LeadKind = Literal["network", "lb", "change", "deploy", "config", "component", "thirdparty"]


class When(Model):
    """Conditions on a runbook step; every one given must hold (none given: always)."""

    chase: LeadKind | None = Field(
        default=None,
        description="Follow a lead of this kind: happens with probability susceptibility × "
        "how loud and plausible the lead looks in the evidence seen so far.",
    )
    diagnosed: bool | None = Field(default=None, description="A cause has been declared.")
    failing: bool | None = Field(
        default=None, description="The last look at the dashboard showed user-facing errors."
    )
    confident: bool | None = Field(
        default=None, description="The leading hypothesis holds the profile's confidence share."
    )
    chance: Probability | None = Field(default=None, description="Taken with this probability.")


class RunbookStep(Model):
    """One step: an action-API call, its target, when to take it and how long it takes."""

    call: RunbookCall
    target: str | None = Field(
        default=None,
        description="A component, change or lead name, or one of $suspect (the leading "
        "hypothesis), $cause (the declared cause), $failing-service, $latest-deploy, "
        "$isolated (the component this responder isolated last).",
    )
    when: When = When()
    takes: TimeDistribution | None = Field(
        default=None, description="How long the step takes; default: the action API's."
    )
    note: str = ""


class Profile(Model):
    """How a modelled responder thinks and how fast it moves."""

    pace: float = Field(
        default=1.0, gt=0, le=10, description="Multiplier on time spent looking and talking."
    )
    skill: Probability = Field(default=0.6, description="Chance of reading a clue right.")
    susceptibility: Probability = Field(
        default=0.5, description="How readily a loud, plausible lead is chased."
    )
    confidence: float = Field(
        default=0.6, gt=0, le=1, description="Belief share needed to declare a cause."
    )
    ack: bool = Field(default=True, description="Starts after acknowledging the page.")


class Runbook(Model):
    """Ordered steps with conditions, then a loop repeated until the incident is resolved."""

    name: Name
    description: str = ""
    profile: Profile = Profile()
    steps: tuple[RunbookStep, ...] = Field(min_length=1)
    loop: tuple[RunbookStep, ...] = Field(
        default=(), description="Repeated after the steps until recovery or the horizon."
    )
    close: tuple[RunbookStep, ...] = Field(
        default=(), description="Once a check shows the shop recovered: declare, tell, verify."
    )


class Response(Model):
    """Who answers the page: a built-in responder, a runbook of this scenario, or nobody."""

    responder: Name = Field(
        default="seed",
        description="seed, changes-first, experienced, novice, oracle, scripted (the "
        "actions: block), none, or the name of a runbook under runbooks:.",
    )


ScoreKey = Literal["detection", "mitigation", "resolution", "impact", "conduct"]


class Slo(Model):
    """The availability objective the error budget is counted against."""

    objective: float = Field(default=0.999, gt=0, lt=1)
    window: Duration = Field(default=30 * 86400.0, gt=0)


class Scoring(Model):
    """How this scenario weighs the parts of the 0–100 score."""

    weights: Annotated[
        Mapping[ScoreKey, float],
        AfterValidator(_frozen_mapping),
        WrapSerializer(_dump_mapping),
    ] = Field(
        default_factory=lambda: {  # type: ignore[arg-type]
            "detection": 15.0,
            "mitigation": 25.0,
            "resolution": 20.0,
            "impact": 20.0,
            "conduct": 20.0,
        }
    )
    slo: Slo = Slo()
    windows: Annotated[
        Mapping[Literal["detection", "mitigation", "resolution"], tuple[Duration, Duration]],
        AfterValidator(_frozen_mapping),
        WrapSerializer(_dump_mapping),
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
        if not any(weights.values()):
            raise ValueError("at least one weight must be above zero")
        return weights


# -- expectations: what a regression run must show (read by the pytest plugin) -----------

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


class Scenario(Model):
    """A whole drill: the shop, its traffic, its history, what breaks and when."""

    name: Name
    description: str
    seed: int = Field(default=1, ge=0)
    clock_start: datetime = Field(
        default=datetime.fromisoformat("2026-03-14T08:00:00+00:00"),
        description="Wall-clock time at simulated t=0 (drives the daily curve).",
    )
    horizon: Duration = Field(gt=0)
    window: Duration = Field(default=10.0, gt=0, description="Metrics window.")
    error_threshold: Probability = Field(
        default=0.02, description="User-facing error ratio above which errors 'have started'."
    )
    components: NamedMap[Component] = Field(min_length=1)
    dependencies: tuple[Dependency, ...] = ()
    endpoints: NamedMap[Endpoint] = Field(min_length=1)
    traffic: Traffic
    changes: tuple[Change, ...] = ()
    faults: tuple[Fault, ...] = ()
    actions: tuple[ScriptedAction, ...] = ()
    monitors: tuple[Monitor, ...] | None = Field(
        default=None, description="Alert rules; omitted: the default set."
    )
    paging: Rotation = Rotation()
    probes: Probes = Probes()
    logs: Logs = Logs()
    complaints: Complaints = Complaints()
    red_herrings: RedHerrings = RedHerrings()
    response: Response = Response()
    runbooks: NamedMap[Runbook] = Field(
        default_factory=dict, description="Runbooks of this scenario, by name."
    )
    scoring: Scoring = Scoring()
    expect: Expect | None = Field(
        default=None,
        description="Expectations checked by pytest (docs/regression.md); they do not "
        "change the run.",
    )


Call.model_rebuild()
