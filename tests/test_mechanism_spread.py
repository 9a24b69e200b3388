"""Failures that spread as what callers keep expires: names that stop resolving, outlasting
their fix by the negative TTL (scenarios/dns-names-expire.yaml), and a certificate that
expires as connections are recycled (scenarios/certificate-expires.yaml)."""

from __future__ import annotations

from typing import Any

import pytest

from sim.response.api import Incident
from sim.simulation import Simulation
from tests.conftest import SCENARIOS, events_of, simulate

DNS = SCENARIOS / "dns-names-expire.yaml"
BROKEN = 40 * 60.0  # the DNS change
NOBODY = {"response.responder": "none"}


def failing(
    simulation: Simulation,
    t0: float,
    t1: float,
    component: str = "db",
    cls: str = "NameResolutionError",
) -> float:
    """Share of the calls to ``component`` in [t0, t1) that failed with ``cls``."""
    rows = simulation.engine.metrics.rows
    errors = simulation.engine.metrics.error_rows
    calls = sum(
        r[3] for r in rows[0 : len(rows)] if r[1:3] == ("component", component) and t0 <= r[0] < t1
    )
    failed = sum(
        r[4]
        for r in errors[0 : len(errors)]
        if r[1:4] == ("component", component, cls) and t0 <= r[0] < t1
    )
    return failed / calls if calls else 0.0


def db_failing(simulation: Simulation, t0: float, t1: float) -> float:
    return failing(simulation, t0, t1)


def run(overrides: dict[str, Any], until: float) -> Simulation:
    return simulate(DNS, {**NOBODY, **overrides}, seed=5, until=until)


def test_the_failure_spreads_over_the_ttl_as_cached_entries_expire() -> None:
    """Nothing fails before; over the first half of the TTL a quarter of the database calls
    fail on average, over the second half three quarters, and past it all of them."""
    simulation = run({}, BROKEN + 8 * 60)
    ttl = 300.0
    assert db_failing(simulation, BROKEN - 300, BROKEN) == 0.0
    first_half = db_failing(simulation, BROKEN, BROKEN + ttl / 2)
    second_half = db_failing(simulation, BROKEN + ttl / 2, BROKEN + ttl)
    assert first_half == pytest.approx(0.25, abs=0.07)
    assert second_half == pytest.approx(0.75, abs=0.07)
    assert db_failing(simulation, BROKEN + ttl + 10, BROKEN + 8 * 60) == pytest.approx(1.0)


def test_a_longer_ttl_spreads_it_more_slowly() -> None:
    """The counterfactual: with names cached for 20 minutes instead of 5, four minutes in a
    fifth as many calls fail."""
    short = run({}, BROKEN + 5 * 60)
    long = run({"faults.0.ttl": "20m"}, BROKEN + 5 * 60)
    window = (BROKEN + 3 * 60, BROKEN + 5 * 60)
    assert db_failing(long, *window) == pytest.approx(db_failing(short, *window) / 4, rel=0.25)


def test_the_failures_outlast_the_fix_by_the_negative_ttl() -> None:
    """Rolled back at 50 minutes (the rollback takes its 3 minutes): the cached failures
    expire evenly over the negative TTL of a minute, and then nothing fails."""
    simulation = run({}, BROKEN + 10 * 60)
    incident = Incident(simulation, BROKEN + 40 * 60)
    ev = incident.rollback("cfg-coredns-forward-zone", takes=0.0)
    assert ev.ok
    assert incident.steps[-1]["remedied"] == ["db-name-servfail"]
    (ended,) = events_of(simulation, "fault.end")
    fixed = ended["t"]
    incident.wait(5 * 60)
    assert db_failing(simulation, fixed, fixed + 30) > 0.3  # still cached
    assert db_failing(simulation, fixed + 70, fixed + 5 * 60) == 0.0
    (resolving,) = events_of(simulation, "dns.resolving")
    assert fixed + 60 <= resolving["t"] <= fixed + 65  # the negative TTL, in 5 s ticks


def test_without_a_negative_cache_it_ends_with_the_fix() -> None:
    simulation = run({"faults.0.negative_ttl": "0s"}, BROKEN + 10 * 60)
    incident = Incident(simulation, BROKEN + 40 * 60)
    incident.rollback("cfg-coredns-forward-zone", takes=0.0)
    incident.wait(3 * 60)
    (ended,) = events_of(simulation, "fault.end")
    assert db_failing(simulation, ended["t"] + 10, ended["t"] + 3 * 60) == 0.0


CERT = SCENARIOS / "certificate-expires.yaml"
EXPIRES = 30 * 60.0


def test_an_expired_certificate_fails_new_handshakes_as_connections_are_recycled() -> None:
    """Connections open before the expiry work until recycled, evenly over their age: a
    quarter of the payments calls fail over the first half of it, three quarters over the
    second, every one after."""
    simulation = simulate(CERT, NOBODY, seed=8, until=EXPIRES + 15 * 60)
    age = 600.0

    def tls(t0: float, t1: float) -> float:
        return failing(simulation, t0, t1, "payments", "SSLError")

    assert tls(EXPIRES - 600, EXPIRES) == 0.0
    assert tls(EXPIRES, EXPIRES + age / 2) == pytest.approx(0.25, abs=0.08)
    assert tls(EXPIRES + age / 2, EXPIRES + age) == pytest.approx(0.75, abs=0.08)
    assert tls(EXPIRES + age + 10, EXPIRES + 15 * 60) == pytest.approx(1.0)


def test_a_renewed_certificate_ends_it_at_once() -> None:
    """No handshake failure is cached: from the renewed certificate's deploy on, nothing
    fails (unlike a name's negative cache)."""
    simulation = simulate(CERT, NOBODY, seed=8, until=EXPIRES + 12 * 60)
    incident = Incident(simulation, EXPIRES + 60 * 60)
    incident.diagnose("payments", takes=0.0)
    fixed = incident.fix("payments", takes=0.0)
    assert fixed.ok
    (ended,) = events_of(simulation, "fault.end")
    (valid,) = events_of(simulation, "tls.valid")
    assert valid["t"] == pytest.approx(ended["t"])
    incident.wait(5 * 60)
    assert failing(simulation, ended["t"] + 10, incident.now, "payments", "SSLError") == 0.0
