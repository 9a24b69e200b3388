"""The change log, and the actions a responder can take on the shop: restarts, failovers and
the rollbacks, each of which undoes one kind of change."""

import itertools
from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from sim.scenario.schema.base import Duration, Model, Name

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
    "promote",
    "cancel_query",
    "drain",
    "add_back",
    "analyze",
    "read_only",
    "read_write",
    "retry_migration",
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
]
# Actions whose target is a change id (the rest target a component), and the change kind each needs.
CHANGE_ACTIONS: frozenset[str] = frozenset(
    {"rollback_deploy", "rollback_migration", "rollback_config"}
)
ROLLBACK_OF: Mapping[str, str] = MappingProxyType(
    {"deploy": "rollback_deploy", "migration": "rollback_migration", "config": "rollback_config"}
)


class Rollout(Model):
    """A change pushed in stages: each stage reaches a share of the instances of its
    components, and the next follows after ``every`` (the bake time) unless the change was
    rolled back or its flag turned off. A last stage under 1 is a partial deploy."""

    stages: tuple[Annotated[float, Field(gt=0, le=1)], ...] = Field(
        min_length=1,
        max_length=20,
        description="Shares of the instances reached, increasing (e.g. [0.1, 0.5, 1]).",
    )
    every: Duration = Field(default=600.0, gt=0, description="Time between two stages.")
    halt_on_alerts: bool = Field(
        default=True,
        description="The pipeline checks the alerts before each stage and halts the rollout "
        "while any is firing (it stays halted: resuming is a human's decision).",
    )

    @field_validator("stages")
    @classmethod
    def _increasing(cls, stages: tuple[float, ...]) -> tuple[float, ...]:
        if any(b <= a for a, b in itertools.pairwise(stages)):
            raise ValueError(f"stages must increase, got {list(stages)}")
        return stages


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
    lock_timeout: Duration | None = Field(
        default=None,
        description="A migration on a database with a data tier gives up waiting for a lock "
        "after this (and fails).",
    )
    rollout: Rollout | None = Field(
        default=None,
        description="A deploy or config change pushed in stages across the instances; "
        "omitted: everywhere at once (docs/mechanisms.md).",
    )
    flag: Name | None = Field(
        default=None,
        description="The feature flag the change's new behaviour sits behind: turning it off "
        "(toggle_flag) is its kill switch, everywhere within the flag system's propagation.",
    )
    logged: bool = Field(
        default=True,
        description="False: made outside the team's change log — by an automation, a customer "
        "or a vendor. The change log (`changes`) does not list it; the history of a component "
        "it touches does (`changes COMPONENT`, the component's own audit trail).",
    )

    @model_validator(mode="after")
    def _staged_code_or_config(self) -> "Change":
        if (self.rollout is not None or self.flag is not None) and self.kind not in (
            "deploy",
            "config",
        ):
            raise ValueError(
                f"only a deploy or a config change has a rollout or a flag, not a {self.kind}"
            )
        return self
