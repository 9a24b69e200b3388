"""Responding to an incident: actions that change state (the responder API grows here)."""

from sim.response.actions import DEFAULT_DURATIONS, Actions

__all__ = ["DEFAULT_DURATIONS", "Actions"]
