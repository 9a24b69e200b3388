"""Peak memory of long runs: the seed scenario over 2 h, 24 h, 7 d (and 30 d on the flow engine).

    python benchmarks/memory.py [--quick]

Each run is ``sim.run(scenario, seed=7, horizon=H, engine=E)`` followed by
``journal.write`` (the journal as ``chaosdrill run --no-plots --no-counterfactuals`` writes
it), in a fresh Python process of its own, one after the other. The parent reads the child's
peak resident set size from the kernel when it ends (``os.wait4``: ``ru_maxrss`` of that
process alone), so every figure includes the interpreter, the imports and the journal.

Runs: the request engine over 2 h, 24 h and 7 d; the flow engine over 7 d and 30 d.
``--quick`` runs 2 h and 24 h only (about half a minute). Targets: 24 h under 400 MB and
7 d under 600 MB on the request engine. The table goes into docs/performance.md ("Memory").
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "bad-schema-migration.yaml"
HOUR, DAY = 3600.0, 86400.0
RUNS = (
    ("request", 2 * HOUR),
    ("request", DAY),
    ("request", 7 * DAY),
    ("flow", 7 * DAY),
    ("flow", 30 * DAY),
)
QUICK = RUNS[:2]
TARGETS_MB = {("request", DAY): 400, ("request", 7 * DAY): 600}


def child(engine: str, horizon: float, out: Path) -> None:
    """One run and its journal, in this process; prints its figures as one JSON line."""
    import sim

    scenario = sim.load_scenario(SCENARIO)
    started = time.perf_counter()
    journal = sim.run(scenario, seed=7, horizon=horizon, engine=engine)
    ran = time.perf_counter() - started
    journal.write(out / "journal.json")
    figures: dict[str, Any] = {
        "run": ran,
        "journal_bytes": sum(p.stat().st_size for p in out.iterdir()),
        "layout": "streamed" if any(journal.stored_tables()) else "inline",
        "series_rows": len(journal.data["metrics"]["series"]["rows"]),
    }
    print(json.dumps(figures))


def measure(engine: str, horizon: float) -> dict[str, Any]:
    """Run :func:`child` in a fresh process; its figures plus its peak RSS in MB."""
    with tempfile.TemporaryDirectory(prefix="chaosdrill-bench-") as out:
        command = [sys.executable, __file__, "--child", engine, str(horizon), out]
        started = time.perf_counter()
        with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as proc:
            assert proc.stdout is not None
            output = proc.stdout.read()
            _, status, usage = os.wait4(proc.pid, 0)  # the child's own peak, not ours
            proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait
        wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"the {engine} run of {horizon:.0f} s failed (exit {proc.returncode})")
    figures: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return {**figures, "wall": wall, "peak_mb": usage.ru_maxrss / 1024}  # Linux: KiB


def describe(horizon: float) -> str:
    """``2 h``, ``24 h``, ``7 d``."""
    return f"{horizon / HOUR:.0f} h" if horizon <= DAY else f"{horizon / DAY:.0f} d"


def commit() -> str:
    """The checked-out commit, ``-dirty`` with changes not committed."""
    done = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 h and 24 h only")
    parser.add_argument(
        "--child", nargs=3, metavar=("ENGINE", "HORIZON", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        engine, horizon, out = args.child
        child(engine, float(horizon), Path(out))
        return
    print(f"seed scenario, seed 7, commit {commit()}, Python {sys.version.split()[0]}")
    header = f"{'engine':8} {'horizon':>7} {'wall':>8} {'of it run':>9} {'peak RSS':>9} {'journal':>16} {'series rows':>12}"
    print(header)
    failed = []
    for engine, horizon in QUICK if args.quick else RUNS:
        f = measure(engine, horizon)
        journal = f"{f['journal_bytes'] / 1e6:.1f} MB {f['layout']}"
        print(
            f"{engine:8} {describe(horizon):>7} {f['wall']:7.1f}s {f['run']:8.1f}s "
            f"{f['peak_mb']:6.0f} MB {journal:>16} {f['series_rows']:>12,}",
            flush=True,
        )
        target = TARGETS_MB.get((engine, horizon))
        if target is not None and f["peak_mb"] >= target:
            failed.append(
                f"{engine} {describe(horizon)}: {f['peak_mb']:.0f} MB, target < {target} MB"
            )
    print("targets: " + ("; ".join(failed) if failed else "met (24 h < 400 MB, 7 d < 600 MB)"))


if __name__ == "__main__":
    main()
