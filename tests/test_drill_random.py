"""``chaosdrill drill --random`` reveals nothing: the same shift whatever was drawn, the same
world on a normalised clock, and a session file that names no scenario until the end."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from sim.drill import Drill
from sim.drill.shift import SHIFT_DATE, SHIFT_HOUR, SHIFT_LENGTH, random_shift
from sim.engine.common.shoppers import arrival_rate, start_hour
from sim.scenario import catalogue
from sim.scenario import load as load_scenario
from tests.conftest import ROOT, SCENARIOS

FILES = sorted(SCENARIOS.glob("*.yaml"))


def test_every_catalogue_shift_looks_the_same() -> None:
    """Start (date, hour) is one and the same for every scenario drawn, and so is the length
    of all but the one that runs most of a day (which the drill does not say); only the minutes
    of the hour are the scenario's (what happens on the hour still does)."""
    shifts = set()
    for path in FILES:
        scenario = load_scenario(path).scenario
        shifted = random_shift(scenario)
        start = shifted.clock_start
        assert start.minute == scenario.clock_start.minute
        assert shifted.horizon == max(SHIFT_LENGTH, scenario.horizon)
        shifts.add((start.date(), start.hour))
    assert shifts == {(SHIFT_DATE, SHIFT_HOUR)}
    longer = [p.stem for p in FILES if load_scenario(p).scenario.horizon > SHIFT_LENGTH]
    assert longer == ["primary-data-loss"]


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_the_world_is_the_same_on_the_normalised_clock(path: Path) -> None:
    """Shoppers arrive at every simulated second as on the scenario's own morning: the daily
    curve turned by the hours the clock moved, the peaks on the clock moved with it."""
    scenario = load_scenario(path).scenario
    shifted = random_shift(scenario)
    hour0, hour1 = start_hour(scenario.clock_start), start_hour(shifted.clock_start)
    for t in range(0, int(scenario.horizon), 37):
        assert arrival_rate(shifted.traffic, hour1, t) == pytest.approx(
            arrival_rate(scenario.traffic, hour0, t), rel=1e-9
        ), t
    # everything else is the scenario's
    keep = {"clock_start", "horizon", "traffic"}
    assert shifted.model_dump(exclude=keep) == scenario.model_dump(exclude=keep)
    assert shifted.traffic.funnel == scenario.traffic.funnel


def test_the_session_file_names_the_scenario_only_once_the_drill_has_ended(
    tmp_path: Path,
) -> None:
    """The autosaved session.json (the trainee can open it while the drill runs) has no path,
    file, name or description of the scenario; a replay of it finds the scenario in the
    catalogue by its digest; the ended drill's file names it."""
    path = catalogue.resolve("certificate-expires")
    loaded = load_scenario(path)
    session_file = tmp_path / "session.json"
    buffer = io.StringIO()
    drill = Drill(
        loaded,
        4,
        console=Console(file=buffer, width=140),
        random_pick=True,
        autosave=session_file,
        compare=False,
    )
    drill.begin()
    drill.issue("status")
    drill.issue("wait 2m")
    during = session_file.read_text(encoding="utf-8")
    secrets = [path.stem, path.name, loaded.scenario.name, loaded.scenario.description]
    for secret in secrets:
        assert secret not in during, secret
        assert secret not in buffer.getvalue(), secret
    assert json.loads(during)["scenario"]["path"] is None
    # a drill that died here can be replayed: the digest finds the scenario in the catalogue
    crashed = tmp_path / "crashed" / "session.json"
    crashed.parent.mkdir()
    shutil.copy(session_file, crashed)
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "replay", str(crashed), "--out", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    replayed = json.loads((tmp_path / "r" / "journal.json").read_text(encoding="utf-8"))
    assert replayed["clock_start"].startswith(f"{SHIFT_DATE.isoformat()}T{SHIFT_HOUR:02d}:")
    drill.issue("quit")
    drill.issue("y")
    drill.finish()
    drill.session.write(session_file)
    after = json.loads(session_file.read_text(encoding="utf-8"))
    assert after["scenario"]["path"] == str(path)
