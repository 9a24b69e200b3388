"""Graph analysis of the seed shop: blast radius, single points of failure, critical paths."""

from __future__ import annotations

from sim.model import Topology
from sim.scenario import Scenario


def test_blast_radius_of_the_database(seed_scenario: Scenario) -> None:
    """Losing the database fails every endpoint that reads a table, and not the cached home page."""
    br = Topology(seed_scenario).blast_radius("db")
    assert br.failing_endpoints == ("cart", "checkout", "login", "pay", "product", "search")
    assert "home" not in br.failing_endpoints + br.degraded_endpoints
    assert br.callers == {
        "lb",
        "web",
        "catalog",
        "search",
        "cart",
        "auth",
        "orders",
        "inventory",
        "payments",
    }


def test_optional_dependency_only_degrades(seed_scenario: Scenario) -> None:
    """The e-mail provider is optional: payments degrade, nothing fails."""
    br = Topology(seed_scenario).blast_radius("email-provider")
    assert br.failing_endpoints == ()
    assert br.degraded_endpoints == ("pay",)


def test_single_points_of_failure(seed_scenario: Scenario) -> None:
    """Single-replica components on a required path: the database and the card processor."""
    assert Topology(seed_scenario).single_points_of_failure() == ["db", "payment-provider"]


def test_critical_path_follows_the_slowest_chain(seed_scenario: Scenario) -> None:
    """The payment endpoint's slowest chain runs through the external card processor."""
    topo = Topology(seed_scenario)
    assert topo.critical_path("pay") == ["lb", "web", "payments", "payment-provider"]
    assert topo.critical_path("home") == ["lb", "web", "catalog", "cache"]
