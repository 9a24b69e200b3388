"""The shop: its components, the dependencies between them and the endpoints that shoppers
call, each served by a tree of calls."""

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.scenario.limits import (
    MAX_BREAKER_CALLS,
    MAX_CHECKS,
    MAX_CONCURRENCY,
    MAX_POOL,
    MAX_QUEUE_LIMIT,
    MAX_REGIONS,
    MAX_REPLICAS,
    MAX_RETRY_MULTIPLIER,
    MIN_INTERVAL,
)
from sim.scenario.schema.base import Duration, Model, Name, Probability, TimeDistribution, within
from sim.scenario.schema.capacity import Autoscaling

ComponentKind = Literal[
    "load_balancer", "web", "service", "database", "cache", "queue", "third_party", "link"
]


class OutlierDetection(Model):
    """Passive health: the balancer ejects an instance whose own answers fail, read from the
    traffic it serves rather than from probes (Envoy's outlier detection by failure
    percentage; the defaults are Envoy's)."""

    interval: Duration = Field(
        default=10.0, gt=0, description="How often the balancer looks at each instance's answers."
    )
    failure_percentage: Probability = Field(
        default=0.85,
        gt=0,
        description="An instance whose share of failed answers in an interval reaches this is "
        "ejected. Every failure counts: its own errors, timeouts, and failures of what it "
        "called (a shared dependency failing makes every instance look bad).",
    )
    request_volume: int = Field(
        default=50,
        ge=1,
        le=10**9,
        description="Fewest calls an instance must have answered in the interval to be judged.",
    )
    base_ejection_time: Duration = Field(
        default=30.0,
        gt=0,
        description="An ejection lasts this × the number of times the instance was ejected.",
    )
    max_ejection_time: Duration = Field(default=300.0, gt=0)
    max_ejection_percent: Probability = Field(
        default=0.1,
        description="At most this share of the instances out at once for their answers (at "
        "least one).",
    )


class HealthCheck(Model):
    """Load-balancer health checks of a component's instances."""

    interval: Annotated[Duration, within(low=MIN_INTERVAL)] = 10.0
    unhealthy_after: int = Field(
        default=2, ge=1, le=MAX_CHECKS, description="Failed checks before ejection."
    )
    healthy_after: int = Field(
        default=2, ge=1, le=MAX_CHECKS, description="Passed checks before re-admission."
    )
    timeout: Duration | None = Field(
        default=None,
        gt=0,
        description="A check waits for a worker like any request and fails when it would wait "
        "longer than this (an overloaded or hung instance fails its checks). None: a check "
        "fails only on an instance that is down.",
    )
    panic_below: Probability | None = Field(
        default=None,
        description="Below this share of instances healthy, the balancer sends to every "
        "instance, healthy or not (Envoy's panic threshold, 50 % by default there). None: "
        "never; with every instance ejected, calls fail with NoHealthyUpstream.",
    )
    outlier: OutlierDetection | None = Field(
        default=None,
        description="Passive checks beside the active ones: eject instances whose answers "
        "fail (the request engine).",
    )


class LinkVendor(Model):
    """A link whose capacity its vendor manages: it grows by itself, slowly, while the link
    is busy, and faster when someone escalates to the vendor."""

    above: Probability = Field(
        default=0.8, description="Utilisation above which the vendor adds capacity."
    )
    step: float = Field(default=0.25, gt=0, le=10, description="Each addition: × (1 + step).")
    every: Duration = Field(default=1800.0, gt=0, description="At most one addition this often.")
    escalation: Duration = Field(
        default=2700.0,
        ge=0,
        description="How long the vendor takes to double the link once escalated to (the "
        "vendor's time: a constant).",
    )


class Component(Model):
    """A deployable piece of the shop: its instances, capacity, speed and baseline errors."""

    kind: ComponentKind
    description: str = ""
    replicas: int = Field(default=1, ge=1, le=MAX_REPLICAS)
    concurrency: int = Field(
        default=64, ge=1, le=MAX_CONCURRENCY, description="Requests served at once per replica."
    )
    queue_limit: int = Field(
        default=1000, ge=0, le=MAX_QUEUE_LIMIT, description="Waiting requests per replica."
    )
    service_time: TimeDistribution
    error_rate: Probability = 0.0
    error_class: str = "InternalError"
    regions: tuple[Name, ...] = Field(default=("eu-west",), min_length=1, max_length=MAX_REGIONS)
    version: str = "1.0.0"
    balancing: Literal["round_robin", "least_connections", "shard"] = Field(
        default="round_robin",
        description="How calls are spread over the instances. shard: the instances are shards "
        "holding different data, and each shopper's (client's) calls go to the one its key "
        "maps to — a shard that is down or out of rotation fails its keys' calls, and a retry "
        "goes back to the same shard.",
    )
    health_check: HealthCheck = HealthCheck()
    restart_time: Duration = Field(default=30.0, ge=0, description="Per instance, rolling.")
    keys: int | None = Field(
        default=None,
        ge=1,
        le=10**12,
        description="A cache: the hot keys it holds when warm. Flushed, it is cold and refills "
        "one key per miss filled (calls to a store with cached_by: this cache).",
    )
    bandwidth: float | None = Field(
        default=None,
        gt=0,
        le=1e15,
        description="A link: bytes per second it carries. Past about 70 % of it, packets queue "
        "and are lost, and retransmits add latency (docs/mechanisms.md).",
    )
    call_bytes: float = Field(
        default=20_000.0,
        gt=0,
        le=1e12,
        description="A link: bytes a call sends across it, request and response together.",
    )
    vendor: LinkVendor | None = Field(
        default=None, description="A link whose capacity a vendor manages (it grows slowly)."
    )
    autoscaling: Autoscaling | None = Field(
        default=None,
        description="A target-tracking scaling policy: instances launched and terminated as its "
        "metric says (docs/mechanisms.md).",
    )

    @model_validator(mode="after")
    def _replicas_within_policy(self) -> "Component":
        if self.kind == "link" and self.bandwidth is None:
            raise ValueError("a link needs its bandwidth (bytes per second)")
        if self.kind != "link" and (self.bandwidth is not None or self.vendor is not None):
            raise ValueError(f"bandwidth and vendor are a link's; this component is a {self.kind}")
        if self.keys is not None and self.kind != "cache":
            raise ValueError(f"keys are what a cache holds; this component is a {self.kind}")
        a = self.autoscaling
        if a is not None and self.balancing == "shard":
            raise ValueError(
                "a sharded component does not autoscale: its instances hold different data, "
                "and a new one has none until its keys are moved to it"
            )
        if a is not None and not a.min <= self.replicas <= a.max:
            raise ValueError(
                f"replicas ({self.replicas}) must lie between autoscaling min ({a.min}) "
                f"and max ({a.max})"
            )
        return self


class Retry(Model):
    """Retries of a failed call: extra ``attempts`` with exponential backoff and jitter."""

    attempts: int = Field(default=0, ge=0, le=10)
    backoff: Duration = Field(default=0.1, ge=0)
    multiplier: float = Field(default=2.0, ge=1, le=MAX_RETRY_MULTIPLIER)
    jitter: Probability = 0.5


class Breaker(Model):
    """A circuit breaker on a dependency: opens on a failure ratio, fails fast while open."""

    failure_ratio: Probability = 0.5
    min_calls: int = Field(default=20, ge=1, le=MAX_BREAKER_CALLS)
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
    pool: int | None = Field(
        default=None, ge=1, le=MAX_POOL, description="Connections per caller replica."
    )
    breaker: Breaker | None = None
    lock_timeout: Duration | None = Field(
        default=None, description="The caller's connections give up waiting for a lock after this."
    )
    statement_timeout: Duration | None = Field(
        default=None, description="The caller's connections cancel a statement after this."
    )

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
    access: Literal["read", "write"] | None = Field(
        default=None,
        description="On a database with a data tier: a write goes to the primary, a read to the "
        "replicas (default: write when it inserts, else read).",
    )
    inserts: tuple[Name, ...] = Field(
        default=(), description="Tables it inserts one row into (each takes a sequence value)."
    )
    query: str | None = Field(default=None, description="The SQL it runs (shown in logs).")
    cached_by: Name | None = Field(
        default=None,
        description="A cache (with keys) in front of this call: the call is made only on a "
        "miss, and a miss answered fills the cache.",
    )
    hit_ratio: Probability = Field(
        default=0.95, description="With cached_by: the share of lookups a warm cache answers."
    )
    calls: tuple["Call | Name", ...] = ()


class Endpoint(Model):
    """A user-facing endpoint: a path and the call tree that serves it."""

    path: str = Field(pattern=r"^/")
    call: Call


Call.model_rebuild()
