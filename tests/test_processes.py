"""Worker processes die with their parent: `kill -9` of `chaosdrill run` or `sweep` leaves no
process behind, and SIGTERM stops a run like Ctrl-C (exit 130, nothing written)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

LONG_RUN = ["run", "--horizon", "12h", "--no-plots"]  # counterfactuals on: two workers
LONG_SWEEP = ["sweep", "--runs", "400", "--horizon", "2h", "--workers", "2", "--no-plots"]
Launch = Callable[[list[str]], tuple["subprocess.Popen[bytes]", list[int]]]


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc: psutil is not a dependency)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie waiting to be reaped does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def ours(pid: int, marker: str = "sim") -> bool:
    """Whether ``pid`` runs with ``marker`` among its arguments (chaosdrill, by default), and
    is not some other process that reused the number."""
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return alive(pid) and marker.encode() in arguments


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Launch]:
    """Start ``chaosdrill ARGS --out DIR`` and wait until it has two workers; end whatever of it
    a failed test leaves running."""
    started: list[int] = []

    def launch(args: list[str]) -> tuple[subprocess.Popen[bytes], list[int]]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim", *args, "--out", str(tmp_path / "out")],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # a pipe would stay open as long as any worker lives
            stderr=subprocess.PIPE,
        )
        started.append(proc.pid)
        deadline = time.monotonic() + 60
        while len(workers := children(proc.pid)) < 2:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
            assert time.monotonic() < deadline, "no worker processes after 60 s"
            time.sleep(0.1)
        started.extend(workers)
        return proc, workers

    yield launch
    for pid in started:
        if ours(pid):
            os.kill(pid, signal.SIGKILL)


def gone_within(pids: list[int], seconds: float) -> list[int]:
    """The processes of ``pids`` still running after ``seconds`` (none, hopefully)."""
    deadline = time.monotonic() + seconds
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [p for p in pids if alive(p)]


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
@pytest.mark.parametrize("command", [LONG_RUN, LONG_SWEEP], ids=["run", "sweep"])
def test_kill_9_leaves_no_worker(start: Launch, command: list[str]) -> None:
    """`kill -9` of the parent: its workers are gone within 5 s."""
    proc, workers = start(command)
    proc.kill()
    proc.wait(timeout=10)
    assert gone_within(workers, 5.0) == []


ORPHAN = """
import multiprocessing, os, sys, time
from sim.runner import die_with_parent

def worker(parent):
    sys.platform = "elsewhere"  # no prctl: the portable way, a thread watching getppid()
    die_with_parent(parent)
    time.sleep(120)

if __name__ == "__main__":
    child = multiprocessing.Process(target=worker, args=(os.getpid(),))
    child.start()
    print(child.pid, flush=True)
    time.sleep(120)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_without_prctl_a_worker_notices_its_parent_is_gone(tmp_path: Path) -> None:
    """The fallback of die_with_parent: the worker ends soon after its parent's `kill -9`."""
    script = tmp_path / "orphan.py"
    script.write_text(ORPHAN)
    parent = subprocess.Popen(
        [sys.executable, str(script)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    worker = int(parent.stdout.readline())
    try:
        time.sleep(0.5)  # the worker's initializer has run
        assert alive(worker)
        parent.kill()
        parent.wait(timeout=10)
        assert gone_within([worker], 5.0) == []
    finally:
        if ours(worker, str(script)):
            os.kill(worker, signal.SIGKILL)


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_sigterm_stops_a_run_like_ctrl_c(start: Launch, tmp_path: Path) -> None:
    """SIGTERM mid-run: exit 130 at once, the Ctrl-C message, no worker left, nothing written."""
    proc, workers = start(LONG_RUN)
    time.sleep(1)  # past the workers' start: a signal in the instant of a fork can be lost
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert b"interrupted; nothing was written to" in stderr
    assert b"Traceback" not in stderr
    assert gone_within(workers, 5.0) == []
    assert list(tmp_path.iterdir()) == []
