"""Component state: healthy parameters × active effects. Faults and actions change it; engines read it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from sim.scenario.schema import Component

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class Effect:
    """One effect on one component, from a fault or an action (``source`` names it).

    Engines never see faults, only the combined effect of what is active.
    """

    source: str
    error_probability: float = 0.0
    error_class: str = "InternalError"
    message: str = "internal server error"
    latency_factor: float = 1.0
    capacity_factor: float = 1.0
    down_instances: tuple[int, ...] = ()
    hang: bool = False
    broken_tables: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    table_error_class: str = "DatabaseError"
    broken_share: float = 1.0  # of the queries on a broken table that fail
    silent: bool = False  # its metrics agent sends nothing (telemetry reads it, engines never)
    # the balancer's active checks of it are off: it sends to every instance
    unchecked: bool = False
    # it refuses at once what it cannot start within a round of work (load shedding)
    shedding: bool = False
    # The instances it is on (a staged change reaches some of them); None: all. Only its
    # latency factor and error probability are per instance.
    instances: frozenset[int] | None = None


def _no_meter() -> tuple[float, int, int]:
    return 0.0, 0, 0


class ComponentState:
    """The live state of one component, read on every request by the engines.

    Derived fields (``error_probability``, ``latency_factor`` …) are recomputed whenever an
    effect is added or removed, so reading them costs an attribute lookup.
    """

    __slots__ = (
        "base_error_class",
        "base_error_rate",
        "broken_share",
        "broken_tables",
        "capacity_factor",
        "changes",
        "down",
        "effects",
        "error_class",
        "error_message",
        "error_probability",
        "hang",
        "latency_factor",
        "meter",
        "name",
        "per_instance",
        "rederived",
        "replicas",
        "resized",
        "shedding",
        "silent",
        "table_error_class",
        "unchecked",
        "version",
    )

    def __init__(self, name: str, spec: Component) -> None:
        self.name = name
        self.replicas = spec.replicas
        self.version = spec.version
        self.base_error_rate = spec.error_rate
        self.base_error_class = spec.error_class
        self.effects: list[Effect] = []
        self.changes = 0  # how often the effects changed: engines cache what they derive
        # Who must hear when the number of instances changes (the engine's runtime).
        self.resized: list[Callable[[ComponentState], None]] = []
        # Who must hear when the derived fields change (the runtime's per-instance copies).
        self.rederived: list[Callable[[ComponentState], None]] = []
        # Set by the engine: (seconds of compute so far, worker slots held now, calls counted
        # so far), what a scaling policy reads as CPU, in-flight work and request rate.
        self.meter: Callable[[], tuple[float, int, int]] = _no_meter
        self._derive()

    def resize(self, replicas: int) -> None:
        """Run ``replicas`` instances from now on: new ones are added after the others, a
        scale-in takes the last ones out of service (their calls in flight finish)."""
        if replicas == self.replicas:
            return
        self.replicas = replicas
        self._derive()
        for listener in self.resized:
            listener(self)

    def add(self, effect: Effect) -> None:
        self.effects.append(effect)
        self._derive()

    def remove(self, source: str) -> bool:
        """Drop every effect from ``source``; return whether any was active."""
        before = len(self.effects)
        self.effects = [e for e in self.effects if e.source != source]
        self._derive()
        return len(self.effects) != before

    def _derive(self) -> None:
        self.changes += 1
        ok = 1.0 - self.base_error_rate
        self.error_class = self.base_error_class
        self.error_message = "internal server error"
        latency = capacity = 1.0
        down = [False] * self.replicas
        broken: dict[str, str] = {}
        hang = silent = unchecked = shedding = False
        table_class = "DatabaseError"
        share = 0.0
        uneven: list[Effect] = []
        for e in self.effects:
            if e.instances is not None:
                uneven.append(e)
                continue
            if e.error_probability > 0:
                ok *= 1.0 - e.error_probability
                self.error_class, self.error_message = e.error_class, e.message
            latency *= e.latency_factor
            capacity *= e.capacity_factor
            for i in e.down_instances:
                if i < self.replicas:
                    down[i] = True
            if e.broken_tables:
                broken.update(e.broken_tables)
                table_class = e.table_error_class
                share = max(share, e.broken_share)
            hang = hang or e.hang
            silent = silent or e.silent
            unchecked = unchecked or e.unchecked
            shedding = shedding or e.shedding
        self.error_probability = 1.0 - ok
        self.latency_factor = latency
        self.capacity_factor = capacity
        self.down = tuple(down)
        self.broken_tables: Mapping[str, str] = MappingProxyType(broken) if broken else _EMPTY
        self.table_error_class = table_class
        self.broken_share = share if broken else 1.0
        self.hang = hang
        self.silent = silent
        self.unchecked = unchecked
        self.shedding = shedding
        self.per_instance = self._per_instance(uneven) if uneven else None
        for listener in self.rederived:
            listener(self)

    def _per_instance(self, uneven: list[Effect]) -> tuple[tuple[float, float, str, str], ...]:
        """(latency factor, error probability, error class, message) of each instance, where
        effects on some instances only (a staged change) are active."""
        out = []
        for i in range(self.replicas):
            latency, ok = self.latency_factor, 1.0 - self.error_probability
            cls, message = self.error_class, self.error_message
            for e in uneven:
                if i in e.instances:  # type: ignore[operator]
                    latency *= e.latency_factor
                    if e.error_probability > 0:
                        ok *= 1.0 - e.error_probability
                        cls, message = e.error_class, e.message
            out.append((latency, 1.0 - ok, cls, message))
        return tuple(out)
