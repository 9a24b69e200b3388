"""Consequences: what an action does besides what it is for, declared as data — a rollback to
a version that, with a config change in effect, starves the CPU; a fix that rewrites a hot
table. When the action ends, its consequence's fault starts; so "the fix made it worse" can
happen, and happen for a reason that is written down."""

from pydantic import Field

from sim.scenario.schema.base import Model, Name
from sim.scenario.schema.changes import ActionKind
from sim.scenario.schema.faults import Fault

MAX_CONSEQUENCES = 100


class Trigger(Model):
    """The action that has the consequence: its kind and its target (a change or a component)."""

    action: ActionKind
    target: Name


class Consequence(Model):
    """A fault that starts when an action ends (at most once a run)."""

    id: Name
    when: Trigger
    while_config: Name | None = Field(
        default=None,
        description="Only while this config change is in effect (applied and not rolled back).",
    )
    why: str = Field(min_length=1, max_length=2_000, description="The reason, for the report.")
    fault: Fault = Field(
        description="Starts when the action ends (its own start is left out); its duration "
        "counts from then."
    )


__all__ = ["MAX_CONSEQUENCES", "Consequence", "Trigger"]
