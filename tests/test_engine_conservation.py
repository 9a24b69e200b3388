"""Conservation: every request and every call ends exactly once; window counts add up."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.engine.common.calltree import Frame
from sim.engine.request.calls import DONE, Flow
from sim.engine.request.engine import RequestEngine
from sim.journal import Journal
from sim.scenario import Scenario
from sim.simulation import Simulation
from tests.conftest import SCENARIOS


class CheckedFlow(Flow):
    """A flow that fails loudly if a frame ends twice or ends without having started, and
    keeps every frame in flight (requests and the calls within them) to check at the end."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.in_flight: dict[int, Frame] = {}  # every frame that started and has not ended
        self.sent = self.ended = 0
        self.clock = 0.0  # the latest time a frame ended: simulated time never runs back

    def request(self, root: Any, req: Any, client_timeout: float) -> None:
        self.sent += 1
        super().request(root, req, client_timeout)

    def start(self, f: Frame) -> None:
        self.in_flight[id(f)] = f
        super().start(f)

    def route(self, f: Frame) -> None:
        self.in_flight[id(f)] = f  # calls without a pool or breaker skip start()
        super().route(f)

    def finish(
        self,
        f: Frame,
        outcome: int,
        cls: str | None = None,
        msg: str | None = None,
        record: bool = True,
        origin: bool = True,
    ) -> None:
        assert f.state != DONE, f"frame {f.node.label} ended twice"
        assert self.in_flight.pop(id(f), None) is f, f"frame {f.node.label} ended unstarted"
        now = self.env.now
        assert now >= f.t0, f"frame {f.node.label} ended {f.t0 - now:.3f}s before it began"
        assert now >= self.clock, f"time ran back from {self.clock} to {now}"
        self.clock = now
        if f.parent is None:
            self.ended += 1
        super().finish(f, outcome, cls, msg, record, origin)

    def roots_in_flight(self) -> list[Frame]:
        return [f for f in self.in_flight.values() if f.parent is None]

    def overdue(self) -> list[str]:
        """Frames still in flight after their deadline: every wait has a timer, so none may be."""
        now = self.env.now
        return [
            f"{f.node.label} (deadline {f.deadline:.3f}, now {now:.3f}, state {f.state})"
            for f in self.in_flight.values()
            if f.deadline < now - 1e-9
        ]


def run_checked(scenario: Scenario, seed: int, horizon: float) -> tuple[RequestEngine, CheckedFlow]:
    """A whole simulation (faults, actions, logs, complaints, monitors) with a checked flow."""
    simulation = Simulation(scenario, seed)
    engine = simulation.engine
    checked = CheckedFlow(simulation.env, simulation.streams("flow"), engine._request_done)
    checked.observer = engine.flow.observer
    engine.flow = checked
    simulation.advance(horizon)
    simulation.finish()
    return engine, checked


@pytest.mark.parametrize(
    ("name", "horizon"),
    [
        ("bad-schema-migration", 3600),
        ("payment-provider-outage", 2400),
        ("flash-sale-surge", 2400),
        ("migration-lock-queue", 3000),  # calls waiting for locks, callers giving up on them
    ],
)
def test_every_request_ends_exactly_once(name: str, horizon: float) -> None:
    """Requests sent = requests ended + requests in flight at the horizon, none ended twice,
    and nothing in flight past its deadline (timeouts, retries and breakers end every call)."""
    seed_scenario = sim.load_scenario(SCENARIOS / f"{name}.yaml")
    engine, flow = run_checked(seed_scenario, seed=3, horizon=horizon)
    assert flow.sent == engine.requests > 10_000
    assert flow.sent == flow.ended + len(flow.roots_in_flight())
    assert all(f.state != DONE for f in flow.in_flight.values())
    assert flow.overdue() == []
    for rt in engine.runtimes.values():  # no slot freed twice, none taken past the limit
        assert all(0 <= inst.busy <= rt.concurrency for inst in rt.instances), rt.name
    # what the endpoint and probe series counted is what ended
    r = seed_scenario.traffic.represents
    shoppers = sum(row[3] for row in engine.metrics.rows if row[1] == "endpoint") // r
    probes = sum(row[3] for row in engine.metrics.rows if row[1] == "probe")  # unscaled
    assert probes > 0
    assert shoppers + probes == flow.ended


@settings(
    max_examples=8,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1), horizon=st.integers(2400, 3000))
def test_conservation_for_any_seed_and_horizon(
    seed_scenario: Scenario, seed: int, horizon: int
) -> None:
    """For any seed and a horizon past the migration: no frame ends twice, sent = ended + in
    flight, and no frame is in flight past its deadline."""
    _, flow = run_checked(seed_scenario, seed, float(horizon))
    assert flow.sent == flow.ended + len(flow.roots_in_flight())
    assert flow.overdue() == []


def test_window_counts_add_up(seed_journal: Journal) -> None:
    """In every window, requests = ok + errors + timeouts + rejected, and error classes sum to failures."""
    frame = seed_journal.metrics_frame()
    assert (frame.requests == frame.ok + frame.errors + frame.timeouts + frame.rejected).all()
    failures = (
        (frame.errors + frame.timeouts + frame.rejected)
        .groupby([frame.t, frame.scope, frame.name])
        .sum()
    )
    by_class = seed_journal.errors_frame().groupby(["t", "scope", "name"])["count"].sum()
    joined = failures[failures > 0]
    assert joined.sort_index().equals(by_class.sort_index())


def test_windows_tile_the_horizon(seed_journal: Journal) -> None:
    """Business windows start every 10 s from 0 and cover the whole horizon."""
    starts = seed_journal.business_frame().t.tolist()
    assert starts[0] == 0.0
    assert all(abs((b - a) - 10.0) < 1e-9 for a, b in pairwise(starts))
    assert starts[-1] + 10.0 >= seed_journal.data["horizon"]


def test_probe_calls_are_counted_apart_from_shoppers(seed_journal: Journal) -> None:
    """The LB sees exactly the shoppers' requests; probes' calls go to their own series, unscaled."""
    f = seed_journal.metrics_frame()
    lb = f[(f.scope == "component") & (f.name == "lb")].requests.sum()
    assert lb == f[f.scope == "endpoint"].requests.sum()
    probes = f[f.scope == "probe"].requests.sum()
    calls = f[f.scope == "synthetic"].requests.sum()
    assert probes > 0
    assert calls > probes  # each probe walks several components
