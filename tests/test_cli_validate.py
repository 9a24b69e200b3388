"""``chaosdrill validate FILE`` over the invalid-scenario corpus (run as ``python -m sim``).

Each corpus file must make the command exit with status 1 and print exactly one line,
``FILE:LINE: PATH: MESSAGE``, with no traceback. The expected line and message come from
the ``# expect:`` header of the file, as in ``test_scenario_invalid.py``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = sorted((ROOT / "tests" / "invalid").glob("*.yaml"))
SEED = ROOT / "scenarios" / "bad-schema-migration.yaml"
EXPECT = re.compile(r"^# expect: (?P<line>\d+) (?P<substring>.+)$")


def validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m sim validate PATH...`` and capture its output as text."""
    return subprocess.run(
        [sys.executable, "-m", "sim", "validate", *map(str, paths)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def expectation(path: Path) -> tuple[int, str]:
    """The ``(line, substring)`` promised by the first line of a corpus file."""
    first = path.read_bytes().split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    match = EXPECT.match(first)
    assert match, f"{path.name}: the first line must be '# expect: <line> <substring>'"
    return int(match["line"]), match["substring"]


@pytest.fixture(scope="module")
def corpus_run() -> subprocess.CompletedProcess[str]:
    """One ``python -m sim validate`` over the whole corpus (a process per file cost CI 40 s;
    the command takes many files, and each must still get its own one line)."""
    return validate(*CORPUS)


def test_the_corpus_at_once_exits_1_with_one_line_per_file(
    corpus_run: subprocess.CompletedProcess[str],
) -> None:
    """Every file is reported, each on one line, no traceback, status 1."""
    output = corpus_run.stdout + corpus_run.stderr
    assert "Traceback" not in output, output
    assert corpus_run.returncode == 1, output
    lines = [text for text in output.splitlines() if text.strip()]
    assert len(lines) == len(CORPUS), output


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_validate_prints_the_one_problem(
    path: Path, corpus_run: subprocess.CompletedProcess[str]
) -> None:
    """An invalid file gets exactly one ``FILE:LINE: PATH: MESSAGE`` line, at the promised line."""
    line, substring = expectation(path)
    output = corpus_run.stdout + corpus_run.stderr
    mine = [text for text in output.splitlines() if text.startswith(f"{path}:")]
    assert len(mine) == 1, output
    match = re.match(rf"^{re.escape(str(path))}:(\d+): (\S+): (.+)$", mine[0])
    assert match, mine[0]
    assert int(match[1]) == line, mine[0]
    assert substring in match[3], mine[0]


def test_one_invalid_file_alone_exits_1_with_one_line() -> None:
    """The single-file form: the same one line and status 1."""
    path = CORPUS[0]
    result = validate(path)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert [t for t in output.splitlines() if t.strip()] == [
        t for t in output.splitlines() if t.startswith(f"{path}:")
    ], output


def test_validate_accepts_the_seed_scenario() -> None:
    """The seed scenario validates: exit status 0 and no traceback."""
    result = validate(SEED)
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode == 0, output
