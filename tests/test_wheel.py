"""The built wheel works outside the repository: the catalogue ships in it, and `chaosdrill
list`, `run`, `drill`, `sim.load_scenario(NAME)` and the game-day app's pages work from a
folder without scenarios/."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import ROOT


def sh(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(a) for a in args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
        # nothing that points back at the source tree
        env={
            k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CHAOSDRILL_SCENARIOS")
        },
    )
    assert proc.returncode == 0, f"{args}: {proc.stdout[-2000:]}{proc.stderr[-2000:]}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel built from this tree; returns its bin folder.

    The wheel is built from a copy of what goes into it (the tree stays clean), in pip's
    isolated build environment, as `pip install -e` builds. The virtualenv has no pip: this
    interpreter's pip installs the wheel into it (`pip --python`), without dependencies. The
    dependencies are those of the interpreter running the tests, made visible through a .pth
    file: fast and offline, where installing them from the package index would download a few
    hundred MB; chaosdrill itself comes only from the wheel (the test checks where `sim` is).
    """
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "scenarios", src / "scenarios")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "sim", src / "sim", symlinks=True, ignore=ignore)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    sh(*pip, "wheel", "-q", "--no-deps", "-w", base / "dist", src, cwd=base)
    (wheel,) = (base / "dist").glob("chaosdrill-*.whl")
    venv = base / "venv"
    sh(sys.executable, "-m", "venv", "--without-pip", venv, cwd=base)
    python = venv / "bin" / "python"
    sh(*pip, "--python", python, "install", "-q", "--no-deps", "--no-index", wheel, cwd=base)
    site = sh(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=base)
    ours = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
    (Path(site.stdout.strip()) / "_test_dependencies.pth").write_text("\n".join(sorted(ours)))
    return venv / "bin"


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="venv layout")
def test_the_wheel_works_outside_the_repository(installed: Path, tmp_path: Path) -> None:
    """From an empty folder: list, run, a scripted drill and sim.load_scenario by name, exit 0."""
    where = sh(installed / "python", "-c", "import sim; print(sim.__file__)", cwd=tmp_path)
    assert Path(where.stdout.strip()).is_relative_to(installed.parent)
    chaosdrill = installed / "chaosdrill"
    listing = sh(chaosdrill, "list", cwd=tmp_path)
    for name in ("bad-schema-migration", "flash-sale-surge", "payment-provider-outage"):
        assert name in listing.stdout
    sh(
        *(chaosdrill, "run", "--seed", "7", "--horizon", "20m"),
        *("--no-counterfactuals", "--out", "OUT"),
        cwd=tmp_path,
    )
    assert (tmp_path / "OUT" / "journal.json").stat().st_size > 1000
    (tmp_path / "script.txt").write_text("status\nlogs\ndiagnose mig-2041\nquit\n")
    sh(chaosdrill, "drill", "--script", "script.txt", "--out", "DRILL", cwd=tmp_path)
    assert (tmp_path / "DRILL" / "session.json").exists()
    code = "import sim; print(sim.load_scenario('bad-schema-migration').name, *sim.catalogue())"
    loaded = sh(installed / "python", "-c", code, cwd=tmp_path)
    shipped = sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))
    assert loaded.stdout.split() == ["bad-schema-migration", *shipped]
    assert not (tmp_path / "scenarios").exists()
    # the game-day app's pages and script ship in the wheel
    serve = (
        "from pathlib import Path; from fastapi.testclient import TestClient; "
        "from sim.web.app import create_app\n"
        "with TestClient(create_app(Path('GD'), 'wheel-key-1234')) as c:\n"
        "    print(c.get('/?key=wheel-key-1234').status_code, c.get('/static/gameday.js').status_code)"
    )
    assert sh(installed / "python", "-c", serve, cwd=tmp_path).stdout.split() == ["200", "200"]
