"""Start-up overhead of the pytest plugin, measured against pytest without it in the same run.

    python benchmarks/plugin_import.py [--rounds 20] [--bytecode]

The plugin is registered under the ``pytest11`` entry point, so it loads in every pytest
session of an environment where chaosdrill is installed, whether the project uses it or not.
This measures what that costs.

Session: ``python -m pytest --co -q -p no:cacheprovider`` in an empty temporary folder (a
whole pytest start-up: plugins loaded, options parsed, configure and header hooks, an empty
collection), once with the plugin autoloaded and once with ``-p no:chaosdrill``. Its figure
is the wall time of the subprocess.

Import: ``python -c "import sim.pytest_plugin"`` against ``python -c "import pytest"``: the
module alone (it imports pytest, so the difference is the plugin and ``sim/__init__``).

The rounds alternate the two sides (ABBA) so that drift of a shared machine hits both alike; the
medians, their difference and their ratio are printed (target: under 100 ms of overhead).
By default the subprocesses inherit the environment as it is (if it sets
``PYTHONDONTWRITEBYTECODE``, every module is compiled from source in every process, pytest's
too); ``--bytecode`` lets them cache bytecode under a temporary ``PYTHONPYCACHEPREFIX``, as
an ordinary installation does.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

PYTEST = [sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider"]


def wall(command: Sequence[str], cwd: Path, env: Mapping[str, str]) -> float:
    """Seconds of wall time of one subprocess (its exit status is not judged: an empty
    collection exits with 5)."""
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, capture_output=True, check=False)
    return time.perf_counter() - started


def alternate(
    a: Sequence[str], b: Sequence[str], rounds: int, cwd: Path, env: Mapping[str, str]
) -> tuple[list[float], list[float]]:
    """Wall times of ``a`` and ``b``, run in turn, which goes first alternating from round
    to round (ABBA: whatever the first or second run of a pair gains, both sides get it).
    One warm-up each, not counted."""
    wall(a, cwd, env)
    wall(b, cwd, env)
    times_a, times_b = [], []
    for i in range(rounds):
        if i % 2 == 0:
            times_a.append(wall(a, cwd, env))
            times_b.append(wall(b, cwd, env))
        else:
            times_b.append(wall(b, cwd, env))
            times_a.append(wall(a, cwd, env))
    return times_a, times_b


def line(label: str, times: Sequence[float]) -> str:
    return (
        f"{label:<44} {statistics.median(times) * 1000:7.0f} ms "
        f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f})"
    )


def compare(title: str, with_: list[float], without: list[float], labels: tuple[str, str]) -> None:
    on, off = statistics.median(with_), statistics.median(without)
    paired = sorted(a - b for a, b in zip(with_, without, strict=True))
    print(title)
    print("  " + line(labels[0], with_))
    print("  " + line(labels[1], without))
    print(
        f"  overhead: {(on - off) * 1000:+.0f} ms (median of per-round differences "
        f"{statistics.median(paired) * 1000:+.0f} ms), ratio {on / off:.3f}; target < 100 ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument(
        "--bytecode", action="store_true", help="cache bytecode (in a temporary prefix)"
    )
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    with tempfile.TemporaryDirectory(prefix="chaosdrill-bench-") as tmp:
        empty = Path(tmp) / "empty"
        empty.mkdir()
        if args.bytecode:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        caching = "off" if env.get("PYTHONDONTWRITEBYTECODE") else "on"
        print(f"python {sys.version.split()[0]}, bytecode cache {caching}, {args.rounds} rounds")
        probe = subprocess.run(
            [*PYTEST, "--version", "--version"], cwd=empty, env=env, capture_output=True, text=True
        )
        if "chaosdrill" not in probe.stdout + probe.stderr:
            sys.exit("the chaosdrill plugin is not registered: pip install -e . first")
        with_, without = alternate(
            PYTEST, [*PYTEST, "-p", "no:chaosdrill"], args.rounds, empty, env
        )
        compare(
            "pytest start-up in an empty folder:",
            with_,
            without,
            ("pytest --co (plugin autoloaded)", "pytest --co -p no:chaosdrill"),
        )
        plugin, bare = alternate(
            [sys.executable, "-c", "import sim.pytest_plugin"],
            [sys.executable, "-c", "import pytest"],
            args.rounds,
            empty,
            env,
        )
        compare(
            "import alone:",
            plugin,
            bare,
            ('python -c "import sim.pytest_plugin"', 'python -c "import pytest"'),
        )


if __name__ == "__main__":
    main()
