"""Shared fixtures: the scenario catalogue and a cached seed-scenario run."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

import sim
from sim.journal import Journal
from sim.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


def interruptible() -> None:
    """``preexec_fn`` of a child a test sends SIGINT to: a shell that started the tests in the
    background ignores SIGINT, a child inherits that, and Python then installs no
    KeyboardInterrupt — the signal would be lost. The child gets a terminal's default, as a
    person at a keyboard has."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


SEED_SCENARIO = SCENARIOS / "bad-schema-migration.yaml"
SEED_SHOP = SCENARIOS / "shops" / "seed-shop.yaml"  # what the seed scenario extends
# The engine of the sweep tests (test_sweep*.py): one place to switch them to "flow".
SWEEP_ENGINE = "flow"

# The invalid-scenario corpus is read by its own tests; the chaosdrill plugin must not collect
# its files with an expect: block as regression scenarios (each would fail, by design).
collect_ignore_glob = ["invalid/*.yaml", "invalid_runbooks/*.yaml"]


@pytest.fixture(scope="session")
def seed_scenario() -> Scenario:
    return sim.load_scenario(SEED_SCENARIO)


@pytest.fixture(scope="session")
def seed_journal(seed_scenario: Scenario) -> Journal:
    return sim.run(seed_scenario, seed=7, responder="scripted")


def drill_transcript(path: Path, seed: int, lines: tuple[str, ...]) -> tuple[Journal, str]:
    """A whole drill of ``lines`` typed in order (no comparison runs): its journal and what
    the trainee saw."""
    import io

    from rich.console import Console

    from sim.drill import Drill
    from sim.scenario import load

    buffer = io.StringIO()
    drill = Drill(load(path), seed, console=Console(file=buffer, width=160), comparisons=None)
    drill.begin()
    for line in lines:
        drill.issue(line)
    return drill.finish(), buffer.getvalue()


def simulate(
    path: Path,
    overrides: dict[str, Any] | None = None,
    *,
    seed: int = 1,
    until: float | None = None,
    engine: str = "request",
) -> Any:
    """A run of the scenario at ``path`` (with ``overrides``, docs/sweep.md's paths) and its
    own responder, to ``until`` (default: its horizon), kept open to look inside: the
    :class:`~sim.simulation.Simulation`."""
    from sim.expect.overrides import apply_overrides
    from sim.response.api import Incident
    from sim.response.catalogue import make_responder
    from sim.simulation import Simulation

    doc = sim.load_scenario(path).model_dump(mode="json", by_alias=True)
    scenario = Scenario.model_validate(apply_overrides(doc, overrides or {}))
    horizon = until or scenario.horizon
    simulation = Simulation(scenario, seed, engine=engine)
    make_responder(scenario.response.responder, scenario, seed).respond(
        Incident(simulation, horizon)
    )
    simulation.advance(horizon)
    return simulation


def events_of(simulation: Any, kind: str) -> list[dict[str, Any]]:
    """A kept-open run's timeline events of one ``kind``."""
    return [e for e in simulation.timeline if e["kind"] == kind]


def failed_share(simulation: Any, t0: float, t1: float) -> float:
    """Share of shoppers' requests in [t0, t1) of a kept-open run that did not succeed."""
    rows = simulation.engine.metrics.rows
    total = bad = 0
    for r in rows[0 : len(rows)]:
        if r[1] == "endpoint" and t0 <= r[0] < t1:
            total += r[3]
            bad += r[3] - r[4]
    return bad / total if total else 0.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The catalogue's expect: blocks count as slow (many seeded runs each); the longest
    modules go first, so that both workers finish together (loadscope). A catalogue file's
    expect: items also check the request engine's stored reference (below)."""
    from sim.pytest_plugin import ExpectationItem

    for item in items:
        if item.nodeid.startswith("scenarios/"):
            item.add_marker(pytest.mark.slow)
        if isinstance(item, ExpectationItem) and item.path.parent == SCENARIOS:
            checks_the_reference(item)

    def order(item: pytest.Item) -> float:
        return -SECONDS.get(item.nodeid.split("::")[0], 0.0)

    items.sort(key=order)  # stable: the rest keep their order


# What the longest modules (and scenario files) take on one worker, measured with
# --durations on 2026-12-05 (seconds): each module runs on one worker (loadscope), and
# starting the longest first leaves only short ones for the end, so that both workers finish
# together (longest processing time first). Stale figures only cost balance.
SECONDS = {
    "tests/test_scenario_limits.py": 56,
    "tests/test_notebooks.py": 50,
    "tests/test_engine_agreement.py": 45,
    "tests/test_drill_cli.py": 38,
    "tests/test_mechanism_failover.py": 35,
    "tests/test_mechanism_restore.py": 33,
    "tests/test_difficulty.py": 32,
    "tests/test_mechanism_locks.py": 31,
    "tests/test_signals.py": 30,
    "tests/test_mechanism_capacity.py": 30,
    "tests/test_pytest_plugin.py": 24,
    "tests/test_drill.py": 23,
    "tests/test_mechanism_statistics.py": 22,
    "tests/test_cli_run.py": 20,
    "tests/test_responders.py": 19,
    "tests/test_memory.py": 19,
    "tests/test_flow_engine.py": 19,
    "tests/test_mechanism_sequences.py": 18,
    "tests/test_error_tracker.py": 18,
    "tests/test_mechanism_replicas.py": 18,
    "tests/test_mechanism_incidents.py": 18,  # measured 2026-12-05 (session 17)
    "tests/test_mechanism_regions.py": 14,
    "tests/test_mechanism_consequences.py": 17,
    "tests/test_wheel.py": 16,
    "tests/test_sweep_cli.py": 15,
    "scenarios/primary-data-loss.yaml": 15,
    "scenarios/standby-lost-days-ago.yaml": 14,
    "tests/test_scenarios_catalogue.py": 14,
    "tests/test_mechanism_cache.py": 13,
    "tests/test_scenario_fuzz.py": 13,
    "tests/test_mechanism_memory.py": 12,
    "tests/test_drill_random.py": 12,
    "scenarios/flash-sale-surge.yaml": 12,
    "scenarios/replica-relapse.yaml": 12,
    "tests/test_mechanism_monitoring.py": 11,
    "tests/test_web_browser.py": 11,
    "tests/test_complaints.py": 11,
    "scenarios/homepage-regex-ejects-the-fleet.yaml": 11,
    "tests/test_web_api.py": 10,
    "scenarios/shard-host-fails.yaml": 10,
    "tests/test_mechanism_health.py": 10,
    "tests/test_cli_files.py": 10,
    "tests/test_mechanism_network.py": 10,
    "tests/test_gameday.py": 10,
    "tests/test_change_history.py": 10,
    "tests/test_engine_conservation.py": 9,
    "scenarios/primary-failover.yaml": 9,
}


_REFERENCE_CHECKED: set[str] = set()


def checks_the_reference(item: Any) -> None:
    """After the first of a catalogue file's ``expect:`` items that runs on a worker, check
    the request engine's seed 1 with the scenario's own responder against the stored reference
    (tests/reference/engines.json) — the run its ``expect:`` block makes at seed 1, which the
    session's runs (``sim.pytest_plugin``) keep, so the suite does not run it twice. Scenarios
    without an ``expect:`` block are checked by tests/test_engine_agreement.py."""
    runtest = item.runtest

    def runtest_then_check() -> None:
        runtest()
        if item.path.name in _REFERENCE_CHECKED:
            return
        _REFERENCE_CHECKED.add(item.path.name)
        from tests.reference.make_engine_reference import current_request_reference

        current_request_reference(item.config, item.plan.loaded)

    item.runtest = runtest_then_check
