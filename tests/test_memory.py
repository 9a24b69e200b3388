"""Long runs in flat memory: closed windows spilled to Parquet, journals that store them."""

from __future__ import annotations

import gc
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import sim
from sim.journal import Journal
from sim.response.evidence import LOOKBACK
from sim.runner import _slowest
from sim.scenario import Scenario
from sim.simulation import Simulation
from sim.telemetry import metrics
from sim.telemetry.metrics import SERIES_COLUMNS, SERIES_KINDS
from sim.telemetry.tables import Rows, Spool
from tests.conftest import SEED_SCENARIO

FRAMES = ("metrics_frame", "business_frame", "errors_frame")
SMALL = 3_000  # series rows kept in memory in the tests that spill a short run


def _row(i: int) -> tuple[Any, ...]:
    return (i * 10.0, "endpoint", f"e{i % 3}", i, i, 0, 0, 0, 0.5, 0.5, 0.5, 0.5, 0, 0, 0.0)


def test_rows_read_alike_in_memory_and_spilled() -> None:
    """Indexing, slicing, iterating and reversing give the same rows wherever they live."""
    rows = Rows("series", SERIES_COLUMNS, SERIES_KINDS)
    rows.extend(_row(i) for i in range(50))
    expected = [_row(i) for i in range(50)]
    spool = Spool()
    rows.spill(20, spool)
    rows.spill(15, spool)
    assert (rows.spilled, len(rows.recent), len(rows)) == (35, 15, 50)
    assert list(rows) == expected
    assert list(reversed(rows)) == expected[::-1]
    for index in (0, 19, 20, 34, 35, 49, -1, -16, -50):
        assert rows[index] == expected[index]
    for cut in (
        slice(10, 40),
        slice(35, None),
        slice(None, None, 7),
        slice(45, 5, -3),
        slice(8, 2),
    ):
        assert rows[cut] == expected[cut]
    with pytest.raises(IndexError):
        rows[50]
    spool.remove()
    assert not spool.folder.exists()


@pytest.mark.slow
def test_a_long_run_keeps_a_bounded_number_of_rows_in_memory(seed_scenario: Scenario) -> None:
    """A 12 h run with 5 s windows holds at most INLINE_ROWS series rows and reads back all."""
    scenario = seed_scenario.model_copy(update={"window": 5.0})
    simulation = Simulation(scenario, 7)
    m = simulation.engine.metrics
    held: list[int] = []
    m.listeners.append(lambda t, rows, business: held.append(len(m.rows.recent)))
    simulation.advance(12 * 3600)
    simulation.finish()
    starts = [5.0 * i for i in range(12 * 3600 // 5)]
    assert [r[0] for r in m.business_rows] == starts
    times = [r[0] for r in m.rows]
    assert len(times) == len(m.rows)
    assert sorted(set(times)) == starts
    assert m.rows.spilled > metrics.INLINE_ROWS
    assert max(held) <= metrics.INLINE_ROWS + len(m.series)
    assert metrics.INLINE_ROWS // 2 <= len(m.rows.recent) <= metrics.INLINE_ROWS
    # what stays in memory at the seed's 10 s windows covers what responders look back on
    assert metrics.INLINE_ROWS // 2 // len(m.series) * seed_scenario.window >= 2 * LOOKBACK
    m.release()


@pytest.fixture(scope="module")
def inline_and_streamed(seed_scenario: Scenario) -> tuple[Journal, Journal]:
    """The 2 h seed run twice: as it is (inline), and spilling all but SMALL series rows."""
    inline = sim.run(seed_scenario, 7)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(metrics, "INLINE_ROWS", SMALL)
        streamed = sim.run(seed_scenario, 7)
    return inline, streamed


def test_a_two_hour_journal_stays_inline_and_canonical(
    inline_and_streamed: tuple[Journal, Journal], tmp_path: Path
) -> None:
    """A default-horizon journal keeps its rows as lists, one file, bytes as before."""
    inline, _ = inline_and_streamed
    assert all(isinstance(t["rows"], list) for t in inline.data["metrics"].values())
    assert not list(inline.stored_tables())
    path = inline.write(tmp_path / "journal.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["journal.json"]
    canonical = json.dumps(inline.data, sort_keys=True, ensure_ascii=False, indent=1) + "\n"
    assert path.read_text(encoding="utf-8") == canonical == inline.to_json()


def test_a_streamed_journal_matches_the_inline_one(
    inline_and_streamed: tuple[Journal, Journal],
) -> None:
    """Same frames, same rows, same summary and the same document around the tables."""
    inline, streamed = inline_and_streamed
    assert {t.name for t in streamed.stored_tables()} == {"series", "business", "errors"}
    for frame in FRAMES:
        pd.testing.assert_frame_equal(getattr(inline, frame)(), getattr(streamed, frame)())
    for name, table in inline.data["metrics"].items():
        assert [list(r) for r in streamed.data["metrics"][name]["rows"]] == table["rows"]
        # the rows without pandas (what the report's pictures read) are the same too
        (columns, rows), (s_columns, s_rows) = inline.table(name), streamed.table(name)
        assert list(s_columns) == list(columns) == table["columns"]
        assert [list(r) for r in s_rows] == [list(r) for r in rows]
    around = [json.loads(j.to_json()) for j in (inline, streamed)]
    for document in around:
        del document["metrics"]
    assert around[0] == around[1]


def test_a_streamed_journal_reads_back_from_its_folder(
    inline_and_streamed: tuple[Journal, Journal], tmp_path: Path
) -> None:
    """Written and read again it has the same frames and JSON, which names its files."""
    inline, streamed = inline_and_streamed
    streamed.write(tmp_path / "run.json")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["run.business.parquet", "run.errors.parquet", "run.json", "run.series.parquet"]
    document = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))
    reference = document["metrics"]["series"]["rows"]
    assert reference["file"] == "run.series.parquet"
    assert reference["count"] == len(inline.data["metrics"]["series"]["rows"])
    assert (
        reference["sha256"]
        == hashlib.sha256((tmp_path / "run.series.parquet").read_bytes()).hexdigest()
    )
    again = Journal.read(tmp_path / "run.json")
    for frame in FRAMES:
        pd.testing.assert_frame_equal(getattr(inline, frame)(), getattr(again, frame)())
    assert again.to_json("run") == streamed.to_json("run")
    again.write(tmp_path / "run.json")  # onto its own files
    assert Journal.read(tmp_path / "run.json").to_json() == streamed.to_json()


def test_a_streamed_journal_without_its_files_is_refused(
    inline_and_streamed: tuple[Journal, Journal], tmp_path: Path
) -> None:
    """A missing or foreign table file is named, not read."""
    _, streamed = inline_and_streamed
    path = streamed.write(tmp_path / "journal.json")
    (tmp_path / "journal.errors.parquet").unlink()
    with pytest.raises(ValueError, match=r"journal\.errors\.parquet: missing"):
        Journal.read(path)
    (tmp_path / "journal.errors.parquet").write_bytes(b"PAR1")
    with pytest.raises(ValueError, match="not the errors table of this journal"):
        Journal.read(path)


def test_a_compact_streamed_run_keeps_nothing_on_disk(
    seed_scenario: Scenario, inline_and_streamed: tuple[Journal, Journal]
) -> None:
    """compact=True (sweeps): business rows inline, the same summary, the spool removed."""
    inline, _ = inline_and_streamed
    made: list[Path] = []

    class Recorded(Spool):
        def __init__(self) -> None:
            super().__init__()
            made.append(self.folder)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(metrics, "INLINE_ROWS", SMALL)
        patch.setattr(metrics, "Spool", Recorded)
        compact = sim.run(seed_scenario, 7, compact=True)
    tables = compact.data["metrics"]
    assert tables["series"]["rows"] == tables["errors"]["rows"] == []
    assert tables["business"]["rows"] == inline.data["metrics"]["business"]["rows"]
    assert compact.summary == inline.summary
    assert len(made) == 1
    assert not made[0].exists()


def test_the_spool_goes_with_the_last_journal_that_reads_it(seed_scenario: Scenario) -> None:
    """Once the journal (and its simulation) are garbage, the spilled files are gone."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(metrics, "INLINE_ROWS", SMALL)
        journal = sim.run(seed_scenario, 7, horizon=3600)
    spool = next(journal.stored_tables()).spool
    assert spool is not None
    folder = spool.folder
    assert folder.is_dir()
    del journal, spool
    gc.collect()
    assert not folder.exists()


def _streamed_files(hashseed: str, out: Path) -> dict[str, str]:
    code = (
        "import sys, sim\n"
        "from sim.telemetry import metrics\n"
        f"metrics.INLINE_ROWS = {SMALL}\n"
        f"s = sim.load_scenario({str(SEED_SCENARIO)!r})\n"
        "sim.run(s, 7, horizon=3600).write(sys.argv[1])\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    path = out / "journal.json"
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, env=env)
    assert done.returncode == 0, done.stderr.decode()
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.iterdir()}


@pytest.mark.slow
def test_a_streamed_journal_is_the_same_in_any_process(tmp_path: Path) -> None:
    """Same seed, same bytes: the journal and its three table files, whatever the hash seed."""
    first = _streamed_files("1", tmp_path / "a")
    assert len(first) == 4
    assert _streamed_files("4242", tmp_path / "b") == first


def test_progress_follows_the_slowest_run() -> None:
    """With counterfactuals under way, progress shows the time every run has reached."""

    class Clock:
        def __init__(self, value: float) -> None:
            self.value = value

    seen: list[float] = []
    _slowest(seen.append, [Clock(300.0), Clock(900.0)], 600.0)
    _slowest(seen.append, [Clock(7200.0), Clock(7200.0)], 7200.0)
    _slowest(seen.append, [], 60.0)
    assert seen == [300.0, 7200.0, 60.0]


def test_a_run_with_counterfactuals_reports_progress_to_its_horizon(
    seed_scenario: Scenario,
) -> None:
    """sim.run's progress rises to the horizon once the counterfactual runs are done too."""
    seen: list[float] = []
    journal = sim.run(seed_scenario, 7, horizon=1800, counterfactuals=True, progress=seen.append)
    assert set(journal.data["counterfactuals"]) == {"none", "oracle"}
    assert seen == sorted(seen)
    assert seen[-1] == 1800
