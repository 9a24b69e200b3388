"""What the trainee sees: evidence as tables and text charts, the page, the status line.

Everything here draws from the evidence the action API returned and from published
telemetry (closed metrics windows, kept log lines) — never from the fault list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from sim.response.evidence import Evidence
from sim.scenario import format_duration
from sim.scenario.durations import wall_clock
from sim.telemetry.metrics import BUSINESS_COLUMNS, SERIES_COLUMNS
from sim.telemetry.paging import ESCALATION

if TYPE_CHECKING:
    from sim.response.api import Incident
    from sim.response.running import Running

BARS = "▁▂▃▄▅▆▇█"
CHART_SPAN = 1800.0  # the dashboard shows the last 30 minutes
BUCKET = 60.0  # one bar a minute
_S = {name: i for i, name in enumerate(SERIES_COLUMNS)}
_B = {name: i for i, name in enumerate(BUSINESS_COLUMNS)}


def clock(simulation: Running, t: float, seconds: bool = True) -> str:
    """Wall-clock time of simulated ``t`` (``08:41:40``)."""
    return wall_clock(simulation.scenario.clock_start, t, seconds)


def sparkline(values: Sequence[float | None], top: float | None = None) -> str:
    """One character per value, scaled to ``top`` (default: the largest); gaps as ``·``."""
    known = [v for v in values if v is not None]
    peak = top if top is not None else max(known, default=0.0)
    out = []
    for v in values:
        if v is None:
            out.append("·")
        elif peak <= 0 or v <= 0:
            out.append(BARS[0])
        else:
            out.append(BARS[min(len(BARS) - 1, int(v / peak * (len(BARS) - 1) + 0.5))])
    return "".join(out)


def impact_so_far(simulation: Running) -> tuple[float, float]:
    """(failed checkouts, lost revenue) since the start, from the business metrics rows."""
    failed = lost = 0.0
    fi, li = _B["checkout_failures"], _B["lost_revenue"]
    for row in simulation.engine.metrics.business_rows:
        failed += row[fi]
        lost += row[li]
    return failed, lost


def status_line(incident: Incident, took: float | None, extra: str = "") -> Text:
    """Clock, time the command took, live impact: shown after every command."""
    sim = incident.sim
    failed, lost = impact_so_far(sim)
    cur = sim.scenario.traffic.order_value.currency
    parts = [f"{clock(sim, incident.now)} (+{format_duration(round(incident.now))})"]
    if took is not None and took > 0:
        parts.append(f"took {format_duration(round(took))}")
    parts.append(f"failed checkouts {failed:,.0f}")
    parts.append(f"lost revenue {lost:,.0f} {cur}")
    if extra:
        parts.append(extra)
    return Text("── " + " · ".join(parts) + " ──", style="dim")


def page(incident: Incident, paged: dict[str, Any] | None = None) -> RenderableType:
    """The page: when, which incident, which alerts (their one-line summaries); by default
    the shift's first."""
    sim = incident.sim
    if paged is None:
        paged = next((i for i in sim.pager.incidents if i["paged_at"] is not None), None)
    if paged is None:
        return Text("no page")
    summaries = {a["id"]: a for a in sim.monitors.records}
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold red")
    table.add_column()
    for alert_id in paged["alerts"]:
        if alert_id == ESCALATION:
            table.add_row("SUPPORT", _escalation(paged.get("support")))
            continue
        a = summaries.get(alert_id)
        table.add_row((a["severity"] if a else "critical").upper(), a["summary"] if a else alert_id)
    title = Text.assemble(
        ("PAGE ", "bold white on red"),
        (f" {clock(sim, paged['paged_at'])} — {paged['id']}, you are on call", "bold"),
    )
    return Group(title, table)


def _escalation(wave: dict[str, Any] | None) -> str:
    """Customer support's escalation that opened an incident, as support says it."""
    if wave is None:
        return "customer support escalates: customers report failures"
    topics = ", ".join(f"{topic} ({n})" for topic, n in wave["topics"].items())
    minutes = format_duration(round(wave["window"]))
    return f"customer support escalates {wave['tickets']} tickets in {minutes}, about: {topics}"


# -- evidence -----------------------------------------------------------------------------
def evidence(ev: Evidence, incident: Incident, grep: str | None = None) -> RenderableType:
    """The answer to one command."""
    if not ev.ok:
        return Text(ev.summary, style="yellow")
    draw = _DRAW.get(ev.call)
    head = Text(ev.summary)
    if draw is None:
        return head
    body = draw(ev, incident, grep) if ev.call == "logs" else draw(ev, incident, None)
    return Group(head, body) if body is not None else head


def _pct(x: float) -> str:
    return f"{x:.0%}" if x >= 0.01 or x == 0 else "<1%"


def _status(ev: Evidence, incident: Incident, _: str | None) -> RenderableType | None:
    regions: dict[str, list[str]] = ev.facts["regions"]
    if not regions:
        return None
    table = Table(box=None, pad_edge=False)
    table.add_column("region")
    table.add_column("synthetic checks")
    for region, eps in regions.items():
        table.add_row(region, Text("failing: " + ", ".join(eps), "red") if eps else "green")
    return table


@dataclass
class Minutes:
    """What the dashboards hold for the last ``span`` seconds, one bucket a minute (gaps where
    monitoring lost the window: ``seen``/``arrived`` False). Read-only: it costs no time."""

    first: float
    buckets: int
    req: dict[str, list[float]]
    bad: dict[str, list[float]]
    p95: dict[str, list[float]]
    seen: dict[str, list[bool]]
    orders: list[float]
    failed: list[float]
    lost: list[float]
    arrived: list[bool]
    expected: list[float]
    busy: dict[str, list[float]]  # components: in flight at the end of the bucket's last window


def minutes(incident: Incident, span: float = CHART_SPAN) -> Minutes:
    """The dashboards' data over the last ``span`` seconds (drill and game day alike)."""
    sim = incident.sim
    now = incident.now
    start = max(0.0, now - span)
    buckets = max(1, int((now - start) // BUCKET))
    first = now - buckets * BUCKET
    names = list(sim.scenario.endpoints)
    m = Minutes(
        first,
        buckets,
        {n: [0.0] * buckets for n in names},
        {n: [0.0] * buckets for n in names},
        {n: [0.0] * buckets for n in names},
        {n: [False] * buckets for n in names},
        [0.0] * buckets,
        [0.0] * buckets,
        [0.0] * buckets,
        [False] * buckets,
        [],
        {},
    )
    for row in incident.view.rows_since(first, "endpoint"):
        i = int((row[_S["t"]] - first) // BUCKET)
        name = row[_S["name"]]
        if 0 <= i < buckets and name in m.req:
            m.seen[name][i] = True
            m.req[name][i] += row[_S["requests"]]
            m.bad[name][i] += row[_S["errors"]] + row[_S["timeouts"]] + row[_S["rejected"]]
            m.p95[name][i] = max(m.p95[name][i], row[_S["p95"]])
    for row in incident.view.rows_since(first, "component"):
        i = int((row[_S["t"]] - first) // BUCKET)
        if 0 <= i < buckets:
            busy = m.busy.setdefault(row[_S["name"]], [-1.0] * buckets)
            busy[i] = max(busy[i], float(row[_S["busy"]]))
    dark = sim.pipeline.dark  # windows whose business row never reached the dashboards
    for row in reversed(sim.engine.metrics.business_rows):
        t = row[_B["t"]]
        if t < first:
            break
        i = int((t - first) // BUCKET)
        if 0 <= i < buckets and t not in dark:
            m.arrived[i] = True
            m.orders[i] += row[_B["orders"]]
            m.failed[i] += row[_B["checkout_failures"]]
            m.lost[i] += row[_B["lost_revenue"]]
    m.expected = [
        sim.expected_orders(first + i * BUCKET, first + (i + 1) * BUCKET) for i in range(buckets)
    ]
    return m


def _dashboard(ev: Evidence, incident: Incident, _: str | None) -> RenderableType:
    """Failed share per endpoint, then the business, as sparklines over the last 30 min."""
    sim = incident.sim
    now = incident.now
    m = minutes(incident)
    first, buckets = m.first, m.buckets
    names = {n: e.path for n, e in sim.scenario.endpoints.items()}
    req, bad, p95, seen = m.req, m.bad, m.p95, m.seen
    threshold = sim.scenario.error_threshold
    title = (
        f"last {format_duration(buckets * BUCKET)}, one bar a minute "
        f"({clock(sim, first, False)}–{clock(sim, now, False)})"
    )
    table = Table(box=None, pad_edge=False, title=title, title_justify="left", title_style="dim")
    table.add_column("endpoint", no_wrap=True, max_width=16, overflow="ellipsis")
    table.add_column("failed share (0–100 %)", no_wrap=True)
    for col in ("now", "p95", "req/min"):
        table.add_column(col, justify="right", no_wrap=True)
    for name, path in names.items():
        share: list[float | None] = [
            (b / r if r else None) for b, r in zip(bad[name], req[name], strict=True)
        ]
        # the last minute's share: "no traffic" when nothing came (never 100 % of nothing,
        # nor an older minute's figure), "no data" when monitoring lost the minute
        last = share[-1] if share[-1] is not None else 0.0
        style = "red" if last > threshold else "green"
        served = [p for p, r in zip(p95[name], req[name], strict=True) if r]
        if not seen[name][-1]:
            now_cell = Text("no data", "yellow")
        elif not req[name][-1]:
            now_cell = Text("no traffic", "dim")
        else:
            now_cell = Text(_pct(last), style)
        table.add_row(
            path,
            Text(sparkline(share, 1.0), style),
            now_cell,
            f"{served[-1] * 1000:,.0f} ms" if served else "—",
            f"{req[name][-1]:,.0f}",
        )
    orders, failed, lost, arrived, expected = m.orders, m.failed, m.lost, m.arrived, m.expected
    normal: list[float | None] = [
        (o / e if e and seen_any else None)
        for o, e, seen_any in zip(orders, expected, arrived, strict=True)
    ]
    worst = [
        max((p95[name][i] for name in names if req[name][i]), default=None) for i in range(buckets)
    ]
    cur = sim.scenario.traffic.order_value.currency
    business = Table(box=None, pad_edge=False)
    business.add_column("business", no_wrap=True)
    business.add_column("per minute", no_wrap=True)
    business.add_column("now", justify="right", no_wrap=True)
    business.add_column("peak", justify="right", no_wrap=True)
    last_normal = normal[-1] if normal[-1] is not None else 1.0
    nodata = Text("no data", "yellow")
    now_ok = arrived[-1]
    business.add_row(
        "orders vs normal",
        Text(sparkline(normal, 1.0), "red" if last_normal < 0.8 else "green"),
        _pct(last_normal) if now_ok else nodata,
        "",
    )
    failed_seen = [f if a else None for f, a in zip(failed, arrived, strict=True)]
    lost_seen = [v if a else None for v, a in zip(lost, arrived, strict=True)]
    business.add_row(
        "failed checkouts",
        sparkline(failed_seen),
        f"{failed[-1]:,.0f}" if now_ok else nodata,
        f"{max(failed):,.0f}",
    )
    business.add_row(
        "lost revenue",
        sparkline(lost_seen),
        f"{lost[-1]:,.0f} {cur}" if now_ok else nodata,
        f"{max(lost):,.0f} {cur}",
    )
    peak = max((w for w in worst if w is not None), default=0.0)
    business.add_row(
        "worst p95",
        sparkline(worst),
        f"{(worst[-1] or 0.0) * 1000:,.0f} ms" if worst[-1] is not None or now_ok else nodata,
        f"{peak * 1000:,.0f} ms",
    )
    return Group(table, business)


def _alerts(ev: Evidence, incident: Incident, _: str | None) -> RenderableType | None:
    firing = {a["id"]: a for a in incident.sim.monitors.firing()}
    if not firing:
        return None
    table = Table(box=None, pad_edge=False)
    for col in ("severity", "alert", "since", "what"):
        table.add_column(col)
    for a in ev.facts["firing"]:
        full = firing.get(a["id"], {})
        since = full.get("starts_at")
        table.add_row(
            Text(a["severity"], "bold red" if a["severity"] == "critical" else "yellow"),
            f"{a['monitor']}/{a['target']}",
            clock(incident.sim, since) if since is not None else "",
            str(full.get("summary", "")),
        )
    return table


def _logs(ev: Evidence, incident: Incident, grep: str | None) -> RenderableType | None:
    sim = incident.sim
    parts: list[RenderableType] = []
    sigs = ev.facts["signatures"]
    if sigs:
        table = Table(box=None, pad_edge=False)
        for col in ("component", "level", "lines", "first seen", "example"):
            table.add_column(col, justify="right" if col == "lines" else "left")
        for s in sigs:
            table.add_row(
                s["component"],
                Text(s["level"], "red" if s["level"] == "ERROR" else "yellow"),
                f"{s['count']:,}",
                clock(sim, s["first_seen"]),
                s["example"],
            )
        parts.append(table)
    if grep is not None:
        lines = sim.logs.query(
            component=ev.target, text=grep, start=max(0.0, incident.now - 3600.0)
        )[-8:]
        title = f"latest lines containing {grep!r} (last hour): {len(lines) or 'none'}"
        grep_table = Table(box=None, pad_edge=False, title=title, title_justify="left")
        for col in ("time", "component", "level", "message"):
            grep_table.add_column(col)
        for line in lines:
            grep_table.add_row(
                clock(sim, line.t),
                line.component + ("" if line.instance is None else f"-{line.instance}"),
                line.level,
                line.message,
            )
        parts.append(grep_table)
    return Group(*parts) if parts else None


def _changes(ev: Evidence, incident: Incident, _: str | None) -> RenderableType | None:
    changes: list[dict[str, Any]] = ev.facts["changes"]
    if not changes:
        return None
    table = Table(box=None, pad_edge=False)
    for col in ("time", "kind", "id", "on", "author", "what"):
        table.add_column(col)
    for c in changes:
        what = c["description"] + (f" (tables: {', '.join(c['tables'])})" if c["tables"] else "")
        where = ", ".join(c["components"])
        if "reached" in c:  # a staged rollout: how far it has got
            where = ", ".join(f"{n} {k}/{of}" for n, (k, of) in c["reached"].items())
            if c["halted"]:
                what += f" — rollout halted: {c['halted']}"
            elif len(c["stages_at"]) > 1:
                what += f" — last stage {clock(incident.sim, c['stages_at'][-1], False)}"
        if "flag" in c:
            what += f" — behind flag {c['flag']}" + (" (off)" if c["flag_off"] else "")
        if not c.get("logged", True):
            what += " — not in the change log"
        table.add_row(
            clock(incident.sim, c["at"], False),
            c["kind"],
            Text(c["id"], "bold"),
            where,
            c["author"],
            what,
        )
    return table


def _deps(ev: Evidence, incident: Incident, _: str | None) -> RenderableType:
    threshold = incident.sim.scenario.error_threshold
    table = Table(box=None, pad_edge=False)
    for col in ("component", "failed", "p95 vs normal", "in rotation", "busy"):
        table.add_column(col, justify="left" if col == "component" else "right")
    silent = set(ev.facts.get("no_data", ()))
    for name, h in ev.facts["components"].items():
        err = h["error_ratio"]
        if name in silent:  # a hole in the graphs, not a healthy component
            nodata = Text("no data", "yellow")
            rotation = f"{h['in_rotation']}/{h['replicas']}"
            table.add_row(Text(name, "yellow"), nodata, nodata, rotation, nodata)
            continue
        table.add_row(
            Text(name, "bold red" if name in ev.facts["deepest"] else ""),
            Text(_pct(err), "red" if err > threshold else ""),
            Text(f"{h['p95_ratio']:.1f}×", "yellow" if h["p95_ratio"] >= 1.8 else ""),
            f"{h['in_rotation']}/{h['replicas']}",
            Text(f"{h['saturation']:.0%}", "yellow" if h["saturation"] >= 0.9 else ""),
        )
    return table


def _net(ev: Evidence, incident: Incident, _: str | None) -> RenderableType | None:
    regions: dict[str, float] = ev.facts["regions"]
    if not regions:
        return None
    table = Table(box=None, pad_edge=False)
    table.add_column("region")
    table.add_column("synthetic p95 vs normal (peak, last hour)", justify="right")
    for region, ratio in regions.items():
        table.add_row(region, f"{ratio:.1f}×")
    return table


def _lb(ev: Evidence, incident: Incident, _: str | None) -> RenderableType:
    table = Table(box=None, pad_edge=False)
    table.add_column("backend")
    table.add_column("healthy", justify="right")
    table.add_column("in rotation", justify="right")
    table.add_column("up", justify="right")
    for name, b in ev.facts["backends"].items():
        style = "red" if b["healthy"] < b["replicas"] else ""
        rotation = f"{b['in_rotation']}/{b['replicas']}" + (" (panic)" if b["panic"] else "")
        if b["checks_off"]:
            rotation += " (checks off)"
        table.add_row(
            name,
            Text(f"{b['healthy']}/{b['replicas']}", style),
            Text(rotation, "yellow" if b["panic"] or b["checks_off"] else style),
            f"{b['up']}/{b['replicas']}",
        )
    return table


def _thirdparty(ev: Evidence, incident: Incident, _: str | None) -> RenderableType | None:
    providers: dict[str, str] = ev.facts["providers"]
    if not providers:
        return None
    table = Table(box=None, pad_edge=False)
    table.add_column("vendor")
    table.add_column("status page says")
    for name, state in providers.items():
        style = {"operational": "green", "major outage": "bold red"}.get(state, "yellow")
        table.add_row(name, Text(state, style))
    return table


def _capacity(ev: Evidence, incident: Incident, _: str | None) -> RenderableType | None:
    """The scaling groups (latest datapoints as a sparkline against the target), then the
    scaling activity, newest first, as a cloud console lists it."""
    parts: list[RenderableType] = []
    groups: list[dict[str, Any]] = ev.facts["groups"]
    if groups:
        table = Table(box=None, pad_edge=False)
        for col in ("group", "in service", "launching", "policy", "last datapoints"):
            table.add_column(col)
        for g in groups:
            policy = g["policy"]
            values = [p["value"] for p in g["datapoints"]]
            line = sparkline(values, top=max([*values, policy["target"]])) if values else ""
            table.add_row(
                Text(g["component"], "bold"),
                str(g["in_service"]),
                str(g["launching"]),
                f"{policy['metric']} → {policy['target']:g}"
                + (" (suspended)" if policy["suspended"] else ""),
                f"{line} {values[-1]:.2f}" if values else "no data yet",
            )
        parts.append(table)
    activity: list[dict[str, Any]] = ev.facts["activity"]
    if activity:
        table = Table(box=None, pad_edge=False, title="scaling activity", title_justify="left")
        for col in ("time", "group", "activity"):
            table.add_column(col)
        for a in activity:
            kind = a["kind"].removeprefix("scale.")
            what: Text = {
                "launch": Text(f"launching {a.get('instances')} (by {a.get('by')})"),
                "in_service": Text(f"instance {a.get('instance')} in service"),
                "terminate": Text(f"terminating {a.get('instances')} (by {a.get('by')})"),
                "refused": Text(f"launch failed: {a.get('message')}", "red"),
            }.get(kind, Text(kind))
            table.add_row(clock(incident.sim, a["t"]), a["component"], what)
        parts.append(table)
    return Group(*parts) if parts else None


_DRAW = {
    "capacity": _capacity,
    "status": _status,
    "dashboard": _dashboard,
    "alerts": _alerts,
    "logs": _logs,
    "changes": _changes,
    "deps": _deps,
    "net": _net,
    "lb": _lb,
    "thirdparty": _thirdparty,
}


__all__ = ["clock", "evidence", "impact_so_far", "page", "sparkline", "status_line"]
