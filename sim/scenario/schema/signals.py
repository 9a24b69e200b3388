"""Signals: what an on-call engineer sees — alert rules and paging, synthetic probes, logs,
customer complaints, and the red herrings among them."""

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from sim.scenario.limits import (
    MAX_FACTOR,
    MAX_LINES_PER_MINUTE,
    MAX_LOG_BUDGET,
    MAX_RED_HERRINGS,
    MAX_ROTATION,
    MIN_INTERVAL,
)
from sim.scenario.schema.base import (
    Duration,
    Model,
    Name,
    NamedMap,
    Probability,
    TimeDistribution,
    within,
)

Severity = Literal["critical", "warning", "info"]


class Monitor(Model):
    """A rule over the metrics that fires an alert when it holds for ``for`` (key ``for``).

    Kinds: ``error_ratio`` (failed/requests of an endpoint or component), ``latency``
    (a quantile above ``threshold`` seconds), ``throughput_drop`` (orders below ``threshold``
    × the expected curve), ``saturation`` (busy/capacity above ``threshold``), ``synthetic``
    (share of failed probes from any one region), ``log_errors`` (error log lines per minute,
    the log watcher), ``new_error`` (an error tracker: lines a minute, per component, in error
    signatures first seen within the last hour — its alert quotes the loudest one's line),
    ``metric_absent`` (the share of windows in ``over`` in which a
    component's or endpoint's series did not reach the metrics pipeline: an agent that stopped
    reporting, a pipeline that lost its scrapes), ``burn_rate`` (how many times faster than the
    SLO allows the error budget burns, over ``over`` *and* over ``short`` — the multiwindow
    burn-rate alert of Google's SRE workbook; ``threshold`` is the burn rate, e.g. 14.4 over
    1 h and 5 min for a 99.9 % objective).
    """

    name: Name
    kind: Literal[
        "error_ratio",
        "latency",
        "throughput_drop",
        "saturation",
        "synthetic",
        "log_errors",
        "new_error",
        "metric_absent",
        "burn_rate",
    ]
    scope: Literal["endpoint", "component", "shop"] = "endpoint"
    target: str = Field(default="*", description="A name, or * for each one separately.")
    threshold: float = Field(ge=0)
    quantile: Literal["p50", "p95", "p99"] = "p95"
    over: Duration = Field(default=60.0, gt=0, description="Evaluation window.")
    for_: Duration = Field(default=60.0, ge=0, alias="for", description="How long it must hold.")
    min_requests: int = Field(default=10, ge=0, description="Below this, the rule is silent.")
    short: Duration | None = Field(
        default=None,
        gt=0,
        description="burn_rate: the short window, which must burn too (default: over ÷ 12).",
    )
    objective: float = Field(
        default=0.999,
        gt=0,
        lt=1,
        description="burn_rate: the SLO whose error budget burns (0.999: 0.1 % may fail).",
    )
    severity: Severity = "warning"
    labels: NamedMap[str] = Field(default_factory=dict)
    summary: str = ""

    @model_validator(mode="after")
    def _short_window(self) -> "Monitor":
        if self.short is not None and self.kind != "burn_rate":
            raise ValueError(f"short: only a burn_rate rule has a short window, not {self.kind}")
        if self.short is not None and self.short >= self.over:
            raise ValueError(
                f"short: the short window ({self.short:g} s) must be shorter than over "
                f"({self.over:g} s)"
            )
        return self

    @property
    def short_window(self) -> float:
        """A burn_rate rule's short window: ``short``, or ``over`` ÷ 12 (1 h → 5 min)."""
        return self.short if self.short is not None else self.over / 12


class Rotation(Model):
    """Who is paged, how fast they acknowledge, when the secondary is paged."""

    size: int = Field(
        default=4, ge=2, le=MAX_ROTATION, description="Engineers on the rotation (faker names)."
    )
    names: tuple[str, ...] = Field(
        default=(),
        max_length=MAX_ROTATION,
        description="Names instead of faker ones: primary, secondary, …",
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
    interval: Annotated[Duration, within(low=MIN_INTERVAL)] = 30.0
    endpoints: tuple[Name, ...] = Field(
        default=(), description="Default: every funnel endpoint that is not a checkout step."
    )
    regions: tuple[Name, ...] = Field(default=(), description="Default: the traffic regions.")
    external: bool = Field(
        default=False,
        description="Run by a vendor outside the shop: their results and their alerts do not "
        "travel the metrics pipeline, so they still page when it is dark. False: internal "
        "checks, reported through the pipeline like every other series.",
    )


class Pipeline(Model):
    """The metrics pipeline: agents on every component send each series' window to a
    collector and a time-series store, which dashboards and alert rules read."""

    depends_on: tuple[Name, ...] = Field(
        default=(),
        description="Components the metrics travel through or are stored on. A link among them "
        "carries the metrics beside the shop's traffic; a window of a series is lost with the "
        "share of calls each of them fails.",
    )
    series_bytes: float = Field(
        default=2000.0,
        gt=0,
        le=1e9,
        description="Bytes one series sends per window across each link it depends on.",
    )


class Alerting(Model):
    """The rule evaluator and notifier: it reads the pipeline and pages."""

    depends_on: tuple[Name, ...] = Field(
        default=(),
        description="Components it runs on or reaches the pager through: while one of them "
        "fails more than half its calls, no rule is evaluated and nobody is paged.",
    )


class Monitoring(Model):
    """Monitoring inside the topology: what the metrics and the alerts depend on
    (docs/mechanisms.md). Omitted, monitoring sees everything and never fails."""

    pipeline: Pipeline = Pipeline()
    alerting: Alerting = Alerting()


class Logs(Model):
    """Structured logs: how many lines are kept, and the background noise."""

    budget: int = Field(
        default=5000, ge=100, le=MAX_LOG_BUDGET, description="Lines kept (a uniform sample)."
    )
    noise: bool = True
    noise_rate: float = Field(
        default=1.0,
        ge=0,
        le=MAX_LINES_PER_MINUTE,
        description="Noise lines per minute per component.",
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
    factor: float = Field(default=1.5, ge=1, le=MAX_FACTOR)
    message: str | None = None
    level: Literal["INFO", "WARN", "ERROR"] = "WARN"
    rate: float = Field(default=6.0, gt=0, le=MAX_LINES_PER_MINUTE)
    note: str = Field(default="", description="Why it is misleading (for the post-mortem).")


class RedHerrings(Model):
    """The red herrings of a scenario, with a switch to turn them all off."""

    enabled: bool = True
    items: tuple[RedHerring, ...] = Field(default=(), max_length=MAX_RED_HERRINGS)
