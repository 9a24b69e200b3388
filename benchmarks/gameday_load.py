"""Game days under load: server CPU and the 95th percentile of action and update latency.

    python benchmarks/gameday_load.py [--games 10] [--participants 5] [--seconds 60]

Starts ``chaosdrill serve`` in its own process (so its CPU is measured alone), creates the
game days (the seed scenario, ×1 real time, the clock started), and connects every
participant like a browser does: an event stream each (``/api/events``), and a command every
8–12 s (looks: status, dashboard, alerts, deps, logs, changes — each costs simulated time,
so the engine runs). Two phases, each against a fresh server: the baseline (one game day)
and the load (``--games``). Printed per phase: server CPU as a share of one core and of the
machine, the median and 95th percentile of action latency (the HTTP round trip of a
command) and of update latency (from the moment the server took a picture of a game day —
clock, charts, alerts — to the moment a participant received it), and their ratios to the
goal (CPU < 50 % of one core, p95 < 200 ms) and to the baseline.

The participants run in this process, on the same machine: their own CPU competes with the
server's, which makes the figures pessimistic, not optimistic.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import psutil

import sim

KEY = "load-benchmark-key"
LOOKS = ("status", "dashboard", "alerts", "deps", "logs", "changes")
ROLES = {
    "commander": ["look", "declare", "chat"],
    "operations": ["look", "act", "chat"],
    "communications": ["look", "communicate", "chat"],
    "scribe": ["look", "chat"],
    "observer": ["look", "chat"],
}
GOAL_CPU = 50.0  # % of one core
GOAL_P95_MS = 200.0


@dataclass
class Measured:
    games: int
    participants: int
    seconds: float
    cpu_core: float = 0.0
    cpu_machine: float = 0.0
    actions: list[float] = field(default_factory=list)  # ms
    updates: list[float] = field(default_factory=list)  # ms
    errors: int = 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def p95(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=20, method="inclusive")[18]


async def participant(
    client: httpx2.AsyncClient, gid: str, token: str, until: float, m: Measured, rng: random.Random
) -> None:
    async def stream() -> None:
        url = f"/g/{gid}/api/events?token={token}"
        async with client.stream("GET", url, timeout=None) as response:
            event = ""
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "live":
                    live = json.loads(line[5:])["live"]
                    m.updates.append((time.time() - float(live["wall"])) * 1000.0)
                if time.monotonic() >= until:
                    return

    async def act() -> None:
        await asyncio.sleep(rng.uniform(0, 10))
        while time.monotonic() < until:
            started = time.perf_counter()
            response = await client.post(
                f"/g/{gid}/api/command",
                json={"line": rng.choice(LOOKS)},
                headers={"X-Token": token},
            )
            m.actions.append((time.perf_counter() - started) * 1000.0)
            if response.status_code != 200:
                m.errors += 1
            await asyncio.sleep(rng.uniform(8, 12))

    listener = asyncio.create_task(stream())
    await act()
    listener.cancel()


async def drive(base: str, games: int, participants: int, seconds: float, pid: int) -> Measured:
    m = Measured(games, participants, seconds)
    limits = httpx2.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx2.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        made = []
        for g in range(games):
            r = await client.post(
                "/api/gamedays",
                json={"scenario": "bad-schema-migration", "seed": g + 1, "roles": ROLES},
                headers={"X-Key": KEY},
            )
            r.raise_for_status()
            made.append(r.json())
        for game in made:
            fac = game["facilitator"].split("token=")[1]
            r = await client.post(
                f"/g/{game['id']}/api/facilitator/clock",
                json={"speed": 1, "paused": False},
                headers={"X-Token": fac},
            )
            r.raise_for_status()
        server = psutil.Process(pid)
        cpu0, wall0 = sum(server.cpu_times()[:2]), time.monotonic()
        until = wall0 + seconds
        rng = random.Random(7)
        tasks = [
            participant(client, game["id"], link.split("token=")[1], until, m, rng)
            for game in made
            for link in list(game["join"].values())[:participants]
        ]
        await asyncio.gather(*tasks)
        used, elapsed = sum(server.cpu_times()[:2]) - cpu0, time.monotonic() - wall0
    m.cpu_core = 100.0 * used / elapsed
    m.cpu_machine = m.cpu_core / (os.cpu_count() or 1)
    return m


def serve(folder: Path) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sim",
            "serve",
            "--port",
            str(port),
            "--dir",
            str(folder),
            "--key",
            KEY,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if re.search(r"Open http://", line):
            break
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx2.get(f"{base}/?key={KEY}", timeout=5)
            return proc, base
        except httpx2.TransportError:
            time.sleep(0.1)
    raise SystemExit("the server did not come up")


def phase(games: int, participants: int, seconds: float) -> Measured:
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = serve(Path(tmp))
        try:
            return asyncio.run(drive(base, games, participants, seconds, proc.pid))
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=10)
    parser.add_argument("--participants", type=int, default=5, choices=range(1, 6))
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    baseline = phase(1, args.participants, args.seconds)
    load = phase(args.games, args.participants, args.seconds)
    print(
        f"game-day load, chaosdrill {sim.__version__}, {os.cpu_count()} CPUs, "
        f"{args.participants} participants per game day, ×1 clock, {args.seconds:g} s per phase"
    )
    head = (
        f"{'phase':<10}{'games':>6}{'people':>7}{'CPU %core':>10}{'CPU %mach':>10}"
        f"{'act p50':>9}{'act p95':>9}{'upd p50':>9}{'upd p95':>9}{'actions':>8}{'updates':>8}"
        f"{'errors':>7}"
    )
    print(head)
    for name, m in (("baseline", baseline), ("load", load)):
        print(
            f"{name:<10}{m.games:>6}{m.games * m.participants:>7}{m.cpu_core:>10.1f}"
            f"{m.cpu_machine:>10.1f}{statistics.median(m.actions):>9.1f}{p95(m.actions):>9.1f}"
            f"{statistics.median(m.updates):>9.1f}{p95(m.updates):>9.1f}{len(m.actions):>8}"
            f"{len(m.updates):>8}{m.errors:>7}"
        )
    print(
        f"load ÷ goal: CPU {load.cpu_core / GOAL_CPU:.2f} (of one core; goal < 1.0), "
        f"action p95 {p95(load.actions) / GOAL_P95_MS:.2f}, "
        f"update p95 {p95(load.updates) / GOAL_P95_MS:.2f}"
    )
    print(
        f"load ÷ baseline: CPU {load.cpu_core / baseline.cpu_core:.2f}, "
        f"action p95 {p95(load.actions) / p95(baseline.actions):.2f}, "
        f"update p95 {p95(load.updates) / p95(baseline.updates):.2f}"
    )


if __name__ == "__main__":
    main()
