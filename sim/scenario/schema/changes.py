"""The change log, and the actions a responder can take on the shop: restarts, failovers and
the rollbacks, each of which undoes one kind of change."""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

from pydantic import Field

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
    "escalate",
]
# Actions whose target is a change id (the rest target a component), and the change kind each needs.
CHANGE_ACTIONS: frozenset[str] = frozenset(
    {"rollback_deploy", "rollback_migration", "rollback_config"}
)
ROLLBACK_OF: Mapping[str, str] = MappingProxyType(
    {"deploy": "rollback_deploy", "migration": "rollback_migration", "config": "rollback_config"}
)


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
