"""Request-engine throughput against a plain SimPy 4-hop chain, measured in the same run.

    python benchmarks/engine_throughput.py [--rounds 5]

Realistic: the seed scenario (bad-schema-migration) with everything on — shoppers on a
daily curve, 7 endpoints over 13 components, load balancing, health checks, pools, retries,
the circuit breaker, the migration fault and the seed responder working through the action
API, red herrings, windowed metrics,
monitors and paging, structured logs with noise, and customer complaints. Its figure is simulated shopper requests (each walks a whole call tree)
per second of wall time.

Baseline: the textbook SimPy model of one request — a process per request walking
LB → web → db → payment, each hop a ``simpy.Resource`` with an exponential service time.
Its figure is requests through the whole chain per second of wall time.

The rounds alternate the two so that drift of a shared machine hits both alike; the
medians and their ratio are printed (target: ratio ≥ 1.0).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

import simpy

import sim
from sim.response.api import Incident
from sim.response.catalogue import make_responder
from sim.simulation import Simulation

ROOT = Path(__file__).resolve().parents[1]


def realistic(horizon: float | None = None) -> tuple[int, float]:
    """(requests, wall seconds) of one full run of the seed scenario."""
    scenario = sim.load_scenario(ROOT / "scenarios" / "bad-schema-migration.yaml")
    started = time.perf_counter()
    until = horizon or scenario.horizon
    simulation = Simulation(scenario, scenario.seed)
    make_responder("seed", scenario, scenario.seed).respond(Incident(simulation, until))
    simulation.advance(until)
    return simulation.engine.requests, time.perf_counter() - started


def plain_chain(requests: int = 40_000, seed: int = 1) -> tuple[int, float]:
    """(requests, wall seconds) of a plain SimPy LB → web → db → payment chain."""
    rng = random.Random(seed)
    env = simpy.Environment()
    hops = [
        (simpy.Resource(env, capacity=c), mean)
        for c, mean in ((2000, 0.001), (192, 0.012), (64, 0.004), (500, 0.35))
    ]
    done = 0

    def request() -> simpy.events.ProcessGenerator:
        nonlocal done
        for resource, mean in hops:
            with resource.request() as slot:
                yield slot
                yield env.timeout(rng.expovariate(1.0 / mean))
        done += 1

    def arrivals() -> simpy.events.ProcessGenerator:
        for _ in range(requests):
            yield env.timeout(rng.expovariate(50.0))
            env.process(request())

    started = time.perf_counter()
    env.process(arrivals())
    env.run()
    return done, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    real_rates, base_rates = [], []
    realistic(600)  # warm-up: imports, faker, caches
    plain_chain(2000)
    for _ in range(args.rounds):
        n, wall = realistic()
        real_rates.append(n / wall)
        n, wall = plain_chain()
        base_rates.append(n / wall)
    real, base = statistics.median(real_rates), statistics.median(base_rates)
    ratios = [r / b for r, b in zip(real_rates, base_rates, strict=True)]
    print(
        f"realistic engine (seed scenario, everything on): {real:,.0f} requests/s "
        f"(min {min(real_rates):,.0f}, max {max(real_rates):,.0f})"
    )
    print(
        f"baseline plain SimPy 4-hop chain:                {base:,.0f} requests/s "
        f"(min {min(base_rates):,.0f}, max {max(base_rates):,.0f})"
    )
    print(
        f"ratio realistic / baseline: {statistics.median(ratios):.2f} "
        f"(per round: {', '.join(f'{r:.2f}' for r in ratios)}; target >= 1.0)"
    )


if __name__ == "__main__":
    main()
