"""Fault types as effects: each builder turns a fault entry into component effects and remedies.

This module is the only place that knows fault types. Engines see :class:`Effect` fields only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from sim.model.state import Effect
from sim.model.world import World
from sim.scenario.durations import format_duration
from sim.scenario.schema import (
    CacheFlushFault,
    CapacityLossFault,
    CertificateExpiryFault,
    Change,
    ClockSkewFault,
    CrashFault,
    DataLossFault,
    DiskFullFault,
    DnsFailureFault,
    ErrorRateFault,
    Fault,
    LatencyFault,
    MemoryLeakFault,
    RegionOutageFault,
    SchemaMigrationFault,
    StopsReportingFault,
    ThirdPartyOutageFault,
)


@dataclass(frozen=True)
class ActiveFault:
    """A fault resolved against the world: when, where, what effect, and what remedies it."""

    id: str
    type: str
    start: float
    end: float | None  # None: until remedied
    effects: tuple[tuple[str, Effect], ...]  # (component, effect)
    targets: frozenset[str]  # component names and change ids an action may aim at
    remedies: Mapping[str, float]  # action kind → seconds the remedy takes
    # A migration whose commit starts the fault (on a database with a data tier the migration
    # is work: it starts when it commits, not when it was started); None: it starts at start.
    trigger: str | None = None
    # An episode a mechanism opened and will close (a lock queue, an exhausted sequence): no
    # effects of its own, and no action ends it — the actions in ``remedies`` change the
    # state that makes the mechanism close it.
    mechanism: bool = False
    components: tuple[str, ...] = ()  # where an episode is (a fault's are its effects')
    since: float = 0.0  # a latent fault: how long before t = 0 it began
    # The change that brought it (its cause, or the migration of a schema fault): rolling
    # back another change on the same component does not end it.
    change: str | None = None

    def describe(self) -> str:
        end = "until remedied" if self.end is None else f"until {format_duration(self.end)}"
        if self.mechanism or (self.end is None and not self.remedies):
            end = "until the mechanism ends it"
        where = ", ".join(sorted({c for c, _ in self.effects} | set(self.components)))
        return f"{self.type} on {where} from {format_duration(self.start)} {end}"


Builder = Callable[[Fault, World], tuple[str, Effect, frozenset[str]]]


def _schema(f: Fault, world: World) -> tuple[str, Effect, frozenset[str]]:
    assert isinstance(f, SchemaMigrationFault)
    change = world.changes[f.change]
    db = change.components[0]
    effect = Effect(
        source=f.id,
        broken_tables=dict(f.breaks),
        table_error_class=f.error_class,
        broken_share=f.share,
    )
    return db, effect, frozenset({db, f.change})


def _crash(f: Fault, world: World) -> tuple[str, Effect, frozenset[str]]:
    assert isinstance(f, CrashFault)
    replicas = world.topology.component(f.target).replicas
    count = replicas if f.instances is None else min(f.instances, replicas)
    return f.target, Effect(source=f.id, down_instances=tuple(range(count))), frozenset({f.target})


def _some(world: World, target: str, count: int | None) -> frozenset[int] | None:
    """The instances a fault on ``count`` of them is on (the first ones); None: all."""
    if count is None:
        return None
    return frozenset(range(min(count, world.topology.component(target).replicas)))


def _latency(f: Fault, world: World) -> tuple[str, Effect, frozenset[str]]:
    assert isinstance(f, LatencyFault)
    effect = Effect(
        source=f.id, latency_factor=f.factor, instances=_some(world, f.target, f.instances)
    )
    return f.target, effect, frozenset({f.target})


def _errors(f: Fault, world: World) -> tuple[str, Effect, frozenset[str]]:
    assert isinstance(f, ErrorRateFault)
    effect = Effect(
        source=f.id,
        error_probability=f.probability,
        error_class=f.error_class,
        message=f.message,
        instances=_some(world, f.target, f.instances),
    )
    return f.target, effect, frozenset({f.target})


def _capacity(f: Fault, world: World) -> tuple[str, Effect, frozenset[str]]:
    assert isinstance(f, CapacityLossFault)
    return f.target, Effect(source=f.id, capacity_factor=f.remaining), frozenset({f.target})


def _third_party(f: Fault, world: World) -> tuple[str, Effect, frozenset[str]]:
    assert isinstance(f, ThirdPartyOutageFault)
    if f.mode == "hangs":
        effect = Effect(source=f.id, hang=True)
    else:
        effect = Effect(
            source=f.id,
            error_probability=1.0,
            error_class="UpstreamUnavailable",
            message=f"{f.target}: {f.message}",
        )
    return f.target, effect, frozenset({f.target})


def _data_loss(f: Fault, world: World) -> tuple[str, Effect, frozenset[str]]:
    assert isinstance(f, DataLossFault)
    effect = Effect(source=f.id, down_instances=(f.instance,))
    return f.target, effect, frozenset({f.target})


def _memory_leak(f: Fault, world: World) -> tuple[str, Effect, frozenset[str]]:
    """No effect of its own: the memory mechanism (:mod:`.mechanisms.memory`) kills and
    restarts the instances whose leak runs out of headroom."""
    assert isinstance(f, MemoryLeakFault)
    return f.target, Effect(source=f.id), frozenset({f.target})


def _cache_flush(f: Fault, world: World) -> tuple[str, Effect, frozenset[str]]:
    """No effect of its own: the cache mechanism (:mod:`.mechanisms.cache`) empties the cache
    and ends the fault when it is warm again."""
    assert isinstance(f, CacheFlushFault)
    return f.target, Effect(source=f.id), frozenset({f.target})


def _stops_reporting(f: Fault, world: World) -> tuple[str, Effect, frozenset[str]]:
    """The component's series stop reaching the metrics pipeline; it serves as before."""
    assert isinstance(f, StopsReportingFault)
    return f.target, Effect(source=f.id, silent=True), frozenset({f.target})


def _spreads(f: Fault, world: World) -> tuple[str, Effect, frozenset[str]]:
    """No effect of its own: the spreading mechanism (:mod:`.mechanisms.spread`) fails the
    share of calls whose cached name or open connection has expired, and keeps a name's
    failures cached after the fault ends."""
    assert isinstance(f, DnsFailureFault | CertificateExpiryFault)
    return f.target, Effect(source=f.id), frozenset({f.target})


def _disk_full(f: Fault, world: World) -> tuple[str, Effect, frozenset[str]]:
    """No effect of its own: the disk mechanism (:mod:`.mechanisms.disk`) fills each
    instance's disk with what it serves and fails the instances whose disk is full."""
    assert isinstance(f, DiskFullFault)
    return f.target, Effect(source=f.id), frozenset({f.target})


def _clock_skew(f: Fault, world: World) -> tuple[str, Effect, frozenset[str]]:
    """No effect of its own: the clock mechanism (:mod:`.mechanisms.clock`) fails the
    instances whose skew has passed the tolerance."""
    assert isinstance(f, ClockSkewFault)
    return f.target, Effect(source=f.id), frozenset({f.target})


def _region_outage(f: Fault, world: World) -> tuple[str, Effect, frozenset[str]]:
    """No effect on the edge itself: the world's dark regions (``World.dark_regions``) fail
    the region's shoppers and checks at the edge until it is failed over or comes back. Its
    targets are the edge and the region (``failover_region`` aims at the region)."""
    assert isinstance(f, RegionOutageFault)
    return f.target, Effect(source=f.id), frozenset({f.target, f.region})


BUILDERS: dict[str, Builder] = {
    "schema_migration": _schema,
    "crash": _crash,
    "latency": _latency,
    "error_rate": _errors,
    "capacity_loss": _capacity,
    "third_party_outage": _third_party,
    "data_loss": _data_loss,
    "memory_leak": _memory_leak,
    "cache_flush": _cache_flush,
    "stops_reporting": _stops_reporting,
    "dns_failure": _spreads,
    "certificate_expiry": _spreads,
    "clock_skew": _clock_skew,
    "disk_full": _disk_full,
    "region_outage": _region_outage,
}

# Fault types whose mechanism works instance by instance (calls each instance served, an
# effect on some instances only): an engine that keeps neither cannot run them.
PER_INSTANCE: dict[str, str] = {
    "memory_leak": "memory leaks and OOM kills",
    "disk_full": "disks that fill",
    "clock_skew": "clocks that drift",
}

# Fault types whose mechanism works shopper by shopper at the edge, by the traffic region
# each comes from (the flow engine has no shopper's region): what the flow engine lacks.
PER_REGION: dict[str, str] = {
    "region_outage": "regions that go dark",
}

# Fault types whose effect, given `instances`, is one instance's error rate or latency (a
# crash on some instances is capacity lost, which a component-level engine can model).
SOME_INSTANCES: frozenset[str] = frozenset({"error_rate", "latency"})

# Remedies used when a fault entry names none: action kind → seconds.
DEFAULT_REMEDIES: dict[str, dict[str, float]] = {
    "schema_migration": {"rollback_migration": 480.0, "deploy_fix": 1800.0},
    "crash": {"restart": 0.0, "failover": 120.0},
    "latency": {"restart": 0.0},
    "error_rate": {"rollback_deploy": 300.0, "deploy_fix": 1200.0},
    "capacity_loss": {"scale_out": 180.0, "restart": 0.0},
    "third_party_outage": {"failover": 120.0},
    # How long a restore or a promotion takes is the data tier's to say (bytes ÷ restore_rate
    # then a boot; the replica's replay of what it has not applied yet).
    "data_loss": {"promote": 0.0, "restore": 0.0},
    # A restart only resets the instances' memory (the mechanism's doing): the leak goes on.
    "memory_leak": {"rollback_deploy": 300.0, "deploy_fix": 1200.0},
    # Over when the cache is warm again: what the store behind it answers decides.
    "cache_flush": {},
    # Restarting the component restarts its metrics agent with it.
    "stops_reporting": {"restart": 0.0},
    # Switching the callers to the secondary resolver; a broken config is rolled back.
    "dns_failure": {"failover": 120.0},
    # A renewed certificate, issued and deployed.
    "certificate_expiry": {"deploy_fix": 900.0},
    # The sync fixed (a restart only steps the clocks back: the mechanism's doing).
    "clock_skew": {"deploy_fix": 600.0},
    # What stops the writing; a full disk is freed by free_disk (the mechanism's episode).
    "disk_full": {"rollback_deploy": 300.0, "deploy_fix": 1200.0},
    # Moving the region's shoppers elsewhere: as long as their resolvers' TTL (the world's).
    "region_outage": {"failover_region": 0.0},
}


FLAG_PROPAGATION = 30.0  # seconds a flag change takes to reach every instance (a constant)


def reached(change: Change, replicas: int, stage: int) -> frozenset[int]:
    """The instances (of a component with ``replicas``) that stage ``stage`` of a staged
    change has reached: the first ⌈share × replicas⌉ of them, at least one."""
    assert change.rollout is not None
    share = change.rollout.stages[stage]
    return frozenset(range(max(1, math.ceil(share * replicas - 1e-9))))


def resolve(fault: Fault, world: World) -> ActiveFault:
    """Turn a scenario fault entry into an :class:`ActiveFault`."""
    component, effect, targets = BUILDERS[fault.type](fault, world)
    if fault.cause is not None:
        targets = targets | {fault.cause}
    if fault.start is not None:
        start = fault.start
    elif fault.since > 0:
        start = 0.0  # latent: already true when the run starts
    elif fault.cause is not None and not isinstance(fault, SchemaMigrationFault):
        start = world.changes[fault.cause].at  # it comes with its change
    else:
        assert isinstance(fault, SchemaMigrationFault)
        start = world.changes[fault.change].at
    end = None if fault.duration == "until_remedied" else start + fault.duration
    remedies: dict[str, float] = {str(k): v for k, v in fault.remedies.items()}
    remedies = remedies or dict(DEFAULT_REMEDIES[fault.type])
    effects = ((component, effect),)
    cause = world.changes.get(fault.cause) if fault.cause is not None else None
    if cause is not None and cause.flag is not None:
        # the change's kill switch turns its behaviour off everywhere, in the flag system's time
        remedies.setdefault("toggle_flag", FLAG_PROPAGATION)
        targets = targets | {cause.flag}
    if cause is not None and cause.rollout is not None:
        # a staged change: the fault is where the change has reached (its first stage now;
        # the rollout mechanism widens it stage by stage)
        first = reached(cause, world.states[component].replicas, 0)
        effects = ((component, replace(effect, instances=first)),)
    trigger = None
    if isinstance(fault, SchemaMigrationFault) and component in world.data:
        trigger = fault.change
    brought_by = fault.change if isinstance(fault, SchemaMigrationFault) else fault.cause
    return ActiveFault(
        fault.id,
        fault.type,
        start,
        end,
        effects,
        targets,
        remedies,
        trigger,
        since=fault.since,
        change=brought_by,
    )
