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


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m sim validate PATH`` and capture its output as text."""
    return subprocess.run(
        [sys.executable, "-m", "sim", "validate", str(path)],
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


@pytest.mark.slow  # a process per file; tests/test_scenario_invalid.py checks them in-process
@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_validate_prints_the_one_problem_and_exits_1(path: Path) -> None:
    """An invalid file gives exit status 1 and one ``FILE:LINE: PATH: MESSAGE`` line."""
    line, substring = expectation(path)
    result = validate(path)
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode == 1, output
    lines = [text for text in output.splitlines() if text.strip()]
    assert len(lines) == 1, output
    match = re.match(rf"^{re.escape(str(path))}:(\d+): (\S+): (.+)$", lines[0])
    assert match, lines[0]
    assert int(match[1]) == line, lines[0]
    assert substring in match[3], lines[0]


def test_validate_accepts_the_seed_scenario() -> None:
    """The seed scenario validates: exit status 0 and no traceback."""
    result = validate(SEED)
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode == 0, output
