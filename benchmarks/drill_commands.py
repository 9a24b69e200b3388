"""How fast the drill answers: wall milliseconds per command, against the 200 ms target.

    python benchmarks/drill_commands.py [--rounds 6]

Realistic: the seed scenario (bad-schema-migration) with everything on, a trainee's
session after the page, each command answered exactly as at the prompt — the action API
call with the simulated time it costs run through (an action's own running time included:
a migration rollback is eight simulated minutes, a fix twenty-five), the answer drawn by rich
(into a buffer, 120 columns) and the session file saved. Each round is a new drill on the
next seed (7, 8, …), alternating two sessions that between them use every command, hints
and mistakes included.

Printed per command type: how many were timed, the median and the max of wall ms, and the
ratio of each to the target (target: max ratio ≤ 1.0), and the median simulated seconds the
command cost (what the engine had to simulate before answering). ``wait 5m`` is reported
apart (five simulated minutes of the whole shop, not an answer to read), and the other
commands' figures exclude it.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from rich.console import Console

import sim
from sim.drill import Drill
from sim.response.api import OBSERVE
from sim.scenario import load

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 200.0
# Two sessions that fit the shift, alternating between rounds: a trainee who looks at
# everything, chases the red herrings and rolls the migration back; and one who deploys a
# fix and tries every other action.
LOOK_AND_ROLL_BACK = [
    *OBSERVE,  # every observation, once
    "help",
    "help rollback",
    "stauts",  # a typo: answered with a suggestion
    "restart dbb",  # a wrong name
    "hint",
    "logs auth --grep password",
    "deps db",
    "notify",
    "restart auth",
    "wait 5m",
    "rollback dep-auth-3.8.0",
    "hint",
    "diagnose mig-2041",
    "update",
    "rollback mig-2041",
    "wait 5m",
    "dashboard",
    "mitigated",
    "resolve",
]
FIX_AND_ACT = [
    "status",
    "deps",
    "hint",
    "diagnose mig-2041",
    "notify",
    "fix mig-2041",
    "wait 5m",
    "scale web",
    "isolate email-provider",
    "restore email-provider",
    "failover payment-provider",
    "dashboard",
    "status",
    "update the incident is mitigated; post-mortem to follow",
    "mitigated",
    "resolve",
]
SESSIONS = (LOOK_AND_ROLL_BACK, FIX_AND_ACT)


def kind(line: str) -> str:
    """The command type a line is timed under (``wait 5m`` on its own)."""
    words = line.split()
    if words[0] == "wait":
        return "wait 5m"
    if words[0] == "logs" and "--grep" in words:
        return "logs --grep"
    if words[0] in ("stauts", "restart") and words[-1] in ("stauts", "dbb"):
        return "mistake"
    return words[0]


def one_round(
    seed: int, folder: Path, session: list[str], simulated: dict[str, list[float]]
) -> dict[str, list[float]]:
    """Wall ms per command type for one drill on ``seed`` fed ``session`` (and, into
    ``simulated``, the simulated seconds each command cost)."""
    loaded = load(ROOT / "scenarios" / "bad-schema-migration.yaml")
    drill = Drill(
        loaded,
        seed,
        console=Console(file=io.StringIO(), width=120),
        autosave=folder / f"session-{seed}.json",
    )
    drill.begin()
    times: dict[str, list[float]] = defaultdict(list)
    for line in session:
        if drill.ended is not None:
            raise SystemExit(f"seed {seed}: the shift ended before {line!r}; shorten the session")
        t = drill.now
        started = time.perf_counter()
        drill.issue(line)
        times[kind(line)].append((time.perf_counter() - started) * 1000.0)
        simulated[kind(line)].append(drill.now - t)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    all_times: dict[str, list[float]] = defaultdict(list)
    simulated: dict[str, list[float]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp:
        one_round(1, Path(tmp), FIX_AND_ACT, defaultdict(list))  # warm-up: imports, caches
        for r in range(args.rounds):
            session = SESSIONS[r % len(SESSIONS)]
            for name, values in one_round(7 + r, Path(tmp), session, simulated).items():
                all_times[name].extend(values)
    waits = all_times.pop("wait 5m", [])
    print(
        f"drill command answer time, seed scenario, {args.rounds} round(s), "
        f"chaosdrill {sim.__version__}; target {TARGET_MS:.0f} ms"
    )
    print(
        f"{'command':<14}{'n':>4}{'median ms':>11}{'max ms':>9}{'median/target':>15}"
        f"{'max/target':>12}{'simulated s':>13}"
    )
    rows = sorted(all_times.items(), key=lambda kv: -max(kv[1]))
    for name, values in [*rows, ("wait 5m", waits)]:
        if not values:
            continue
        if name == "wait 5m":
            print("-" * 78)
        med, top = statistics.median(values), max(values)
        print(
            f"{name:<14}{len(values):>4}{med:>11.1f}{top:>9.1f}"
            f"{med / TARGET_MS:>15.2f}{top / TARGET_MS:>12.2f}"
            f"{statistics.median(simulated[name]):>13.0f}"
        )
    every = [v for values in all_times.values() for v in values]
    print(
        f"all commands but wait: median {statistics.median(every):.1f} ms, "
        f"max {max(every):.1f} ms = {max(every) / TARGET_MS:.2f} × target (target: ≤ 1.0)"
    )
    if waits:
        print(
            f"wait 5m (five simulated minutes): median {statistics.median(waits):.1f} ms, "
            f"max {max(waits):.1f} ms = {max(waits) / TARGET_MS:.2f} × target"
        )


if __name__ == "__main__":
    main()
