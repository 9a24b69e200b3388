"""Difficulty from measurable properties (docs/library.md#difficulty): the points, the stored
measurements of the catalogue (current and reproducible), ``chaosdrill list`` and
``chaosdrill drill --random --difficulty``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

import sim
from sim.expect.difficulty import (
    FILE,
    NO_PAGE,
    WEIGHTS,
    Measured,
    difficulty,
    drills,
    lookup,
    measure,
    of_scenarios,
    stored,
)
from sim.scenario import catalogue
from tests.conftest import ROOT, SCENARIOS

FILES = sorted(SCENARIOS.glob("*.yaml"))


def of_files(paths: list[Path]) -> dict[Path, Any]:
    """Each catalogue file's difficulty (``of_scenarios`` over the loaded files)."""
    return of_scenarios((path, sim.load_scenario(path)) for path in paths)


HARDEST = Measured(
    experienced_minutes=90,
    oracle_minutes=10,
    unresolved=1.0,
    fix_actions=5,
    obvious_wrong=True,
    log_signal=0.0,
    alert_signal=0.0,
    paged=1.0,
    oracle_unresolved=0.0,
)
EASIEST = Measured(
    experienced_minutes=0,
    oracle_minutes=0,
    unresolved=0.0,
    fix_actions=1,
    obvious_wrong=False,
    log_signal=1.0,
    alert_signal=1.0,
    paged=1.0,
    oracle_unresolved=0.0,
)


def chaosdrill(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        env=env,
        timeout=300,
        check=False,
    )


def test_the_points_follow_the_weights() -> None:
    seed = sim.load_scenario(SCENARIOS / "bad-schema-migration.yaml")  # four red herrings
    assert sum(WEIGHTS.values()) == 100
    hardest = difficulty(seed, HARDEST)
    assert hardest.points == WEIGHTS
    assert (hardest.score, hardest.level) == (100, "hard")
    easiest = difficulty(seed, EASIEST)
    assert easiest.score == WEIGHTS["herrings"]  # only what the scenario itself says
    assert easiest.level == "easy"
    # a property at half its full measure earns half its points
    half = difficulty(seed, Measured(30, 30, 0.5, 2.5, False, 0.5, 0.5, 1.0, 0.0))
    assert half.points["time"] == WEIGHTS["time"] / 2
    assert half.points["unresolved"] == WEIGHTS["unresolved"] / 2
    assert half.points["fix"] == WEIGHTS["fix"] / 2
    assert half.points["diagnosis"] == 0  # no slower than the oracle
    unmeasured = difficulty(seed, None)
    assert (unmeasured.level, unmeasured.label()) == ("unmeasured", "unmeasured")
    assert set(unmeasured.points) == {"herrings"}


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_catalogue_scenario_is_measured_as_it_is(path: Path) -> None:
    """A scenario changed since it was measured needs measuring again."""
    scenario = sim.load_scenario(path)
    assert lookup(scenario, stored(SCENARIOS)) is not None, (
        f"{path.stem} is not measured as it is now: python benchmarks/difficulty.py "
        f"{path.stem} --write"
    )


def test_a_stored_measurement_is_what_the_runs_give() -> None:
    """Measuring again (the same seeds, the same engine) gives the stored figures exactly (on
    the quickest scenario to measure: nine runs)."""
    scenario = sim.load_scenario(SCENARIOS / "payment-provider-outage.yaml")
    again = measure(scenario, workers=1)
    assert asdict(again) == stored(SCENARIOS)["payment-provider-outage"]["measured"]


def test_the_catalogue_has_every_level() -> None:
    levels = {found.level for found in of_files(FILES).values()}
    assert levels == {"easy", "medium", "hard", NO_PAGE}


def test_a_scenario_that_pages_nobody_is_a_resilience_check_not_a_drill() -> None:
    """one-bad-host: the passive checks keep shoppers safe and nobody is paged in any
    measured run — `no page`, and neither `--random` nor a level ever draws it. So are three
    of the status-page sample, whose failures (0.5–2.5 % of one service's calls) are too
    small for the shop's alerts (docs/incidents.md)."""
    found = of_files(FILES)
    quiet = {path.stem for path, d in found.items() if d.level == NO_PAGE}
    too_small = {
        "refs-change-times-out-large-repositories",
        "new-runner-type-misses-a-drive",
        "circuit-migration-fails-some-downloads",
    }
    assert quiet == {"one-bad-host", *too_small}
    bad_host = found[SCENARIOS / "one-bad-host.yaml"]
    assert bad_host.measured is not None
    assert bad_host.measured.paged == 0
    assert bad_host.measured.unresolved == 0  # nothing to resolve: nobody was paged
    assert bad_host.label() == NO_PAGE
    assert not {SCENARIOS / f"{name}.yaml" for name in quiet} & set(drills(FILES))
    assert len(drills(FILES)) == len(FILES) - len(quiet)
    # the others are paged in every measured seed
    assert all(
        d.measured.paged == 1 for p, d in found.items() if d.measured and p.stem not in quiet
    )


def test_list_shows_the_difficulty_and_says_unmeasured_for_a_changed_scenario(
    tmp_path: Path,
) -> None:
    own = tmp_path / "own"
    own.mkdir()
    text = (SCENARIOS / "certificate-expires.yaml").read_text(encoding="utf-8")
    (own / "my-certificate.yaml").write_text(
        text.replace("name: certificate-expires", "name: my-certificate"), encoding="utf-8"
    )
    shutil.copy(SCENARIOS / FILE, own / FILE)  # measured under another name: not this one
    env = {**os.environ, "CHAOSDRILL_SCENARIOS": str(own), "COLUMNS": "200"}
    proc = chaosdrill("list", env=env)
    assert proc.returncode == 0, proc.stderr
    rows = {line.split("│")[1].strip(): line for line in proc.stdout.splitlines() if "│" in line}
    table = json.loads((SCENARIOS / FILE).read_text(encoding="utf-8"))["scenarios"]
    found = of_files(FILES)
    for path in FILES:
        assert found[path].label() in rows[path.stem], rows[path.stem]
        assert path.stem in table
    assert "unmeasured" in rows["my-certificate"]


def test_drill_random_draws_from_the_level_asked_for(tmp_path: Path) -> None:
    levels = {path.stem: found.level for path, found in of_files(FILES).items()}
    script = tmp_path / "quit.txt"
    script.write_text("quit\n", encoding="utf-8")
    for seed in ("1",):  # one drill: each ends with its report (seconds of CI each)
        proc = chaosdrill(
            "drill", "--random", "--difficulty", "hard", "--seed", seed, "--script", str(script),
            "--no-compare", "--out", str(tmp_path / seed),
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        name = proc.stdout.split("The scenario was ", 1)[1].split(":", 1)[0]
        assert levels[name] == "hard", name
    proc = chaosdrill("drill", "--difficulty", "hard")
    assert proc.returncode == 2
    assert "add --random" in proc.stderr


def test_no_scenario_at_the_level_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A catalogue with nothing measured at the level asked for: one line, exit 1."""
    from sim.cli.main import main

    own = tmp_path / "x.yaml"
    shutil.copy(SCENARIOS / "certificate-expires.yaml", own)  # no difficulty.json beside it
    monkeypatch.setattr(catalogue, "entries", lambda: {"x": own})
    assert main(["drill", "--random", "--difficulty", "easy", "--seed", "1"]) == 1
    assert capsys.readouterr().err.strip() == (
        "drill --random: no scenarios measured as easy found in the catalogue "
        "(chaosdrill list shows each one's difficulty)"
    )


def test_resolution_counts_what_the_runs_give() -> None:
    """The resolution measure is the runs' own resolution phases; the oracle resolves the
    payment provider's outage."""
    from sim.expect.difficulty import resolution
    from sim.scoring.phases import phases

    scenario = sim.load_scenario(SCENARIOS / "payment-provider-outage.yaml")
    found = resolution(scenario, (2,), ("experienced", "oracle"))
    assert (found.seeds, found.paged) == (1, 1)
    for responder in ("experienced", "oracle"):
        runs = [sim.run(scenario, 2, responder=responder, compact=True)]
        assert found.resolved[responder] == sum(
            phases(j)["resolution"].status == "ok" for j in runs
        )
    assert found.share("oracle") == 1.0


def resolution_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "resolution.py"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "160"},
        check=False,
        timeout=300,
    )


@pytest.mark.slow
def test_the_resolution_benchmark_holds_scenarios_to_the_bars(tmp_path: Path) -> None:
    """A scenario cleared by both responders passes; one whose horizon ends before anybody
    can resolve it fails and the exit status says so; one that pages nobody has nothing to
    resolve; a bad name is one line, exit 1."""
    short = tmp_path / "short.yaml"
    short.write_text(
        f"extends: {SCENARIOS / 'payment-provider-outage.yaml'}\nname: short\nhorizon: 30m\n"
        "actions: []\n",
        encoding="utf-8",
    )
    proc = resolution_cli("payment-provider-outage", "one-bad-host", "--seeds", "1")
    assert proc.returncode == 0, proc.stderr
    rows = {line.split("│")[1].strip(): line for line in proc.stdout.splitlines() if "│" in line}
    assert "1/1 (100%)" in rows["payment-provider-outage"]
    assert "pass" in rows["payment-provider-outage"]
    assert "no page" in rows["one-bad-host"]
    proc = resolution_cli(str(short), "--seeds", "1")
    assert proc.returncode == 1
    assert "FAIL" in proc.stdout
    assert "1 below a bar" in proc.stderr
    proc = resolution_cli("no-such-scenario")
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1
    assert "no-such-scenario" in proc.stderr
