"""Detection: the first moment someone who can act knows — and through which channel.

Channels: ``alert`` (a page from a critical alert), ``customer escalation`` (customer service
escalated a wave of tickets), ``log watcher`` (the error-log rate rule fired).
"""

from __future__ import annotations

from typing import Any

from sim.model.world import Event, World

CHANNELS = {"page": "alert", "complaints.escalated": "customer escalation"}


class Detector:
    """Records every detection signal in order; the first one is *the* detection."""

    def __init__(self, world: World) -> None:
        self.signals: list[dict[str, Any]] = []
        world.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        if event.kind in CHANNELS:
            via = event.data.get("incident") or "tickets"
            self.signals.append({"t": event.t, "channel": CHANNELS[event.kind], "via": via})
        elif event.kind == "alert.firing" and event.data.get("rule") == "log_errors":
            self.signals.append(
                {"t": event.t, "channel": "log watcher", "via": event.data["alert"]}
            )

    def first(self) -> dict[str, Any] | None:
        return self.signals[0] if self.signals else None

    def to_journal(self) -> dict[str, Any]:
        first = self.first()
        channels: dict[str, float] = {}
        for s in self.signals:
            channels.setdefault(s["channel"], round(s["t"], 6))
        return {
            "detected_at": None if first is None else round(first["t"], 6),
            "channel": None if first is None else first["channel"],
            "via": None if first is None else first["via"],
            "first_by_channel": channels,
        }
