"""The CLI through its real entry point: run, determinism across processes, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def chaosdrill(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


@pytest.fixture(scope="module")
def seed7(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("seed7")
    return out, chaosdrill("run", "--seed", "7", "--out", str(out))


@pytest.mark.slow
def test_run_writes_journal_and_pictures(
    seed7: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    """`chaosdrill run --seed 7 --out DIR` exits 0, prints the summary and seed, writes three files."""
    out, proc = seed7
    assert proc.returncode == 0, proc.stderr
    for name in ("journal.json", "timeline.png", "graph.png"):
        assert (out / name).stat().st_size > 1000
    assert "seed: 7" in proc.stdout
    assert "errors started" in proc.stdout
    assert "08:40:00" in proc.stdout
    assert "lost revenue" in proc.stdout
    assert "UndefinedColumn" in proc.stdout


@pytest.mark.slow
def test_same_seed_gives_byte_identical_journal(
    seed7: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    """A second process with --seed 7 writes the same bytes; --seed 8 writes different ones."""
    out, _ = seed7
    again = chaosdrill("run", "--seed", "7", "--out", str(tmp_path / "a"), "--no-plots")
    other = chaosdrill("run", "--seed", "8", "--out", str(tmp_path / "b"), "--no-plots")
    assert again.returncode == other.returncode == 0
    first = (out / "journal.json").read_bytes()
    assert (tmp_path / "a" / "journal.json").read_bytes() == first
    assert (tmp_path / "b" / "journal.json").read_bytes() != first
    assert json.loads((tmp_path / "b" / "journal.json").read_bytes())["seed"] == 8


def test_journal_names_scenario_and_hash(
    seed7: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    """The journal records the scenario name, its content hash, seed, engine and horizon."""
    out, _ = seed7
    data = json.loads((out / "journal.json").read_text())
    assert data["scenario"]["name"] == "bad-schema-migration"
    assert len(data["scenario"]["sha256"]) == 64
    assert (data["seed"], data["engine"], data["horizon"]) == (7, "request", 7200.0)


def test_invalid_scenario_exits_1_without_traceback(tmp_path: Path) -> None:
    """A broken scenario gives one FILE:LINE line and exit 1 for `run` as for `validate`."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        (ROOT / "scenarios/shops/seed-shop.yaml")
        .read_text()
        .replace("replicas: 3", "replics: 3", 1)
    )
    proc = chaosdrill("run", str(bad), "--out", str(tmp_path / "o"))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    assert f"{bad}:" in proc.stderr
    assert "did you mean 'replicas'" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_missing_file_and_usage_errors(tmp_path: Path) -> None:
    """A missing scenario exits 1 with a readable line; a bad option or duration exits 2."""
    missing = chaosdrill("run", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 1
    assert "cannot read the file" in missing.stderr
    assert chaosdrill("run", "--horizon", "soon").returncode == 2
    assert chaosdrill("run", "--bogus").returncode == 2
    assert chaosdrill().returncode == 2


def test_horizon_option_and_catalogue_name(tmp_path: Path) -> None:
    """A catalogue name and --horizon work: the journal covers 10 minutes of the outage scenario."""
    proc = chaosdrill(
        "run", "payment-provider-outage", "--horizon", "10m", "--out", str(tmp_path), "--no-plots"
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "journal.json").read_text())
    assert data["horizon"] == 600.0
    assert data["scenario"]["name"] == "payment-provider-outage"
    assert "seed: 11" in proc.stdout


def test_list_fits_a_narrow_terminal() -> None:
    """In 80 columns the descriptions go under the names (the description column was six
    characters wide, a word a line); every name stays whole on a line of its own, and a
    scenario takes a few lines, not twenty. Wide terminals keep the description column."""
    import os

    for columns, header in (("80", "name · description"), ("160", "description")):
        env = {**os.environ, "COLUMNS": columns}
        proc = subprocess.run(
            [sys.executable, "-m", "sim", "list"], capture_output=True, text=True, env=env
        )
        assert proc.returncode == 0, proc.stderr
        lines = proc.stdout.splitlines()
        assert max(len(line) for line in lines) <= int(columns)
        assert header in lines[2]
        names = [p.stem for p in sorted((ROOT / "scenarios").glob("*.yaml"))]
        cells = {line.split("│")[1].strip() for line in lines if line.startswith("│")}
        assert set(names) <= cells  # each name alone and unbroken in its cell's first line
        if columns == "80":
            assert len(lines) < 7 * len(names)


def test_list_graph_schema(tmp_path: Path) -> None:
    """`list` names every scenario; `graph` writes a PNG and names the SPOFs; `schema` is JSON."""
    listing = chaosdrill("list")
    assert listing.returncode == 0
    for name in ("bad-schema-migration", "payment-provider-outage", "flash-sale-surge"):
        assert name in listing.stdout
    assert "GitLab" in listing.stdout  # primary-data-loss says what it is modelled on
    graph = chaosdrill("graph", "--out", str(tmp_path / "g.png"))
    assert graph.returncode == 0
    assert (tmp_path / "g.png").stat().st_size > 1000
    assert "single points of failure: db, payment-provider" in graph.stdout
    schema = json.loads(chaosdrill("schema").stdout)
    assert schema["title"] == "chaosdrill scenario"
    assert "components" in schema["then"]["properties"]  # in full for a file extending nothing
    assert "extends" in schema["propertyNames"]["enum"]
