"""A what-if sweep at scale: 1,000 seeded one-hour drills, against a bare numpy flow kernel.

    python benchmarks/sweep.py [--drills 1000] [--workers N]

Realistic: ``sim.sweep`` over seeds 1…N of the seed scenario (bad-schema-migration), one
hour each, flow engine, everything on — shoppers on the daily curve, the migration fault,
monitors, paging and detection, logs and complaints, the seed responder working through the
action API — every run scored into one table row. Local worker processes, one per core.

Baseline: a bare vectorised numpy flow kernel of the same hour, all replications at once:
the expected sessions through the funnel on the same curve (think times, reloads), each
funnel step's success probability switching when the migration breaks logins and checkouts
at 40 min, and per replication its own Poisson requests and binomial failures per step and
a 5 %-for-a-minute error alert for the time to detect. No responder, no telemetry, no
journal: the floor for "1,000 one-hour replications".

Both are timed as wall clock in this process, alternating over ``--rounds``; the medians and
their ratio are printed (target: the sweep in ≤ 10 s on this 2-core machine).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from pathlib import Path

import numpy as np

import sim
from sim.engine.common.shoppers import arrival_rate, start_hour
from sim.engine.flow.funnel import delay_kernel, time_cdf, time_top

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "bad-schema-migration.yaml"
HOUR = 3600.0


def realistic(drills: int, workers: int | None) -> tuple[float, float]:
    """(wall seconds, median time to detect) of ``drills`` one-hour drills through sim.sweep."""
    started = time.perf_counter()
    df = sim.sweep(SCENARIO, seeds=drills, horizon=HOUR, engine="flow", workers=workers)
    wall = time.perf_counter() - started
    assert len(df) == drills
    return wall, float(df["time_to_detect"].median())


def kernel(drills: int, seed: int = 1, dt: float = 5.0) -> tuple[float, float]:
    """(wall seconds, median time to detect) of the bare numpy kernel, all drills at once.

    Expected session flows through the funnel (think times, reloads, give-ups) are the same
    for every replication; each replication draws its own requests and failures per step
    from them, and runs its own alert.
    """
    started = time.perf_counter()
    scenario = sim.load_scenario(SCENARIO)
    traffic = scenario.traffic
    rng = np.random.default_rng(seed)
    funnel = traffic.funnel
    k, e = len(funnel), traffic.give_up_after
    proceed = np.array([s.proceed for s in funnel[:-1]])
    think = delay_kernel(time_cdf(traffic.think_time), dt, time_top(traffic.think_time))
    reload = delay_kernel(lambda x: min(1.0, max(0.0, (x - 2.0) / 8.0)), dt, 10.0)
    size = max(len(think), len(reload)) + 2
    due = np.zeros((size, k, e))
    # Which funnel steps the migration breaks (their endpoints touch users or orders).
    broken = np.array([s.endpoint in ("login", "checkout", "pay") for s in funnel])
    fault_at = next(c.at for c in scenario.changes if c.kind == "migration")
    hour0 = start_hour(scenario.clock_start)
    steps = int(HOUR / dt)
    per_window = max(1, int(60.0 / dt))  # the alert looks at one minute
    recent = np.zeros((per_window, 2, drills))
    above = np.zeros(drills)
    detected = np.full(drills, np.inf)
    think_idx = np.arange(1, len(think) + 1)
    reload_idx = np.arange(1, len(reload) + 1)
    for step in range(steps):
        t = step * dt
        slot = step % size
        n = due[slot].copy()
        due[slot] = 0.0
        n[0, 0] += arrival_rate(traffic, hour0, t + dt / 2) * dt
        p_ok = np.where(broken & (t >= fault_at), 0.0, 0.999)
        ok = n * p_ok[:, None]
        failed = n - ok
        due[(step + think_idx) % size, 1:, :] += think[:, None, None] * (ok[:-1] * proceed[:, None])
        due[(step + reload_idx) % size, :, 1:] += reload[:, None, None] * (
            failed[:, :-1] * traffic.retry_probability
        )
        # Each replication's draws: its requests and failures this step.
        mean = n.sum(axis=1)
        requests = rng.poisson(mean[None, :], size=(drills, k))
        bad = rng.binomial(requests, 1.0 - p_ok[None, :])
        recent[step % per_window] = requests.sum(axis=1), bad.sum(axis=1)
        total, failing = recent.sum(axis=0)
        firing = (total >= 20) & (failing > 0.05 * total)
        above = np.where(firing, above + dt, 0.0)
        newly = (above >= 60.0) & np.isinf(detected)
        detected[newly] = t + dt - fault_at
    wall = time.perf_counter() - started
    return wall, float(np.median(detected))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drills", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None, help="default: one per core")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print(f"{args.drills} one-hour drills of {SCENARIO.name}, {cores} cores")
    sweeps, kernels = [], []
    for r in range(args.rounds):
        k_wall, k_ttd = kernel(args.drills, seed=r + 1)
        s_wall, s_ttd = realistic(args.drills, args.workers)
        kernels.append(k_wall)
        sweeps.append(s_wall)
        print(
            f"  round {r + 1}: sweep {s_wall:7.2f} s (median detect {s_ttd:.0f} s)   "
            f"kernel {k_wall:6.2f} s (median detect {k_ttd:.0f} s)"
        )
    s, k = statistics.median(sweeps), statistics.median(kernels)
    per = s / args.drills * 1000
    print(f"sweep  (sim.sweep, flow engine, responders): {s:8.2f} s  ({per:.1f} ms a drill)")
    print(f"kernel (bare numpy flow kernel):            {k:8.2f} s")
    print(
        f"ratio sweep / kernel: {s / k:.1f}   target: sweep ≤ 10 s — {'met' if s <= 10 else 'not met'}"
    )
    return 0 if math.isfinite(s) else 1


if __name__ == "__main__":
    raise SystemExit(main())
