"""Exports of a journal in the formats monitoring tools read.

- ``metrics.prom``: OpenMetrics text (timestamps in Unix seconds), one sample per metrics
  window, counters cumulative: what ``promtool tsdb create-blocks-from openmetrics`` backfills;
- ``metrics.txt``: the same samples in the Prometheus text format (timestamps in Unix
  milliseconds, as that format counts them): what ``promtool check metrics`` and
  ``prometheus_client.parser`` read;
- ``alerts.json``: the notifications Alertmanager would have sent, as webhook payloads;
- ``logs.jsonl`` and ``tickets.jsonl``: one JSON object per line.

Every time in them is on the scenario's clock (``clock_start`` plus simulated time): Unix time
in the metrics, ISO-8601 UTC (``2026-03-14T08:40:02.150800Z``) elsewhere. A ``clock_start``
without a UTC offset is read as UTC. All are pure functions of the journal.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
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
FILES = ("metrics.prom", "metrics.txt", "alerts.json", "logs.jsonl", "tickets.jsonl")
ZERO_TIME = "0001-01-01T00:00:00Z"  # Alertmanager's zero time: not resolved
# Times of a log line or a ticket other than its own (which becomes "timestamp")
INSTANTS = ("failed_at",)

Sample = tuple[str, float, float]  # labels as written ("" or '{k="v",…}'), value, Unix seconds
Family = tuple[str, str, str, list[Sample]]  # name (without _total), type, help, samples


def _instant(journal: Journal, t: float) -> datetime:
    """Simulated time ``t`` on the scenario's clock, in UTC."""
    start = datetime.fromisoformat(journal.data["clock_start"])
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    return (start + timedelta(seconds=t)).astimezone(UTC)


def _epoch(journal: Journal, t: float) -> float:
    return _instant(journal, t).timestamp()


def _iso(journal: Journal, t: float | None) -> str:
    if t is None:
        return ZERO_TIME
    return _instant(journal, t).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _num(x: float) -> str:
    return repr(float(x)) if isinstance(x, float) and not float(x).is_integer() else str(int(x))


def _families(journal: Journal) -> Iterator[Family]:
    """The metric families with their samples, counters made cumulative, timestamped at the
    end of each window."""
    series = journal.metrics_frame()
    business = journal.business_frame()
    window = float(journal.data["window"])
    for metric, column, kind, help_text in SERIES_METRICS:
        samples: list[Sample] = []
        for (scope, target), rows in series.groupby(["scope", "name"], sort=True):
            values = (
                (rows.errors + rows.timeouts + rows.rejected) if column is None else rows[column]
            )
            running = 0.0
            labels = f'{{scope="{scope}",name="{target}"}}'
            for t, v in zip(rows.t, values, strict=True):
                running = running + v if kind == "counter" else v
                samples.append((labels, running, _epoch(journal, t + window)))
        yield f"{PREFIX}_{metric}", kind, help_text, samples
    for metric, column, kind, help_text in BUSINESS_METRICS:
        samples = []
        running = 0.0
        for t, v in zip(business.t, business[column], strict=True):
            running += v
            samples.append(("", round(running, 2), _epoch(journal, t + window)))
        yield f"{PREFIX}_{metric}", kind, help_text, samples


def openmetrics(journal: Journal) -> str:
    """The journal's metrics in OpenMetrics text format, ending with ``# EOF``."""
    lines: list[str] = []
    for name, kind, help_text, samples in _families(journal):
        lines += [f"# TYPE {name} {kind}", f"# HELP {name} {help_text}."]
        suffix = "_total" if kind == "counter" else ""
        lines += [f"{name}{suffix}{labels} {_num(v)} {ts:.3f}" for labels, v, ts in samples]
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def prometheus_text(journal: Journal) -> str:
    """The same samples in the Prometheus text format (0.0.4): counters named ``…_total`` in
    their TYPE line, timestamps in Unix milliseconds, no ``# EOF``."""
    lines: list[str] = []
    for name, kind, help_text, samples in _families(journal):
        metric = f"{name}_total" if kind == "counter" else name
        lines += [f"# HELP {metric} {help_text}.", f"# TYPE {metric} {kind}"]
        lines += [f"{metric}{labels} {_num(v)} {round(ts * 1000)}" for labels, v, ts in samples]
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
                # an error tracker's alert: the line it quotes, as an annotation would carry it
                **({"description": alert["message"]} if "message" in alert else {}),
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


def on_the_clock(journal: Journal, record: Mapping[str, Any]) -> dict[str, Any]:
    """A log line or ticket with its times on the scenario's clock: its own time ``t``
    becomes ``timestamp``, other instants (``failed_at``) ISO-8601 UTC too."""
    out = {k: v for k, v in record.items() if k != "t"}
    out["timestamp"] = _iso(journal, record["t"])
    for key in INSTANTS:
        if out.get(key) is not None:
            out[key] = _iso(journal, out[key])
    return out


def _jsonl(journal: Journal, rows: list[dict[str, Any]]) -> str:
    return "".join(
        json.dumps(on_the_clock(journal, r), sort_keys=True, ensure_ascii=False) + "\n"
        for r in rows
    )


def write_exports(journal: Journal, folder: str | Path) -> list[Path]:
    """Write :data:`FILES` into ``folder``, as one whole: those an earlier export left there
    are replaced together (:func:`sim.atomic.staged_folder`). Returns the paths in ``folder``."""
    from sim.atomic import staged_folder, write_text

    logs = journal.data.get("logs", {}).get("lines", [])
    tickets = journal.data.get("complaints", {}).get("tickets", [])
    texts = (
        openmetrics(journal),
        prometheus_text(journal),
        json.dumps(alertmanager_payloads(journal), indent=1) + "\n",
        _jsonl(journal, logs),
        _jsonl(journal, tickets),
    )
    with staged_folder(folder, FILES) as stage:
        for name, text in zip(FILES, texts, strict=True):
            write_text(stage / name, text)
    return [Path(folder) / name for name in FILES]
