"""The report pictures: the incident timeline, the dependency graph and component status."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim.journal import Journal
from sim.model.topology import Topology
from sim.report import component_status, plot_graph, plot_timeline
from sim.report.series import business_series, endpoint_series
from sim.report.spans import alert_lanes, detection, red_herring_spans
from sim.scenario import Scenario

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HORIZON = 3000.0  # the seed fault starts at 2400 s: inside, with ten minutes of it


@pytest.fixture(scope="module")
def journal(seed_scenario: Scenario) -> Journal:
    return sim.run(seed_scenario, seed=7, horizon=HORIZON)


@pytest.fixture(scope="module")
def baseline(seed_scenario: Scenario) -> Journal:
    return sim.run(seed_scenario, seed=7, horizon=HORIZON, faults=False)


@pytest.fixture(scope="module")
def topology(seed_scenario: Scenario) -> Topology:
    return Topology(seed_scenario)


def hand_made_journal(*, oncall: bool = True, lanes: int = 16) -> Journal:
    """A small journal written by hand: two endpoints failing 1200–2700 s of a one-hour run.

    With ``oncall``, it carries every on-call signal the timeline draws: ``lanes`` alert
    lanes (critical and warning, one still firing at the end, one with a long name, one that
    fired twice), a page that escalates and is acknowledged, a second page, tickets, two
    customer-service escalations, the detection and red herrings of every kind.
    """
    window, horizon = 10.0, 3600.0
    series, business = [], []
    for i in range(int(horizon / window)):
        t = i * window
        broken = 1200.0 <= t < 2700.0
        for name, base in (("login", 0.04), ("checkout", 0.09)):
            requests = 50
            errors = 40 if broken else 0
            series.append(
                ["endpoint", name, t, requests, errors, 0, 0, base * (3 if broken else 1)]
            )
        business.append([t, 0 if broken else 2, 2 if broken else 0, 5 if broken else 0])
    data: dict[str, object] = {
        "format": "chaosdrill.journal/1",
        "scenario": {"name": "hand-made"},
        "seed": 1,
        "engine": "request",
        "horizon": horizon,
        "window": window,
        "clock_start": "2026-03-14T08:00:00+00:00",
        "represents": 1,
        "faults_enabled": True,
        "metrics": {
            "series": {
                "columns": [
                    "scope",
                    "name",
                    "t",
                    "requests",
                    "errors",
                    "timeouts",
                    "rejected",
                    "p95",
                ],
                "rows": series,
            },
            "business": {
                "columns": ["t", "orders", "checkout_failures", "failed_sessions"],
                "rows": business,
            },
        },
        "timeline": [
            {"t": 900.0, "kind": "change", "id": "mig-1", "components": ["db"]},
            {"t": 1200.0, "kind": "fault.start", "id": "schema-break"},
            {"t": 2700.0, "kind": "fault.end", "id": "schema-break"},
            {
                "t": 2400.0,
                "kind": "action.start",
                "action": "rollback_migration",
                "target": "mig-1",
            },
            {"t": 2700.0, "kind": "action.end", "action": "rollback_migration", "target": "mig-1"},
        ],
    }
    if not oncall:
        return Journal(data)

    def alert(
        monitor: str, target: str, severity: str, start: float, end: float | None, n: int = 1
    ) -> dict[str, object]:
        return {
            "id": f"{monitor}/{target}#{n}",
            "monitor": monitor,
            "kind": "error_ratio",
            "target": target,
            "severity": severity,
            "labels": {},
            "summary": f"{target}: failing",
            "value": 0.8,
            "threshold": 0.05,
            "starts_at": start,
            "ends_at": end,
        }

    alerts = [
        alert("error-log-rate", "shop", "warning", 1230.0, 1800.0),
        alert("error-log-rate", "shop", "warning", 1900.0, 2750.0, n=2),
        alert(
            "component-saturation",
            "a-component-with-a-very-long-name-indeed",
            "warning",
            3300.0,
            None,
        ),
    ]
    alerts += [
        alert("synthetic-checks", f"login@region-{i}", "critical", 1250.0 + 20 * i, 2720.0)
        for i in range(lanes - 2)  # the warnings above make two lanes
    ]
    data["alerts"] = alerts
    data["detection"] = {
        "detected_at": 1290.0,
        "channel": "alert",
        "via": "INC-001",
        "first_by_channel": {"alert": 1290.0, "customer escalation": 1500.0},
    }
    data["red_herrings"] = [
        {
            "id": "lb-change",
            "kind": "change",
            "target": "lb",
            "change": "mig-1",
            "start": 900.0,
            "end": None,
            "note": "",
        },
        {
            "id": "isp-blip",
            "kind": "latency_blip",
            "target": "lb",
            "change": None,
            "start": 300.0,
            "end": 660.0,
            "note": "",
        },
        {
            "id": "slow-search",
            "kind": "slow_component",
            "target": "search",
            "change": None,
            "start": 600.0,
            "end": 3000.0,
            "note": "",
        },
        {
            "id": "chatty-auth",
            "kind": "log_noise",
            "target": "auth",
            "change": None,
            "start": 500.0,
            "end": 3500.0,
            "note": "",
        },
    ]
    events = [
        {"t": 1290.0, "kind": "page", "incident": "INC-001", "to": "Ann", "alerts": ["x"]},
        {"t": 1590.0, "kind": "page.escalated", "incident": "INC-001", "to": "Bob", "after": 300.0},
        {
            "t": 1650.0,
            "kind": "page.acknowledged",
            "incident": "INC-001",
            "by": "Bob",
            "after": 360.0,
        },
        {"t": 3300.0, "kind": "page", "incident": "INC-002", "to": "Ann", "alerts": ["y"]},
        {"t": 1500.0, "kind": "complaints.escalated", "tickets": 5, "window": 600.0},
        {"t": 2300.0, "kind": "complaints.escalated", "tickets": 5, "window": 600.0},
    ]
    events += [
        {
            "t": 1320.0 + 15 * i,
            "kind": "ticket",
            "id": f"CS-{i}",
            "subject": "x",
            "step": "login",
            "channel": "email",
        }
        for i in range(40)
    ]
    timeline = data["timeline"]
    assert isinstance(timeline, list)
    data["timeline"] = sorted(timeline + events, key=lambda e: float(e["t"]))
    return Journal(data)


def png_size(path: Path) -> tuple[int, int]:
    """Width and height of a PNG, checked by its magic bytes and read by matplotlib."""
    from matplotlib.image import imread

    assert path.read_bytes()[:8] == PNG_MAGIC, f"{path} is not a PNG"
    pixels = imread(path)
    return pixels.shape[1], pixels.shape[0]


def test_timeline_png(journal: Journal, tmp_path: Path) -> None:
    """The timeline is a non-trivial PNG of exactly 1600×1000 pixels at the default dpi."""
    out = plot_timeline(journal, tmp_path / "timeline.png")
    assert out == tmp_path / "timeline.png"
    assert out.stat().st_size > 50_000
    assert png_size(out) == (1600, 1000)


def test_timeline_keeps_pixel_size_at_higher_dpi(journal: Journal, tmp_path: Path) -> None:
    """At dpi 150 the timeline keeps its pixel size, into a folder that does not exist yet."""
    out = plot_timeline(journal, tmp_path / "new" / "timeline.png", dpi=150)
    assert png_size(out) == (1600, 1000)


def test_timeline_write_is_atomic(journal: Journal, tmp_path: Path) -> None:
    """Overwriting a timeline replaces the file and leaves no temporary file behind."""
    target = tmp_path / "timeline.png"
    target.write_bytes(b"old")
    plot_timeline(journal, target)
    assert target.read_bytes()[:8] == PNG_MAGIC
    assert [p.name for p in tmp_path.iterdir()] == ["timeline.png"]


def test_baseline_timeline_png(baseline: Journal, tmp_path: Path) -> None:
    """A baseline run, with no fault or action to mark, still draws a valid timeline."""
    out = plot_timeline(baseline, tmp_path / "baseline.png")
    assert png_size(out) == (1600, 1000)


def test_timeline_with_oncall_signals(tmp_path: Path) -> None:
    """Alert lanes (more than fit), pages, tickets, detection and red herrings draw at 1600×1000."""
    for dpi in (100, 150):
        out = plot_timeline(hand_made_journal(), tmp_path / f"oncall-{dpi}.png", dpi=dpi)
        assert out.stat().st_size > 50_000
        assert png_size(out) == (1600, 1000)


def test_timeline_without_oncall_signals(tmp_path: Path) -> None:
    """A journal from before alerting (no alerts, detection or red herrings) still draws."""
    journal = hand_made_journal(oncall=False)
    assert alert_lanes(journal, 3600.0) == ([], 0)
    assert red_herring_spans(journal, 3600.0) == []
    assert detection(journal) is None
    assert png_size(plot_timeline(journal, tmp_path / "old.png")) == (1600, 1000)


def test_timeline_with_silent_oncall(tmp_path: Path) -> None:
    """A run in which nothing fired or was detected (empty keys) draws a quiet on-call panel."""
    journal = hand_made_journal(oncall=False)
    data = dict(journal.data)
    data.update(alerts=[], red_herrings=[], detection={"detected_at": None, "channel": None})
    assert png_size(plot_timeline(Journal(data), tmp_path / "quiet.png")) == (1600, 1000)


def test_alert_lanes_group_cap_and_order() -> None:
    """One lane per monitor/target, at most 12 (critical first), in order of first firing."""
    lanes, hidden = alert_lanes(hand_made_journal(lanes=16), 3600.0)
    assert (len(lanes), hidden) == (12, 4)
    assert {lane.severity for lane in lanes} == {"critical"}  # the warnings are left out
    lanes, hidden = alert_lanes(hand_made_journal(lanes=12), 3600.0)
    assert (len(lanes), hidden) == (12, 0)
    assert [lane.spans[0].start for lane in lanes] == sorted(lane.spans[0].start for lane in lanes)
    first, last = lanes[0], lanes[-1]
    assert (first.label, first.severity) == ("error-log-rate/shop", "warning")
    assert [(s.start, s.end) for s in first.spans] == [(1230.0, 1800.0), (1900.0, 2750.0)]
    assert last.label.startswith("component-saturation/")
    assert last.spans[0].end == 3600.0  # ends_at None: still firing at the end of the run


def test_red_herrings_and_detection_of_the_hand_made_journal() -> None:
    """Change red herrings are left to the change line; the others are spans; detection read."""
    journal = hand_made_journal()
    spans = red_herring_spans(journal, 3600.0)
    assert [(s.label, s.key) for s in spans] == [
        ("isp-blip", "latency_blip"),
        ("chatty-auth (log noise)", "log_noise"),
        ("slow-search", "slow_component"),
    ]
    assert detection(journal) == (1290.0, "alert")


def test_graph_pngs(journal: Journal, topology: Topology, tmp_path: Path) -> None:
    """The graph draws with and without a status colouring, as PNGs of the requested size."""
    plain = plot_graph(topology, tmp_path / "graph.png")
    coloured = plot_graph(
        topology, tmp_path / "status.png", component_status(journal, topology), title="status"
    )
    for out in (plain, coloured):
        assert out.stat().st_size > 30_000
        assert png_size(out) == (1600, 1000)


def test_component_status_of_the_seed_fault(journal: Journal, topology: Topology) -> None:
    """The broken database is the fault; its callers on the broken tables fail; catalog is ok."""
    status = component_status(journal, topology)
    assert set(status) == set(topology.components)
    assert status["db"] == "fault"
    assert {name: status[name] for name in ("auth", "orders", "web")} == dict.fromkeys(
        ("auth", "orders", "web"), "failing"
    )
    assert status["catalog"] == "ok"


def test_component_status_of_the_baseline(baseline: Journal, topology: Topology) -> None:
    """Without faults no component is the fault or failing."""
    assert set(component_status(baseline, topology).values()) == {"ok"}


@pytest.mark.parametrize("binw", [60.0, 300.0])
def test_the_timeline_lines_are_the_metrics_frame_grouped_by_bin(
    journal: Journal, binw: float
) -> None:
    """The timeline sums the journal's rows itself (no pandas): per endpoint and bin, the
    error ratio and worst p95 are what grouping the metrics frame gives, gaps where a bin had
    no requests; the shop's lines are per-minute sums over the windows of each bin."""
    names, ratio, p95 = endpoint_series(journal.table("series"), binw)
    frame = journal.metrics_frame()
    ep = frame[frame.scope == "endpoint"].assign(bin=lambda f: (f.t // binw) * binw)
    assert names == list(dict.fromkeys(ep.name))
    for name, rows in ep.groupby("name"):
        g = rows.groupby("bin")
        requests = g.requests.sum()
        bad = g.errors.sum() + g.timeouts.sum() + g.rejected.sum()
        expected = (100.0 * bad / requests.where(requests > 0)).tolist()
        assert list(ratio[name]) == requests.index.tolist()
        assert list(ratio[name].values()) == pytest.approx(expected, nan_ok=True)
        worst = (rows.p95.where(rows.requests > 0) * 1000.0).groupby(rows.bin).max()
        assert list(p95[name].values()) == pytest.approx(worst.tolist(), nan_ok=True)
    window = float(journal.data["window"])
    business = business_series(journal.table("business"), binw, window)
    biz = journal.business_frame().assign(bin=lambda f: (f.t // binw) * binw).groupby("bin")
    for column in ("orders", "checkout_failures", "failed_sessions"):
        per_minute = biz[column].sum() * 60.0 / (biz.t.count() * window)
        assert list(business[column]) == per_minute.index.tolist()
        assert list(business[column].values()) == pytest.approx(per_minute.tolist())


def test_drawing_the_report_pictures_does_not_import_pandas(
    journal: Journal, tmp_path: Path
) -> None:
    """`run` and the drill draw their pictures without loading pandas (about half a second
    of every run's end): the timeline reads the journal's rows."""
    journal.write(tmp_path / "journal.json")
    code = (
        "import sys; from sim.journal import Journal; "
        "from sim.report.postmortem import write_report; "
        f"write_report(Journal.read({str(tmp_path / 'journal.json')!r}), {str(tmp_path)!r}); "
        "print('pandas' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
    assert (tmp_path / "report-timeline.png").read_bytes().startswith(PNG_MAGIC)
