"""Telemetry: what a responder can know (windowed metrics now; logs, alerts, complaints later)."""

from sim.telemetry.metrics import Metrics, Series

__all__ = ["Metrics", "Series"]
