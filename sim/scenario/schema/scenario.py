"""The whole scenario: the shop, its traffic, its history, what breaks and when, who
responds, how it is scored and what a regression run must show."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from sim.scenario.limits import (
    MAX_ACTIONS,
    MAX_CHANGES,
    MAX_COMPONENTS,
    MAX_DEPENDENCIES,
    MAX_ENDPOINTS,
    MAX_FAULTS,
    MAX_HORIZON,
    MAX_MONITORS,
    MIN_WINDOW,
)
from sim.scenario.schema.base import Duration, Model, Name, NamedMap, Probability, within
from sim.scenario.schema.capacity import Capacity
from sim.scenario.schema.changes import Change
from sim.scenario.schema.components import Component, Dependency, Endpoint
from sim.scenario.schema.consequences import MAX_CONSEQUENCES, Consequence
from sim.scenario.schema.data import Databases
from sim.scenario.schema.expect import Expect
from sim.scenario.schema.faults import Fault
from sim.scenario.schema.response import Response, Runbook, ScriptedAction
from sim.scenario.schema.scoring import Scoring
from sim.scenario.schema.signals import (
    Complaints,
    Logs,
    Monitor,
    Monitoring,
    Probes,
    RedHerrings,
    Rotation,
)
from sim.scenario.schema.source import Source
from sim.scenario.schema.traffic import Traffic


def file_json_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario *file* (``chaosdrill schema``, for editors): a file that
    ``extends`` another is a partial document (any field may be left out or given in part,
    ``null`` removes one), so only its top-level names are checked; a file that extends
    nothing is checked in full. The loader checks the merged document either way."""
    schema = Scenario.model_json_schema()
    properties = schema.pop("properties")
    required = schema.pop("required", [])
    schema.pop("additionalProperties", None)
    schema["propertyNames"] = {"enum": list(properties)}
    schema["if"] = {"not": {"required": ["extends"]}}
    schema["then"] = {"properties": properties, "required": required}
    return schema


class Scenario(Model):
    """A whole drill: the shop, its traffic, its history, what breaks and when."""

    extends: str | None = Field(
        default=None,
        # left out of dumps: a dumped scenario is the merged document, complete by itself
        exclude=True,
        description="The file this scenario is written as changes to (a shop or another "
        "scenario), relative to this file; merged by the loader (docs/library.md).",
    )
    name: Name
    description: str
    seed: int = Field(default=1, ge=0)
    clock_start: datetime = Field(
        default=datetime.fromisoformat("2026-03-14T08:00:00+00:00"),
        description="Wall-clock time at simulated t=0 (drives the daily curve).",
    )
    horizon: Annotated[Duration, within(high=MAX_HORIZON)] = Field(gt=0)
    window: Annotated[Duration, within(low=MIN_WINDOW)] = Field(
        default=10.0, description="Metrics window."
    )
    error_threshold: Probability = Field(
        default=0.02, description="User-facing error ratio above which errors 'have started'."
    )
    components: NamedMap[Component] = Field(min_length=1, max_length=MAX_COMPONENTS)
    dependencies: tuple[Dependency, ...] = Field(default=(), max_length=MAX_DEPENDENCIES)
    endpoints: NamedMap[Endpoint] = Field(min_length=1, max_length=MAX_ENDPOINTS)
    traffic: Traffic
    databases: Databases = Field(
        default_factory=dict,
        description="The data tier of database components, by component name (docs/mechanisms.md).",
    )
    capacity: Capacity | None = Field(
        default=None,
        description="The account instances are launched into (quota, provisioning); declared, "
        "a scale-out launches instances through it (docs/mechanisms.md).",
    )
    changes: tuple[Change, ...] = Field(default=(), max_length=MAX_CHANGES)
    faults: tuple[Fault, ...] = Field(default=(), max_length=MAX_FAULTS)
    consequences: tuple[Consequence, ...] = Field(
        default=(),
        max_length=MAX_CONSEQUENCES,
        description="Faults that actions set off when they end (docs/mechanisms.md).",
    )
    actions: tuple[ScriptedAction, ...] = Field(default=(), max_length=MAX_ACTIONS)
    monitors: tuple[Monitor, ...] | None = Field(
        default=None, max_length=MAX_MONITORS, description="Alert rules; omitted: the default set."
    )
    monitoring: Monitoring | None = Field(
        default=None,
        description="What the metrics pipeline and alerting depend on (docs/mechanisms.md); "
        "omitted, monitoring never fails.",
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
    source: Source | None = Field(
        default=None,
        description="The public incident this scenario is modelled on, with its published "
        "timeline (docs/incidents.md); it does not change the run.",
    )
    expect: Expect | None = Field(
        default=None,
        description="Expectations checked by pytest (docs/regression.md); they do not "
        "change the run.",
    )
