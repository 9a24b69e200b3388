"""The scenario schema, declared once: typed, validated, immutable.

Every class here is a frozen pydantic model that rejects unknown keys. Shape and value
checks live here (pass one); cross-references between sections are checked in
:mod:`sim.scenario.references` (pass two).

One module per part of a scenario file, each importing only the ones above it:
:mod:`~sim.scenario.schema.base` (the base model, names, durations, read-only mappings),
:mod:`~sim.scenario.schema.components` (components, dependencies, endpoints, calls),
:mod:`~sim.scenario.schema.traffic`, :mod:`~sim.scenario.schema.changes` (the change log and
the actions on the shop), :mod:`~sim.scenario.schema.faults`,
:mod:`~sim.scenario.schema.signals` (monitors, paging, probes, logs, complaints, red
herrings), :mod:`~sim.scenario.schema.response` (runbooks, responders, scripted actions),
:mod:`~sim.scenario.schema.scoring`, :mod:`~sim.scenario.schema.expect` and
:mod:`~sim.scenario.schema.scenario` (the whole :class:`Scenario`). Every name is importable
from here.
"""

from sim.scenario.schema.base import (
    NAME_PATTERN,
    Duration,
    FrozenMap,
    Model,
    Name,
    NamedMap,
    Probability,
    TimeDistribution,
)
from sim.scenario.schema.capacity import Autoscaling, Capacity
from sim.scenario.schema.changes import CHANGE_ACTIONS, ROLLBACK_OF, ActionKind, Change
from sim.scenario.schema.components import (
    Breaker,
    Call,
    Component,
    ComponentKind,
    Dependency,
    Endpoint,
    HealthCheck,
    LinkVendor,
    Retry,
)
from sim.scenario.schema.consequences import Consequence, Trigger
from sim.scenario.schema.data import (
    SEQUENCE_MAX,
    Background,
    Cache,
    Database,
    Databases,
    Recovery,
    Replication,
    Sequence,
    Table,
)
from sim.scenario.schema.expect import (
    MAX_SEEDS,
    TIMED_BOUNDS,
    BaselineBounds,
    Bounds,
    Count,
    Expect,
    RunBounds,
    Seeds,
)
from sim.scenario.schema.faults import (
    CacheFlushFault,
    CapacityLossFault,
    CrashFault,
    DataLossFault,
    ErrorRateFault,
    Fault,
    FaultBase,
    LatencyFault,
    MemoryLeakFault,
    Remedies,
    SchemaMigrationFault,
    ThirdPartyOutageFault,
)
from sim.scenario.schema.response import (
    LEADS,
    LeadKind,
    Profile,
    Response,
    Runbook,
    RunbookCall,
    RunbookStep,
    ScriptedAction,
    When,
)
from sim.scenario.schema.scenario import Scenario
from sim.scenario.schema.scoring import ScoreKey, Scoring, Slo
from sim.scenario.schema.signals import (
    Complaints,
    Escalation,
    Logs,
    Monitor,
    Probes,
    RedHerring,
    RedHerrings,
    Rotation,
    Severity,
)
from sim.scenario.schema.source import Milestone, Source, SourceEvent
from sim.scenario.schema.traffic import FunnelStep, MoneyDistribution, Surge, Traffic

__all__ = [
    "CHANGE_ACTIONS",
    "LEADS",
    "MAX_SEEDS",
    "NAME_PATTERN",
    "ROLLBACK_OF",
    "SEQUENCE_MAX",
    "TIMED_BOUNDS",
    "ActionKind",
    "Autoscaling",
    "Background",
    "BaselineBounds",
    "Bounds",
    "Breaker",
    "Cache",
    "CacheFlushFault",
    "Call",
    "Capacity",
    "CapacityLossFault",
    "Change",
    "Complaints",
    "Component",
    "ComponentKind",
    "Consequence",
    "Count",
    "CrashFault",
    "DataLossFault",
    "Database",
    "Databases",
    "Dependency",
    "Duration",
    "Endpoint",
    "ErrorRateFault",
    "Escalation",
    "Expect",
    "Fault",
    "FaultBase",
    "FrozenMap",
    "FunnelStep",
    "HealthCheck",
    "LatencyFault",
    "LeadKind",
    "LinkVendor",
    "Logs",
    "MemoryLeakFault",
    "Milestone",
    "Model",
    "MoneyDistribution",
    "Monitor",
    "Name",
    "NamedMap",
    "Probability",
    "Probes",
    "Profile",
    "Recovery",
    "RedHerring",
    "RedHerrings",
    "Remedies",
    "Replication",
    "Response",
    "Retry",
    "Rotation",
    "RunBounds",
    "Runbook",
    "RunbookCall",
    "RunbookStep",
    "Scenario",
    "SchemaMigrationFault",
    "ScoreKey",
    "Scoring",
    "ScriptedAction",
    "Seeds",
    "Sequence",
    "Severity",
    "Slo",
    "Source",
    "SourceEvent",
    "Surge",
    "Table",
    "ThirdPartyOutageFault",
    "TimeDistribution",
    "Traffic",
    "Trigger",
    "When",
]
