"""Paging: critical alerts are grouped into incidents and page the on-call engineer.

An on-call rotation (faker names, seeded) has a primary and a secondary. The first critical
alert opens an incident; alerts that fire within ``group_wait`` join the same page, and later
ones join the open incident without paging again (deduplication). The primary acknowledges
after a random delay; if that takes longer than ``escalate_after``, the secondary is paged.
With ``manual`` (people at a drill or game day), nobody acknowledges by themselves: the page
waits for :meth:`Pager.acknowledge`, escalating after ``escalate_after`` as before.
Customer support's escalation (``complaints.escalated``) opens and pages an incident too
when nobody has been paged yet in the run: the way an outage that no alert rule sees still
reaches the on-call. An incident closes when all its alerts have resolved; a critical alert within
``group_interval`` of the close reopens it silently instead of paging again.
"""

from __future__ import annotations

import random
from collections.abc import Generator
from typing import Any

import simpy

from sim.engine.common.streams import sampler
from sim.model.world import Event, World
from sim.scenario.schema import Rotation


def rotation_names(spec: Rotation, seed: int) -> list[str]:
    """The engineers on call, primary first: the scenario's names or seeded faker ones."""
    if spec.names:
        return list(spec.names)
    from faker import Faker

    fake = Faker()
    fake.seed_instance(seed)
    return [fake.name() for _ in range(spec.size)]


# The "alert" of an incident that customer support opened (docs/signals.md, complaints).
ESCALATION = "customer-escalation"


def what_paged(alerts: list[str]) -> str:
    """An incident's alerts in words: ``3 critical alerts``, ``customer support's escalation``
    or both."""
    n = sum(a != ESCALATION for a in alerts)
    parts = ["customer support's escalation"] if ESCALATION in alerts else []
    if n or not parts:
        parts.append(f"{n} critical alert{'s' if n != 1 else ''}")
    return " and ".join(parts)


class Pager:
    """Listens to ``alert.*`` events on the world and pages people (as SimPy processes)."""

    def __init__(
        self,
        env: simpy.Environment,
        world: World,
        spec: Rotation,
        rng: random.Random,
        names: list[str],
        *,
        manual: bool = False,
    ) -> None:
        self.env = env
        self.manual = manual
        self.waiting: dict[str, simpy.Event] = {}  # manual: incident id -> its acknowledgement
        self.world = world
        self.spec = spec
        self.ack_delay = sampler(spec.ack_delay, rng)
        self.names = names
        self.incidents: list[dict[str, Any]] = []
        self.open: dict[str, Any] | None = None
        self.firing: set[str] = set()
        self.closed_at: float | None = None
        self.deduplicated = 0
        self.grouping: set[str] = set()  # incidents whose first alerts are being grouped
        world.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        if event.kind == "alert.firing" and event.data["severity"] == "critical":
            self.firing.add(event.data["alert"])
            self._alert(event.t, event.data["alert"])
        elif event.kind == "complaints.escalated" and not self.incidents:
            # Support escalates to engineering and nobody has been paged yet: support pages
            # the on-call (an alert rule that watches the wrong thing is no longer the end).
            self._alert(event.t, ESCALATION)
            wave = event.data
            self.incidents[-1]["support"] = {
                "tickets": wave["tickets"],
                "window": wave["window"],
                "topics": dict(wave["topics"]),
            }
        elif event.kind == "alert.resolved" and event.data["alert"] in self.firing:
            self.firing.discard(event.data["alert"])
            if not self.firing and self.open is not None:
                self.open["closed_at"] = round(event.t, 6)
                self.open, self.closed_at = None, event.t
                self.world.emit(event.t, "incident.closed", incident=self.incidents[-1]["id"])

    def _alert(self, t: float, alert: str) -> None:
        if self.open is not None:
            self.open["alerts"].append(alert)
            if self.open["paged_at"] is not None:
                self.deduplicated += 1
            return
        recent = self.closed_at is not None and t - self.closed_at < self.spec.group_interval
        if recent and self.incidents:
            self.open = self.incidents[-1]
            self.open["alerts"].append(alert)
            self.open["closed_at"] = None
            if self.open["paged_at"] is None and self.open["id"] not in self.grouping:
                # it closed while its first alerts were being grouped, before anyone was paged
                self.grouping.add(self.open["id"])
                self.env.process(self._page(self.open))
            else:
                self.deduplicated += 1
            return
        incident_id = f"INC-{len(self.incidents) + 1:03d}"
        incident = {
            "id": incident_id,
            "opened_at": round(t, 6),
            "alerts": [alert],
            "paged_at": None,
            "paged": [],
            "acknowledged_at": None,
            "acknowledged_by": None,
            "escalated_at": None,
            "closed_at": None,
        }
        self.incidents.append(incident)
        self.open = incident
        self.grouping.add(incident_id)
        self.env.process(self._page(incident))

    def _page(self, incident: dict[str, Any]) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(self.spec.group_wait)
        self.grouping.discard(incident["id"])
        if incident["closed_at"] is not None:
            return  # every alert resolved while the page was being grouped: nobody is paged
        primary, secondary = self.names[0], self.names[1]
        incident["paged_at"] = round(self.env.now, 6)
        incident["paged"].append(primary)
        self.world.emit(
            self.env.now,
            "page",
            incident=incident["id"],
            to=primary,
            alerts=list(incident["alerts"]),
        )
        paged_at = self.env.now
        if self.manual:
            yield from self._wait_for_people(incident)
            return
        delay = self.ack_delay()
        if delay <= self.spec.escalate_after:
            yield self.env.timeout(delay)
            who = primary
        else:
            yield self.env.timeout(self.spec.escalate_after)
            self._escalate(incident, secondary)
            yield self.env.timeout(self.ack_delay())
            who = secondary
        self._acknowledged(incident, who, paged_at)

    def _acknowledged(self, incident: dict[str, Any], who: str, paged_at: float) -> None:
        incident["acknowledged_at"] = round(self.env.now, 6)
        incident["acknowledged_by"] = who
        self.world.emit(
            self.env.now,
            "page.acknowledged",
            incident=incident["id"],
            by=who,
            after=round(self.env.now - paged_at, 6),
        )

    def _wait_for_people(self, incident: dict[str, Any]) -> Generator[simpy.Event, Any, None]:
        """Manual acknowledgement: escalate to the secondary if nobody has acknowledged in
        ``escalate_after``; :meth:`acknowledge` ends the wait."""
        acked = self.waiting[incident["id"]] = self.env.event()
        yield self.env.any_of([acked, self.env.timeout(self.spec.escalate_after)])
        if incident["acknowledged_at"] is None:  # set by whoever acknowledged meanwhile
            self._escalate(incident, self.names[1])

    def _escalate(self, incident: dict[str, Any], to: str) -> None:
        """Nobody acknowledged in ``escalate_after``: the next engineer is paged."""
        incident["escalated_at"] = round(self.env.now, 6)
        incident["paged"].append(to)
        self.world.emit(
            self.env.now,
            "page.escalated",
            incident=incident["id"],
            to=to,
            after=self.spec.escalate_after,
        )

    def unacknowledged(self) -> dict[str, Any] | None:
        """The latest incident that paged and nobody has acknowledged yet."""
        found: dict[str, Any] | None = None
        for incident in reversed(self.incidents):
            if incident["paged_at"] is not None and incident["acknowledged_at"] is None:
                found = incident
                break
        return found

    def acknowledge(self, who: str | None = None) -> dict[str, Any] | None:
        """Someone acknowledges the latest unacknowledged page now (``manual`` paging);
        ``who`` defaults to whoever was paged last. Returns the incident, or ``None``."""
        incident = self.unacknowledged()
        if incident is None:
            return None
        self._acknowledged(incident, who or incident["paged"][-1], float(incident["paged_at"]))
        waiting = self.waiting.pop(incident["id"], None)
        if waiting is not None and not waiting.triggered:
            waiting.succeed()
        return incident

    def to_journal(self) -> dict[str, Any]:
        return {
            "rotation": self.names,
            "incidents": self.incidents,
            "deduplicated_alerts": self.deduplicated,
        }
