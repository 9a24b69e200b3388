"""Where the commands write: catalogue names, output folders that never mix runs, and write
errors as one line with exit code 74 (read-only folder, `--out` under a file, a full disk)."""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sim.atomic import staged_folder
from tests.conftest import ROOT

QUICK = ("--horizon", "5m", "--no-counterfactuals", "--no-plots")
PR_CAPBSET_DROP, CAP_DAC_OVERRIDE = 24, 1  # <linux/prctl.h>, <linux/capability.h>


def chaosdrill(
    *args: str, cwd: Path = ROOT, preexec_fn: Callable[[], None] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        preexec_fn=preexec_fn,
    )


def leftovers(folder: Path) -> list[str]:
    """Hidden temporary files or folders (``.NAME.….tmp``) anywhere under ``folder``."""
    return [str(p) for p in folder.rglob(".*") if p.name.endswith(".tmp")]


def test_a_misspelt_name_gets_did_you_mean(tmp_path: Path) -> None:
    """A name in no catalogue folder says so with a did-you-mean; a missing path says it cannot
    be read; both exit 1 without a traceback."""
    proc = chaosdrill("run", "bad-schema-migraton", "--out", str(tmp_path / "o"))
    assert proc.returncode == 1
    expected = "no scenario named 'bad-schema-migraton'; did you mean 'bad-schema-migration'?\n"
    assert proc.stderr == expected
    proc = chaosdrill("run", "nothing-like-it", "--out", str(tmp_path / "o"))
    assert proc.returncode == 1
    assert proc.stderr.startswith("no scenario named 'nothing-like-it' (known: ")
    missing = tmp_path / "missing.yaml"
    proc = chaosdrill("run", str(missing))
    assert proc.returncode == 1
    assert (
        proc.stderr == f"{missing}:1: scenario: cannot read the file: No such file or directory\n"
    )
    assert not (tmp_path / "o").exists()


def test_catalogue_names_work_from_python(tmp_path: Path) -> None:
    """`sim.catalogue()` lists the shipped names and `sim.load_scenario(NAME)` loads one, from
    a folder without scenarios/."""
    code = "import sim; print(*sim.catalogue(), sim.load_scenario('flash-sale-surge').name)"
    env = {k: v for k, v in os.environ.items() if k != "CHAOSDRILL_SCENARIOS"}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr
    *names, loaded = proc.stdout.split()
    assert names == sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))
    assert loaded == "flash-sale-surge"


def test_a_run_replaces_every_file_of_the_run_before(tmp_path: Path) -> None:
    """A --no-plots run into a folder of a full run removes that run's pictures and report (they
    would not match the new journal), keeps other files and leaves no temporary file."""
    out = tmp_path / "out"
    out.mkdir()
    for name in ("journal.json", "timeline.png", "report.md", "report-phases.png"):
        (out / name).write_text("an earlier run")
    (out / "notes.txt").write_text("mine")
    proc = chaosdrill("run", *QUICK, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["journal.json", "notes.txt"]
    assert json.loads((out / "journal.json").read_text())["horizon"] == 300.0
    assert leftovers(tmp_path) == []


def test_staged_folder_is_all_or_nothing(tmp_path: Path) -> None:
    """An interrupted write leaves the folder as it was and nothing temporary; a finished one
    moves every file in at once, replacing the earlier run's files of the same command."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "journal.json").write_text("old")
    (out / "report.md").write_text("old")
    names = ("journal.json", "report.md")

    def interrupted() -> None:
        with staged_folder(out, names) as stage:
            (stage / "journal.json").write_text("new")
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    assert {p.name: p.read_text() for p in out.iterdir()} == {
        "journal.json": "old",
        "report.md": "old",
    }
    with staged_folder(out, names) as stage:
        (stage / "journal.json").write_text("new")
    assert {p.name: p.read_text() for p in out.iterdir()} == {"journal.json": "new"}
    fresh = tmp_path / "a" / "b"
    with staged_folder(fresh, ("x",)) as stage:
        (stage / "x").write_text("x")
    assert [p.name for p in fresh.iterdir()] == ["x"]
    assert leftovers(tmp_path) == []


def without_root_override() -> None:
    """In the child: drop CAP_DAC_OVERRIDE, so that root too meets a folder's permissions."""
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    """A folder that the commands below cannot write into (skipped where that cannot be made)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    probe = [sys.executable, "-c", f"open({str(folder / 'x')!r}, 'w')"]
    try:
        refused = subprocess.run(probe, preexec_fn=without_root_override, capture_output=True)
    except subprocess.SubprocessError:
        pytest.skip("cannot drop CAP_DAC_OVERRIDE here")
    if refused.returncode == 0:
        pytest.skip("this user writes into read-only folders")
    yield folder
    folder.chmod(0o755)


@pytest.mark.parametrize(
    "command",
    [
        ["run", *QUICK, "--out", "{ro}/out"],
        ["run", *QUICK, "--out", "{ro}"],
        ["schema", "--out", "{ro}/scenario.schema.json"],
        ["graph", "--out", "{ro}/graph.png"],
    ],
    ids=["run-new-folder", "run-into-it", "schema", "graph"],
)
def test_read_only_folder_is_one_line_and_74(read_only: Path, command: list[str]) -> None:
    """Writing into a read-only folder: one line naming the path and the OS reason, exit 74."""
    args = [a.format(ro=read_only) for a in command]
    proc = chaosdrill(*args, preexec_fn=without_root_override)
    assert proc.returncode == 74, proc.stderr
    target = next(a for a in args if a.startswith(str(read_only)))
    assert proc.stderr == f"{target}: cannot write: Permission denied\n"
    assert list(read_only.iterdir()) == []


@pytest.mark.slow
def test_out_under_a_regular_file_is_one_line_and_74(tmp_path: Path) -> None:
    """`--out` under a regular file names the file in the way, for run, report and drill."""
    blocker = tmp_path / "notes.txt"
    blocker.write_text("not a folder")
    journal_dir = tmp_path / "j"
    assert chaosdrill("run", *QUICK, "--out", str(journal_dir)).returncode == 0
    for args in (
        ["run", *QUICK, "--out", str(blocker / "out")],
        ["run", *QUICK, "--out", str(blocker)],
        ["report", str(journal_dir / "journal.json"), "--out", str(blocker / "pm")],
        ["drill", "--script", os.devnull, "--out", str(blocker / "drill")],
        ["run", *QUICK, "--out", str(tmp_path / "ok"), "--export", str(blocker / "exp")],
    ):
        proc = chaosdrill(*args)
        target = args[args.index("--export" if "--export" in args else "--out") + 1]
        assert proc.returncode == 74, proc.stderr
        assert (
            proc.stderr.splitlines()[-1]
            == f"{target}: cannot write: {blocker} is a file, not a folder"
        )
        assert "Traceback" not in proc.stderr
    assert blocker.read_text() == "not a folder"


def test_a_full_disk_is_one_line_and_74(tmp_path: Path) -> None:
    """A write the file system refuses midway (a file-size limit standing in for a full disk)
    is one line and exit 74, and leaves neither the folder nor a temporary file."""

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails instead (EFBIG)
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    out = tmp_path / "out"
    proc = chaosdrill("run", *QUICK, "--out", str(out), preexec_fn=small_files)
    assert proc.returncode == 74, proc.stderr
    assert proc.stderr == f"{out}: cannot write: File too large\n"
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_schema_out_is_written_atomically(tmp_path: Path) -> None:
    """`schema --out` writes what `schema` prints, creating folders, with no temporary file."""
    target = tmp_path / "a" / "scenario.schema.json"
    assert chaosdrill("schema", "--out", str(target)).returncode == 0
    assert target.read_text() == chaosdrill("schema").stdout
    assert oct(target.stat().st_mode & 0o777) == "0o644"
    assert leftovers(tmp_path) == []
