"""What an instance's host logs when the kernel kills its process: the OOM killer's line and
the container's restart — the lines an engineer finds on a node whose pods keep restarting."""

from __future__ import annotations

import simpy

from sim.model.world import Event, World
from sim.telemetry.logs import LogStore


class HostLogger:
    """Turns the memory mechanism's kills and restarts into host log lines."""

    def __init__(self, env: simpy.Environment, world: World, store: LogStore) -> None:
        self.env = env
        self.world = world
        self.store = store
        world.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        d = event.data
        if event.kind == "instance.oom_killed":
            component, i = str(d["component"]), int(d["instance"])
            rss_kb = int(float(d.get("leaked", 0.0)) / 1024)
            pid = 4100 + 37 * i + int(self.env.now) % 97
            self.store.add(
                self.env.now,
                component,
                "ERROR",
                f"Out of memory: Killed process {pid} ({component}) anon-rss:{rss_kb}kB "
                f"oom_score_adj:0",
                None,
                i,
                weight=1,
            )
            self.store.add(
                self.env.now,
                component,
                "WARN",
                f"container {component} terminated: OOMKilled (exit code 137); restarting",
                None,
                i,
                weight=1,
            )
        elif event.kind == "instance.restarted":
            component, i = str(d["component"]), int(d["instance"])
            self.store.add(
                self.env.now,
                component,
                "INFO",
                f"container {component} started (restart after OOMKilled)",
                None,
                i,
                weight=1,
            )
