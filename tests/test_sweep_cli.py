"""`chaosdrill sweep` through its real entry point: files, plots, table, errors, Ctrl-C."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ROOT, SWEEP_ENGINE, interruptible

ENGINE = SWEEP_ENGINE
KEY = "faults.0.remedies.rollback_migration"
PNG = b"\x89PNG\r\n\x1a\n"


def chaosdrill(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


@pytest.fixture(scope="module")
def swept(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("sweep")
    proc = chaosdrill(
        "sweep",
        "bad-schema-migration",
        "--vary",
        f"{KEY}=2m,20m",
        "--runs",
        "2",
        "--responder",
        "oracle",
        "--engine",
        ENGINE,
        "--horizon",
        "1h",
        "--workers",
        "2",
        "--out",
        str(out),
    )
    return out, proc


def test_sweep_writes_tables_metadata_and_plots(
    swept: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    """Exit 0; runs.csv/.parquet (4 runs), summary.csv (2 variants), sweep.json, three PNGs."""
    out, proc = swept
    assert proc.returncode == 0, proc.stderr
    runs = pd.read_csv(out / "runs.csv")
    assert list(runs["seed"]) == [1, 2, 1, 2]
    assert list(runs[KEY]) == [120.0, 120.0, 1200.0, 1200.0]
    assert list(runs["resolved"]) == [True, True, False, False]
    parquet = pd.read_parquet(out / "runs.parquet")
    assert list(parquet["variant"].astype(str)) == list(runs["variant"])
    assert parquet["lost_revenue"].tolist() == runs["lost_revenue"].tolist()
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary["variant"]) == ["rollback_migration=2m", "rollback_migration=20m"]
    assert summary["time_to_resolve_median"].iloc[1] == float("inf")
    meta = json.loads((out / "sweep.json").read_text())
    assert (meta["responder"], meta["engine"], meta["horizon"]) == ("oracle", ENGINE, 3600.0)
    assert (meta["partial"], meta["seeds"]) == (False, [1, 2])
    for name in ("ttr-ecdf.png", "impact.png", "sensitivity.png"):
        data = (out / name).read_bytes()
        assert data.startswith(PNG), name
        assert len(data) > 20_000, name


def test_sweep_prints_plan_table_and_seeds(
    swept: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    """The plan first, the summary table with 'unresolved', the files, the seeds last."""
    _, proc = swept
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("bad-schema-migration — 2 variants × 2 seeds = 4 runs, horizon 1h")
    assert "responder oracle" in lines[0]
    assert "rollback_migration=20m" in proc.stdout
    assert "unresolved" in proc.stdout
    assert "2/2" in proc.stdout
    assert "0/2" in proc.stdout
    assert "wrote " in proc.stdout
    assert "sensitivity.png" in proc.stdout
    assert lines[-1] == "seeds: 1-2"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["--vary", "monitors[errors-high].threshold=0.02,0.05"],
            1,
            "bad-schema-migration.yaml: unknown key 'monitors[errors-high].threshold': "
            "monitors has no item [errors-high] (known: endpoint-errors,",
        ),
        (
            ["--vary", "monitors[endpoint-errors].threshold=-1,0.05"],
            1,
            "bad-schema-migration.yaml: monitors[endpoint-errors].threshold=-1: expected a "
            "value >= 0.0, got -1",
        ),
        (["--vary", f"{KEY}=5x"], 1, f"{KEY}=5x: expected a duration such as 250ms"),
        (["--responder", "nobody"], 1, "no responder named 'nobody'"),
        (["--vary", "threshold"], 2, "--vary: expected KEY=V1,V2"),
        (["--seeds", "9-3"], 2, "--seeds: 9-3: a range goes up, e.g. 3-9"),
        (["--runs", "3", "--seeds", "1-3"], 2, "not allowed with argument"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    """Invalid keys and values exit 1, usage errors 2; no traceback, no files."""
    proc = chaosdrill("sweep", "--engine", ENGINE, "--out", str(tmp_path / "out"), *args)
    assert proc.returncode == code, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_ctrl_c_writes_the_finished_runs_marked_partial(tmp_path: Path) -> None:
    """SIGINT mid-sweep: exit 130, runs.csv holds the finished runs, sweep.json says partial."""
    out = tmp_path / "out"
    args = ["--runs", "100", "--horizon", "42m", "--executor", "serial", "--engine", ENGINE]
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "sweep", *args, "--out", str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=interruptible,
    )
    time.sleep(5)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    meta = json.loads((out / "sweep.json").read_text())
    runs = pd.read_csv(out / "runs.csv")
    assert meta["partial"] is True
    assert 1 <= len(runs) == meta["finished"] < meta["runs"] == 100
    assert list(runs["seed"]) == list(range(1, len(runs) + 1))
    assert f"interrupted after {len(runs)} of 100 runs" in stderr
    assert not (out / "ttr-ecdf.png").exists()


def test_sweep_warns_when_the_variants_gave_identical_results(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "sweep",
            "--vary",
            "faults.0.remedies.rollback_migration=2m,20m",
            "--responder",
            "none",
            "--horizon",
            "41m",
            "--runs",
            "1",
            "--executor",
            "serial",
            "--no-plots",
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (
        "warning: variants rollback_migration=2m and rollback_migration=20m gave identical "
        "results on seed 1" in " ".join(done.stderr.split())
    )
    assert "SweepWarning" not in done.stderr  # one line for people, not Python's warning
