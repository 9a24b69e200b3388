"""The data tier of a database component: its tables, sequences, replicas, locks, the
background queries it runs, and the rates that decide how long its repairs take.

A database component without an entry under ``databases:`` is a plain component (slots,
service times, broken tables). With one, the world decides the durations of what happens to
it (docs/mechanisms.md): a rewrite takes rows ÷ the rewrite rate, a queued lock waits for its
holder, a replica catches up at its apply rate, a restarted instance redoes its log and warms
its cache with traffic.
"""

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.scenario.schema.base import Duration, FrozenMap, Model, Name, NamedMap, Probability

MAX_TABLES = 1_000  # per database
MAX_BACKGROUND = 100  # long-running queries per database
MAX_RATE = 1e12  # rows or bytes per second
MAX_ROWS = 1e15  # rows of a table, a sequence's value

SequenceType = Literal["int32", "int64"]
SEQUENCE_MAX: dict[str, int] = {"int32": 2**31 - 1, "int64": 2**63 - 1}

Rate = Annotated[float, Field(gt=0, le=MAX_RATE)]
Rows = Annotated[float, Field(ge=0, le=MAX_ROWS)]


class Sequence(Model):
    """An ID sequence: the column type that bounds it and its next value when the run starts.

    Every insert into the table takes ``increment`` values; when the next value would pass the
    type's maximum, inserts fail with the database's own error while reads go on.
    """

    type: SequenceType = "int64"
    value: Rows = Field(default=1, description="The next value at t=0.")
    increment: int = Field(default=1, ge=1, le=1_000)

    @model_validator(mode="after")
    def _value_fits_the_type(self) -> "Sequence":
        top = SEQUENCE_MAX[self.type]
        if self.value > top:
            raise ValueError(f"value {self.value:.0f} is past the {self.type} maximum {top}")
        return self


class Table(Model):
    """A table: how many rows it has at t=0, how wide they are, and its ID sequence."""

    rows: Rows = 0
    row_bytes: int = Field(default=200, ge=1, le=1_000_000, description="Bytes per row.")
    sequence: Sequence | None = None


class Replication(Model):
    """Read replicas: instance 0 of the component is the primary, the others replay its writes.

    Lag is state: it grows when the primary's write rate passes a replica's apply rate and
    shrinks at their difference. Reads go to the replicas in rotation (``reads``), skipping
    those behind by more than ``max_lag``; a replica whose share of the read load passes its
    capacity × (1 − ``headroom``) falls over.
    """

    apply_rate: Rate = Field(description="Rows per second a replica replays.")
    reads: Literal["replicas", "primary", "any"] = Field(
        default="replicas",
        description="Where reads go: the replicas only (none serving: reads fail), the "
        "primary only, or any instance.",
    )
    max_lag: Duration | None = Field(
        default=None, description="Reads skip replicas further behind than this."
    )
    headroom: Probability = Field(
        default=0.2, description="A replica falls over above capacity × (1 − headroom)."
    )
    lag_at_start: Duration = Field(
        default=0.0, description="How far behind the replicas are at t=0 (seconds of apply)."
    )
    spares: int = Field(
        default=0,
        ge=0,
        le=100,
        description="The component's last instances kept empty: a scale-out provisions a "
        "replica into one (boot, a copy of the data at restore_rate, catch-up); none left, "
        "it is refused.",
    )


class Recovery(Model):
    """What an instance does before it serves again after a crash or a restart."""

    boot: Duration = Field(default=20.0, description="Process start.")
    redo_rate: Rate = Field(default=50_000.0, description="Rows per second of log replayed.")
    checkpoint_interval: Duration = Field(
        default=300.0, gt=0, description="A crash redoes the writes since the last checkpoint."
    )


class Cache(Model):
    """The buffer cache: an instance that starts cold serves ``cold_factor`` × slower and warms
    as it serves reads."""

    cold_factor: float = Field(default=4.0, ge=1, le=100)
    warm_after: Rows = Field(
        default=100_000, gt=0, description="Reads (scaled) that warm a cold cache."
    )
    prewarm: Duration = Field(
        default=300.0,
        gt=0,
        description="How long an instance out of the read rotation takes to load its working "
        "set from disk by itself (pg_prewarm).",
    )


class Background(Model):
    """A long-running query: analytics, a batch job, a forgotten transaction.

    It holds its lock on its tables from ``start`` for ``duration`` (or until cancelled) and
    takes one of the instance's slots.
    """

    id: Name
    tables: tuple[Name, ...] = Field(min_length=1)
    start: Duration = 0.0
    duration: Duration | Literal["until_cancelled"] = "until_cancelled"
    lock: Literal["share", "write", "exclusive"] = "share"
    query: str = Field(default="", description="What pg_stat_activity shows.")
    user: str = "analytics"


class Database(Model):
    """The data tier of one database component."""

    dialect: Literal["postgresql", "mysql"] = "postgresql"
    tables: NamedMap[Table] = Field(default_factory=dict, max_length=MAX_TABLES)
    replication: Replication | None = None
    recovery: Recovery = Recovery()
    cache: Cache | None = None
    rewrite_rate: Rate = Field(
        default=100_000.0, description="Rows per second a table rewrite (ALTER … TYPE) processes."
    )
    index_rate: Rate = Field(default=200_000.0, description="Rows per second an index build reads.")
    analyze_time: Duration = Field(default=30.0, description="How long ANALYZE of a table takes.")
    restore_rate: Rate = Field(
        default=100e6, description="Bytes per second restored from a backup or copied to a replica."
    )
    background: tuple[Background, ...] = Field(default=(), max_length=MAX_BACKGROUND)
    stats_reset_factor: float = Field(
        default=1.0,
        ge=1,
        le=1_000,
        description="× cost of queries on a table whose planner statistics a rewrite reset, "
        "until ANALYZE (1: no effect).",
    )


Databases = FrozenMap[Name, Database]

__all__ = [
    "SEQUENCE_MAX",
    "Background",
    "Cache",
    "Database",
    "Databases",
    "Recovery",
    "Replication",
    "Sequence",
    "SequenceType",
    "Table",
]
