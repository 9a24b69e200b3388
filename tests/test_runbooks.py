"""Runbooks as data: the shipped ones load, bad ones are reported at their line, and a
scenario's own runbook drives a run — through the API and through ``chaosdrill run``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim.response.catalogue import builtin_runbook
from sim.scenario import Scenario, ScenarioError, parse_scenario
from sim.scenario.runbooks import RUNBOOKS, load_runbook, parse_runbook
from tests.conftest import ROOT, SEED_SCENARIO

CORPUS = sorted((Path(__file__).parent / "invalid_runbooks").glob("*.yaml"))
EXPECT = re.compile(r"^# expect: (?P<line>\d+) (?P<substring>.+)$")

CUSTOM = """\
name: straight-to-the-migration
description: Knows this shop; reads the logs and rolls back what they point at.
profile: {pace: 0.5, skill: 1.0, susceptibility: 0.0}
steps:
  - {call: logs}
  - {call: changes}
  - {call: diagnose, target: $suspect}
  - {call: rollback, target: mig-2041}
  - {call: verify}
close:
  - {call: mitigated}
  - {call: resolved}
"""


@pytest.mark.parametrize("name", RUNBOOKS)
def test_shipped_runbooks_load(name: str) -> None:
    book = builtin_runbook(name)
    assert book.name == name
    assert book.steps
    assert book.loop
    assert book.close
    assert book.description


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_bad_runbooks_are_reported_at_their_line(path: Path, seed_scenario: Scenario) -> None:
    match = EXPECT.match(path.read_text().splitlines()[0])
    assert match, f"{path.name} must start with '# expect: LINE TEXT'"
    with pytest.raises(ScenarioError) as caught:
        load_runbook(path, seed_scenario)
    rendered = [str(p) for p in caught.value.problems]
    assert any(
        r.startswith(f"{path}:{match['line']}: ") and match["substring"] in r for r in rendered
    ), rendered


def test_corpus_covers_shape_and_reference_errors() -> None:
    assert len(CORPUS) >= 7


def test_a_runbook_file_alone_cannot_check_names_but_a_scenario_can(
    seed_scenario: Scenario,
) -> None:
    text = CUSTOM.replace("mig-2041", "mig-9999")
    assert parse_runbook(text).name == "straight-to-the-migration"
    with pytest.raises(ScenarioError, match="no component, change or lead named 'mig-9999'"):
        parse_runbook(text, "custom.yaml", seed_scenario)


def scenario_with_runbook(extra: str) -> Scenario:
    text = SEED_SCENARIO.read_text()
    indented = "\n".join("    " + line for line in CUSTOM.splitlines())
    return parse_scenario(
        text
        + f"\nresponse: {{responder: {extra}}}\nrunbooks:\n  straight-to-the-migration:\n"
        + indented
        + "\n",
        str(SEED_SCENARIO),
    )


def test_a_scenario_runbook_is_its_default_responder() -> None:
    scenario = scenario_with_runbook("straight-to-the-migration")
    journal = sim.run(scenario, 7, horizon=4200)
    response = journal.data["response"]
    assert response["responder"] == "straight-to-the-migration"
    calls = [s["call"] for s in response["steps"]]
    assert calls[:4] == ["logs", "changes", "diagnose", "rollback"]
    assert response["diagnosis"]["cause"] == "mig-2041"
    assert response["resolved_at"] is not None
    assert journal.events("fault.end")


def test_a_scenario_naming_an_unknown_responder_is_invalid() -> None:
    with pytest.raises(ScenarioError) as caught:
        scenario_with_runbook("straight-to-the-migraton")
    (problem,) = caught.value.problems
    assert "response.responder" in str(problem)
    assert "did you mean 'straight-to-the-migration'?" in str(problem)


def chaosdrill(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin", "COLUMNS": "120"},
    )


def test_cli_runs_a_runbook_file(tmp_path: Path) -> None:
    book = tmp_path / "mine.yaml"
    book.write_text(CUSTOM)
    done = chaosdrill(
        "run",
        str(SEED_SCENARIO),
        "--runbook",
        str(book),
        "--horizon",
        "70m",
        "--no-counterfactuals",
        "--no-plots",
        "--out",
        str(tmp_path / "out"),
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert "responder straight-to-the-migration" in done.stdout
    assert "scorecard — responder straight-to-the-migration" in done.stdout
    journal = sim.Journal.read(tmp_path / "out" / "journal.json")
    assert journal.data["response"]["resolved_at"] is not None


def test_cli_reports_a_bad_runbook_file_in_one_line(tmp_path: Path) -> None:
    done = chaosdrill("run", "--runbook", str(CORPUS[0]), "--out", str(tmp_path), cwd=ROOT)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(str(CORPUS[0]))
    assert not (tmp_path / "journal.json").exists()


def test_cli_names_the_known_responders(tmp_path: Path) -> None:
    done = chaosdrill("run", "--responder", "oracel", "--out", str(tmp_path), cwd=ROOT)
    assert done.returncode == 1
    assert "did you mean 'oracle'?" in done.stderr
    assert "changes-first" in done.stderr
    assert "Traceback" not in done.stderr
