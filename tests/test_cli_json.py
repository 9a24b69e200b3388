"""`run --json` and `sweep --json` through the real entry point: one JSON object on stdout."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT


def chaosdrill(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


def strict(constant: str) -> None:
    raise AssertionError(f"{constant} is not JSON")


def only_json(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The one JSON object that stdout must hold, and nothing else (no NaN or Infinity)."""
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout, parse_constant=strict)
    return data


@pytest.fixture(scope="module")
def seed7(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], str]:
    out = tmp_path_factory.mktemp("json")
    proc = chaosdrill(
        "run", "--seed", "7", "--horizon", "1h", "--no-plots", "--json", "--out", str(out)
    )
    return out, only_json(proc), proc.stderr


def test_run_json_has_the_documented_shape(seed7: tuple[Path, dict[str, Any], str]) -> None:
    """`run --json` prints chaosdrill.run-result/1 with summary, alerts, detection, phases, score."""
    out, result, _ = seed7
    assert result["format"] == "chaosdrill.run-result/1"
    assert list(result) == [
        "format",
        "chaosdrill",
        "scenario",
        "seed",
        "horizon",
        "engine",
        "responder",
        "faults",
        "clock_start",
        "currency",
        "summary",
        "alerts",
        "detection",
        "phases",
        "score",
        "counterfactual",
        "files",
    ]
    assert (result["seed"], result["horizon"], result["faults"]) == (7, 3600.0, "all")
    assert result["scenario"]["name"] == "bad-schema-migration"
    assert result["summary"]["errors_started"] == 2400.0
    assert result["detection"]["channel"] == "alert"
    assert result["alerts"]["pages"] == 1
    assert list(result["phases"]) == [
        "impact",
        "detection",
        "acknowledgement",
        "diagnosis",
        "mitigation",
        "resolution",
    ]
    parts = result["score"]["parts"]
    earned = sum(p["earned"] for p in parts.values())
    assert earned == pytest.approx(result["score"]["total"], abs=0.05)  # the total is rounded
    assert result["counterfactual"]["saved_revenue"] is not None
    assert result["files"] == [str(out / "journal.json")]


def test_run_json_keeps_people_on_stderr(seed7: tuple[Path, dict[str, Any], str]) -> None:
    """With --json the header, the impact table and the scorecard go to stderr."""
    _, _, stderr = seed7
    assert "bad-schema-migration — seed 7" in stderr
    assert "lost revenue" in stderr
    assert "scorecard — responder seed" in stderr


def test_baseline_counts_its_alerts(tmp_path: Path) -> None:
    """`--faults none` shows the alerts line in the table and the alerts in the JSON."""
    args = ["run", "--faults", "none", "--horizon", "20m", "--no-counterfactuals", "--no-plots"]
    table = chaosdrill(*args, "--out", str(tmp_path / "a"))
    assert table.returncode == 0, table.stderr
    assert "alerts" in table.stdout
    assert "0 fired (0 critical), 0 page(s), 0 support tickets" in " ".join(table.stdout.split())
    result = only_json(chaosdrill(*args, "--json", "--out", str(tmp_path / "b")))
    assert result["faults"] == "none"
    assert result["alerts"] == {"fired": 0, "critical": 0, "pages": 0, "tickets": 0}
    assert result["counterfactual"] is None


@pytest.mark.slow
def test_sweep_json_summarises_each_variant(tmp_path: Path) -> None:
    """`sweep --json` prints chaosdrill.sweep-result/1: sweep.json's fields and one row per variant."""
    proc = chaosdrill(
        "sweep",
        "--vary",
        "faults.0.remedies.rollback_migration=3m,12m",
        "--runs",
        "2",
        "--horizon",
        "1h",
        "--executor",
        "serial",
        "--no-plots",
        "--json",
        "--out",
        str(tmp_path),
    )
    result = only_json(proc)
    assert result["format"] == "chaosdrill.sweep-result/1"
    assert result["sweep"] == json.loads((tmp_path / "sweep.json").read_text())
    variants = result["variants"]
    assert [v["faults.0.remedies.rollback_migration"] for v in variants] == [180.0, 720.0]
    assert [v["variant"] for v in variants] == ["rollback_migration=3m", "rollback_migration=12m"]
    assert all(v["runs"] == 2 for v in variants)
    # a median beyond the horizon is "unresolved" (infinite in summary.csv), never Infinity
    assert {type(v["time_to_resolve_median"]) for v in variants} <= {str, float}
    assert str(tmp_path / "summary.csv") in result["files"]
    assert "per variant" in proc.stderr
