"""The report pictures: the incident timeline, the dependency graph and component status."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim
from sim.journal import Journal
from sim.model.topology import Topology
from sim.report import component_status, plot_graph, plot_timeline
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
