"""Faults: what breaks, when, for how long, and which actions remedy it."""

from typing import Annotated, Literal

from pydantic import Field

from sim.scenario.limits import MAX_FACTOR, MAX_REPLICAS
from sim.scenario.schema.base import Duration, FrozenMap, Model, Name, NamedMap, Probability
from sim.scenario.schema.changes import ActionKind

Remedies = FrozenMap[ActionKind, Duration]


class FaultBase(Model):
    """What every fault has: an id, when it starts and ends, and the actions that remedy it."""

    id: Name
    start: Duration | None = Field(default=None, description="Defaults to the change's time.")
    duration: Duration | Literal["until_remedied"] = "until_remedied"
    remedies: Remedies = Field(default_factory=dict)
    cause: Name | None = Field(
        default=None,
        description="The change that set this fault off (a deploy with a bug): naming it is a "
        "correct diagnosis, as naming the component is.",
    )
    since: Duration = Field(
        default=0.0,
        description="A latent fault: how long before t = 0 it began. It is already true when "
        "the run starts (its start is 0) and shows only when something exposes it — a "
        "replica whose disk died days ago is found when the primary fails.",
    )
    incident: Name | None = Field(
        default=None,
        description="Which incident of the shift this fault belongs to, by a name of your "
        "choice. Left out everywhere, the faults are one incident. Name two or more and each "
        "is its own incident — its own page, its own milestones in the scorecard, the report "
        "and the drill (docs/scoring.md); once one fault names its incident, every fault must.",
    )


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
    instances: int | None = Field(
        default=None, ge=1, le=MAX_REPLICAS, description="How many; all if omitted."
    )


SOME_INSTANCES = (
    "On this many of the component's instances (the first ones): a gray failure of one bad "
    "host. All if omitted."
)


class LatencyFault(FaultBase):
    """A component becomes slower by ``factor``."""

    type: Literal["latency"]
    target: Name
    factor: float = Field(gt=1, le=MAX_FACTOR)
    instances: int | None = Field(default=None, ge=1, le=MAX_REPLICAS, description=SOME_INSTANCES)


class ErrorRateFault(FaultBase):
    """A component fails a share of its requests."""

    type: Literal["error_rate"]
    target: Name
    probability: Probability
    instances: int | None = Field(default=None, ge=1, le=MAX_REPLICAS, description=SOME_INSTANCES)
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


class DataLossFault(FaultBase):
    """An instance of a database with a data tier loses its data directory (an ``rm -rf`` on
    the wrong host, a volume gone): it serves nothing until it is restored from a backup — a
    copy of the whole database at its ``restore_rate``, then a boot, then a cold cache."""

    type: Literal["data_loss"]
    target: Name
    instance: int = Field(
        default=0, ge=0, le=MAX_REPLICAS, description="Which instance (0: the primary)."
    )


class MemoryLeakFault(FaultBase):
    """Each call an instance serves keeps ``per_call`` bytes it never frees. An instance whose
    leak passes its ``headroom`` is killed by the kernel's OOM killer and restarts (its
    ``restart_time``) with its memory back: a sawtooth of restarts whose period the traffic
    decides. A restart buys time; rolling back the change that brought the leak ends it."""

    type: Literal["memory_leak"]
    target: Name
    per_call: float = Field(gt=0, le=1e12, description="Bytes kept per call served.")
    headroom: float = Field(
        gt=0, le=1e15, description="Bytes free above an instance's working set when it starts."
    )


class CacheFlushFault(FaultBase):
    """A cache is emptied (a flush, an eviction storm, a new cluster): every lookup misses
    and goes to the store behind it. It is over when the cache is warm again — which the
    misses the store manages to answer decide (docs/mechanisms.md)."""

    type: Literal["cache_flush"]
    target: Name


class DnsFailureFault(FaultBase):
    """The name of a component stops resolving (a broken DNS config, a resolver down). Its
    callers hold it in their caches for ``ttl``: as the entries expire — evenly over the TTL —
    a growing share of the calls fail with a name-resolution error. Once it is fixed, the
    failures each caller has cached last ``negative_ttl`` more (docs/mechanisms.md)."""

    type: Literal["dns_failure"]
    target: Name
    ttl: Duration = Field(
        default=300.0, gt=0, description="How long callers cache a name they resolved."
    )
    negative_ttl: Duration = Field(
        default=60.0, ge=0, description="How long callers cache a failed lookup."
    )


class DiskFullFault(FaultBase):
    """Each call an instance serves writes ``per_call`` bytes to its disk (a debug log left
    on, temporary files never cleaned up). An instance whose writes pass the ``free`` space
    fails every call with ``No space left on device`` until someone frees its disk
    (``free_disk``): when, is the traffic's to say; a restart frees nothing, and only ending
    the fault (rolling back its cause) stops the disks filling again."""

    type: Literal["disk_full"]
    target: Name
    per_call: float = Field(gt=0, le=1e12, description="Bytes written per call served.")
    free: float = Field(gt=0, le=1e15, description="Bytes free on each instance's disk.")


class CertificateExpiryFault(FaultBase):
    """A component's TLS certificate expires (its ``start`` is the expiry). Connections its
    callers opened before go on until they are recycled, evenly over ``connection_age``;
    every new handshake fails. A renewed certificate deployed (``deploy_fix``) ends it."""

    type: Literal["certificate_expiry"]
    target: Name
    connection_age: Duration = Field(
        default=600.0,
        gt=0,
        description="How long callers keep a connection open before opening a new one.",
    )


class ClockSkewFault(FaultBase):
    """A component's instances stop syncing their clocks (the NTP daemon died, its servers
    unreachable): each drifts at its own rate — from 0.6× to 1.4× ``drift`` across the
    instances — and once its skew passes ``tolerance`` it fails every call that checks a
    timestamp (tokens "issued in the future"). A restart steps an instance's clock back and
    it drifts again from there; fixing the sync (``deploy_fix``) ends it. Often latent
    (``since``): the sync stopped days ago."""

    type: Literal["clock_skew"]
    target: Name
    drift: float = Field(
        gt=0, le=0.01, description="Seconds of skew an instance gains per second (1e-4: 100 ppm)."
    )
    tolerance: Duration = Field(
        default=60.0, gt=0, description="Skew beyond which the component's checks fail."
    )


class StopsReportingFault(FaultBase):
    """A component's metrics agent stops: its series stop reaching the pipeline while it
    serves as before. Active probes stay green; dashboards show no data for it and only a
    ``metric_absent`` rule notices. A restart of the component restarts its agent."""

    type: Literal["stops_reporting"]
    target: Name


class RegionOutageFault(FaultBase):
    """One region of the shop goes dark at its edge (``target``, the load balancer shoppers
    reach first): its network path or its balancers are gone, so every request of a shopper
    in ``region`` (and every synthetic check from it) fails at once with a connection error,
    while the other regions serve as before. ``failover_region`` moves the region's shoppers
    to another region as their resolvers' cached answers expire (``traffic.dns_ttl``), and
    ends it for the shop; otherwise it lasts its ``duration`` (the provider's recovery)."""

    type: Literal["region_outage"]
    target: Name
    region: Name = Field(description="The traffic region whose edge goes dark.")


Fault = Annotated[
    SchemaMigrationFault
    | CrashFault
    | LatencyFault
    | ErrorRateFault
    | CapacityLossFault
    | ThirdPartyOutageFault
    | DataLossFault
    | MemoryLeakFault
    | CacheFlushFault
    | StopsReportingFault
    | DnsFailureFault
    | DiskFullFault
    | CertificateExpiryFault
    | ClockSkewFault
    | RegionOutageFault,
    Field(discriminator="type"),
]
