"""The response: who answers the page, the runbooks a modelled responder follows, and the
scripted actions of the ``scripted`` responder."""

from typing import Literal

from pydantic import Field, model_validator

from sim.scenario.limits import MAX_REPLICAS, MAX_RUNBOOK_STEPS
from sim.scenario.schema.base import Duration, Model, Name, Probability, TimeDistribution
from sim.scenario.schema.changes import ActionKind


class ScriptedAction(Model):
    """An action applied at a fixed time: the ``scripted`` responder's whole plan."""

    at: Duration
    action: ActionKind
    target: Name


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
    "db",
    "capacity",
    "restart",
    "rollback",
    "isolate",
    "restore",
    "promote",
    "failover",
    "scale_out",
    "fix",
    "cancel",
    "drain",
    "add_back",
    "analyze",
    "read_only",
    "read_write",
    "retry",
    "raise_quota",
    "suspend_scaling",
    "resume_scaling",
    "change_scaling",
    "escalate",
    "failover_region",
    "toggle_flag",
    "free_disk",
    "disable_checks",
    "enable_checks",
    "shed_load",
    "stop_shedding",
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
    settled: bool | None = Field(
        default=None,
        description="The last look showed nothing failing, and the last dashboard no cache still "
        "refilling (its hit ratio below nine tenths of normal).",
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
        "$isolated (the component this responder isolated last), $unexplained (the leading "
        "suspect when it is a component no change in the log explains and whose own history "
        "has not been read).",
    )
    when: When = When()
    takes: TimeDistribution | None = Field(
        default=None, description="How long the step takes; default: the action API's."
    )
    to: int | None = Field(
        default=None,
        ge=1,
        le=MAX_REPLICAS,
        description="scale_out only: the number of instances to scale the target to (default: "
        "half as many again).",
    )
    note: str = ""

    @model_validator(mode="after")
    def _to_is_for_scale_out(self) -> "RunbookStep":
        if self.to is not None and self.call != "scale_out":
            raise ValueError(
                f"to: is for a scale_out step (the instances to scale to), not {self.call}"
            )
        return self


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
    tempo: Literal["fixed", "population"] = Field(
        default="fixed",
        description="fixed: every look at `pace`. population: each run also draws how fast "
        "this team is tonight — one factor on every look and message, from the spread of "
        "page-to-cause times in public post-mortems (docs/people.md); for comparing runs "
        "with real incidents, which real teams of every speed answered.",
    )


class Runbook(Model):
    """Ordered steps with conditions, then a loop repeated until the incident is resolved."""

    name: Name
    description: str = ""
    profile: Profile = Profile()
    steps: tuple[RunbookStep, ...] = Field(min_length=1, max_length=MAX_RUNBOOK_STEPS)
    loop: tuple[RunbookStep, ...] = Field(
        default=(),
        max_length=MAX_RUNBOOK_STEPS,
        description="Repeated after the steps until recovery or the horizon.",
    )
    close: tuple[RunbookStep, ...] = Field(
        default=(),
        max_length=MAX_RUNBOOK_STEPS,
        description="Once a check shows the shop recovered: declare, tell, verify.",
    )


class Response(Model):
    """Who answers the page: a built-in responder, a runbook of this scenario, or nobody."""

    responder: Name = Field(
        default="seed",
        description="seed, changes-first, experienced, novice, oracle, scripted (the "
        "actions: block), none, or the name of a runbook under runbooks:.",
    )
