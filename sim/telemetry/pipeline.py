"""The metrics pipeline: which windows of which series reach the store that dashboards and
alert rules read, and whether the rules are evaluated at all.

Without a ``monitoring:`` block monitoring never fails: every row reaches everyone and the
pipeline only passes them on. With one, as each metrics window closes:

- each series' window gets through with the probability that every component the pipeline
  ``depends_on`` answers it — the product of (1 − the share of calls it fails now); a
  component with no instance up, or hung, fails everything. Below half, the pipeline is
  dark and nothing gets through until it delivers nine tenths again. A link among them also
  *carries* the metrics: ``series_bytes`` per series per window, beside the shop's calls;
- a component whose metrics agent stopped (a ``stops_reporting`` fault: the state's
  ``silent``) sends nothing of its own series; an endpoint's series are reported by the
  component at the root of its call tree (the balancer), so they stop with its agent;
- internal probes' results travel the pipeline like every series; external ones
  (``probes.external``) are a vendor's and always arrive;
- alerting evaluates the rules only while each component it ``depends_on`` (``pipeline``: the
  pipeline itself) delivers at least half of what it is sent. While it cannot, no rule moves —
  firing alerts stay firing, nothing new fires, nobody is paged — except external probes',
  which the vendor evaluates.

A window that did not arrive is lost for good (no agent buffers its backlog): dashboards show a
gap there, and ``metric_absent`` rules count it. ``monitoring.dark`` and
``monitoring.restored`` events mark when the pipeline or alerting stops and starts again.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from sim.model.world import World
from sim.scenario.schema import Monitoring, Scenario

DARK_BELOW = 0.5  # a piece delivering less than this share of what it is sent is dark
LIGHT_FROM = 0.9  # and it is said to be back once it delivers this much again

# (window start, the rows that arrived, the business row or None, the series that did not
# arrive as (scope, name), whether alerting runs and external probes only if not)
ObservedListener = Callable[
    [float, list[tuple[Any, ...]], tuple[Any, ...] | None, list[tuple[str, str]], bool], None
]


class Pipeline:
    """Filters every closed metrics window through the monitoring the scenario declares."""

    def __init__(
        self,
        world: World,
        scenario: Scenario,
        rng: random.Random,
        carry: Callable[[str, float], None] | None = None,
    ) -> None:
        self.world = world
        self.spec: Monitoring | None = scenario.monitoring
        self.window = scenario.window
        self.external = scenario.probes.external
        self.rng = rng
        self.carry = carry
        self.listeners: list[ObservedListener] = []
        self.lost: set[tuple[float, str, str]] = set()  # (window start, scope, name)
        self.dark: set[float] = set()  # window starts whose business row never arrived
        self.closed: list[float] = []  # start of every window closed so far
        self.episodes: list[dict[str, Any]] = []  # {piece, start, end, cause}
        self._open: dict[str, dict[str, Any]] = {}
        self.reporter = {  # endpoint → the component whose agent reports it
            name: ep.call.component for name, ep in scenario.endpoints.items()
        }
        self.links = [
            name
            for name in (self.spec.pipeline.depends_on if self.spec else ())
            if scenario.components[name].kind == "link"
        ]

    # -- what the pieces deliver ------------------------------------------------------------
    def _delivers(self, names: tuple[str, ...], skip: str = "") -> tuple[float, str | None]:
        """Share of what passes through ``names`` that gets through, and the worst of them."""
        share, worst, worst_share = 1.0, None, 1.0
        for name in names:
            if name == skip:
                continue
            state = self.world.states[name]
            ok = 0.0 if state.hang or all(state.down) else 1.0 - state.error_probability
            share *= ok
            if ok < worst_share:
                worst, worst_share = name, ok
        return share, worst

    def _mark(self, piece: str, share: float, cause: str | None, now: float) -> None:
        """Open or close a dark episode of ``piece`` (hysteresis between the two lines)."""
        episode = self._open.get(piece)
        if episode is None and share < DARK_BELOW:
            episode = self._open[piece] = {
                "piece": piece,
                "start": now,
                "end": None,
                "cause": cause,
            }
            self.episodes.append(episode)
            self.world.emit(now, "monitoring.dark", piece=piece, cause=cause, delivers=share)
        elif episode is not None and share >= LIGHT_FROM:
            episode["end"] = now
            del self._open[piece]
            self.world.emit(now, "monitoring.restored", piece=piece, delivers=share)

    # -- each window ------------------------------------------------------------------------
    def on_window(self, t: float, rows: list[tuple[Any, ...]], business: tuple[Any, ...]) -> None:
        self.closed.append(t)
        states = self.world.states
        if self.spec is None and not any(s.silent for s in states.values()):
            for listener in self.listeners:
                listener(t, rows, business, [], True)
            return
        now = t + self.window
        deliver, cause = (1.0, None)
        alerting = True
        if self.spec is not None:
            deliver, cause = self._delivers(self.spec.pipeline.depends_on)
            self._mark("pipeline", deliver, cause, now)
            evaluates, why = self._delivers(self.spec.alerting.depends_on, skip="pipeline")
            if "pipeline" in self.spec.alerting.depends_on and deliver < evaluates:
                evaluates, why = deliver, cause
            self._mark("alerting", evaluates, why, now)
            alerting = "alerting" not in self._open
            if "pipeline" in self._open:
                deliver = 0.0  # dark is dark: what trickles through a failing hop is no graph
        draw = self.rng.random
        observed: list[tuple[Any, ...]] = []
        absent: list[tuple[str, str]] = []
        for row in rows:
            scope, name = row[1], row[2]
            if scope == "probe" and self.external:
                observed.append(row)
                continue
            agent = name if scope == "component" else self.reporter.get(name)
            if (agent is not None and states[agent].silent) or (
                deliver < 1.0 and draw() >= deliver
            ):
                self.lost.add((t, scope, name))
                absent.append((scope, name))
            else:
                observed.append(row)
        arrived: tuple[Any, ...] | None = business
        if deliver < 1.0 and draw() >= deliver:
            arrived = None
            self.dark.add(t)
        if self.carry is not None and self.spec is not None:
            load = len(rows) * self.spec.pipeline.series_bytes / self.window
            for link in self.links:
                self.carry(link, load)
        for listener in self.listeners:
            listener(t, observed, arrived, absent, alerting)

    def arrived(self, t: float, scope: str, name: str) -> bool:
        """Did the window of series ``(scope, name)`` that started at ``t`` arrive?"""
        return (t, scope, name) not in self.lost

    def to_journal(self) -> dict[str, Any] | None:
        """The dark episodes and how much never arrived; None without monitoring or a silence."""
        if self.spec is None and not self.lost:
            return None
        return {
            "episodes": [
                {**e, "start": round(e["start"], 6), "end": e["end"] and round(e["end"], 6)}
                for e in self.episodes
            ],
            "lost_windows": len(self.lost),
            "dark_business_windows": len(self.dark),
        }
