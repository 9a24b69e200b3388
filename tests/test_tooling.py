"""Project hygiene that CI relies on: the README's commands and a clean lint."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run runs, verbatim, the test command the README's quick start shows."""
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    command = next(line for line in ci if "pytest" in line and not line.startswith("#"))
    readme = (ROOT / "README.md").read_text()
    assert command in readme.splitlines()


def test_readme_quick_start_runs_the_default_drill() -> None:
    """The quick start's first command installs the project and runs the default drill."""
    readme = (ROOT / "README.md").read_text().splitlines()
    assert any("pip install" in line and "chaosdrill run" in line for line in readme)


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None, reason="ruff not installed")
def test_ruff_is_clean() -> None:
    """`ruff check` and `ruff format --check` find nothing to change."""
    for args in (
        ["check", "sim", "tests", "benchmarks"],
        ["format", "--check", "sim", "tests", "benchmarks"],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_import_sim_stays_cheap() -> None:
    """`import sim` loads no engine, plotting, table or graph library (the pytest plugin imports it)."""
    heavy = ("pandas", "matplotlib", "networkx", "simpy", "faker", "rich")
    code = f"import sys, sim; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
