"""Exports of a journal in the formats monitoring tools read.

- ``metrics.prom``: OpenMetrics text (Prometheus exposition with timestamps), one sample per
  metrics window, counters cumulative;
- ``alerts.json``: the notifications Alertmanager would have sent, as webhook payloads;
- ``logs.jsonl`` and ``tickets.jsonl``: one JSON object per line.

All are pure functions of the journal.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sim.journal.record import Journal

PREFIX = "chaosdrill"
# (metric, column, type, help) for per-series rows
SERIES_METRICS = (
    ("requests", "requests", "counter", "Requests finished"),
    ("failures", None, "counter", "Requests that failed (error, timeout or rejected)"),
    ("timeouts", "timeouts", "counter", "Requests that timed out"),
    ("rejected", "rejected", "counter", "Requests rejected (queue full, no healthy upstream)"),
    ("latency_p95_seconds", "p95", "gauge", "95th percentile latency in the window"),
    ("latency_p99_seconds", "p99", "gauge", "99th percentile latency in the window"),
    ("busy", "busy", "gauge", "Busy slots at the end of the window"),
    ("queued", "queued", "gauge", "Queued calls at the end of the window"),
)
BUSINESS_METRICS = (
    ("sessions", "sessions", "counter", "Shopper sessions started"),
    ("orders", "orders", "counter", "Orders placed"),
    ("revenue", "revenue", "counter", "Revenue of orders placed"),
    ("checkout_failures", "checkout_failures", "counter", "Failed checkout requests"),
    ("lost_revenue", "lost_revenue", "counter", "Order value of shoppers who gave up"),
)


def _epoch(journal: Journal, t: float) -> float:
    start = datetime.fromisoformat(journal.data["clock_start"])
    return (start + timedelta(seconds=t)).timestamp()


def _iso(journal: Journal, t: float | None) -> str:
    if t is None:
        return "0001-01-01T00:00:00Z"  # Alertmanager's zero time: not resolved
    start = datetime.fromisoformat(journal.data["clock_start"])
    return (start + timedelta(seconds=t)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _num(x: float) -> str:
    return repr(float(x)) if isinstance(x, float) and not float(x).is_integer() else str(int(x))


def openmetrics(journal: Journal) -> str:
    """The journal's metrics in OpenMetrics text format, ending with ``# EOF``."""
    series = journal.metrics_frame()
    business = journal.business_frame()
    lines: list[str] = []
    window = float(journal.data["window"])
    for metric, column, kind, help_text in SERIES_METRICS:
        name = f"{PREFIX}_{metric}"
        lines += [f"# TYPE {name} {kind}", f"# HELP {name} {help_text}."]
        suffix = "_total" if kind == "counter" else ""
        for (scope, target), rows in series.groupby(["scope", "name"], sort=True):
            values = (
                (rows.errors + rows.timeouts + rows.rejected) if column is None else rows[column]
            )
            running = 0.0
            labels = f'scope="{scope}",name="{target}"'
            for t, v in zip(rows.t, values, strict=True):
                running = running + v if kind == "counter" else v
                ts = _epoch(journal, t + window)
                lines.append(f"{name}{suffix}{{{labels}}} {_num(running)} {ts:.3f}")
    for metric, column, kind, help_text in BUSINESS_METRICS:
        name = f"{PREFIX}_{metric}"
        lines += [f"# TYPE {name} {kind}", f"# HELP {name} {help_text}."]
        running = 0.0
        for t, v in zip(business.t, business[column], strict=True):
            running += v
            lines.append(
                f"{name}_total {_num(round(running, 2))} {_epoch(journal, t + window):.3f}"
            )
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def alertmanager_payloads(journal: Journal) -> list[dict[str, Any]]:
    """One Alertmanager webhook payload per alert transition (firing, then resolved)."""
    payloads: list[dict[str, Any]] = []
    events: list[tuple[float, str, dict[str, Any]]] = []
    for alert in journal.data.get("alerts", []):
        events.append((alert["starts_at"], "firing", alert))
        if alert["ends_at"] is not None:
            events.append((alert["ends_at"], "resolved", alert))
    for _t, status, alert in sorted(events, key=lambda e: (e[0], e[1] == "firing")):
        labels = dict(sorted(alert["labels"].items()))
        entry = {
            "status": status,
            "labels": labels,
            "annotations": {
                "summary": alert["summary"],
                "value": str(alert["value"]),
                "threshold": str(alert["threshold"]),
            },
            "startsAt": _iso(journal, alert["starts_at"]),
            "endsAt": _iso(journal, alert["ends_at"] if status == "resolved" else None),
            "generatorURL": f"chaosdrill://{journal.scenario_name}/monitors/{alert['monitor']}",
            "fingerprint": hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[
                :16
            ],
        }
        group = {"alertname": labels["alertname"]}
        payloads.append(
            {
                "version": "4",
                "groupKey": f'{{}}:{{alertname="{labels["alertname"]}"}}',
                "truncatedAlerts": 0,
                "status": status,
                "receiver": "on-call",
                "groupLabels": group,
                "commonLabels": labels,
                "commonAnnotations": entry["annotations"],
                "externalURL": "chaosdrill://alertmanager",
                "alerts": [entry],
            }
        )
    return payloads


def _jsonl(rows: Iterator[dict[str, Any]] | list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in rows)


def _write(path: Path, text: str) -> Path:
    from sim.atomic import write_text

    return write_text(path, text)


def write_exports(journal: Journal, folder: str | Path) -> list[Path]:
    """Write metrics.prom, alerts.json, logs.jsonl and tickets.jsonl into ``folder``."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    logs = journal.data.get("logs", {}).get("lines", [])
    tickets = journal.data.get("complaints", {}).get("tickets", [])
    return [
        _write(out / "metrics.prom", openmetrics(journal)),
        _write(out / "alerts.json", json.dumps(alertmanager_payloads(journal), indent=1) + "\n"),
        _write(out / "logs.jsonl", _jsonl(logs)),
        _write(out / "tickets.jsonl", _jsonl(tickets)),
    ]
