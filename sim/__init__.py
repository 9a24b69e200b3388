"""chaosdrill: a chaos-engineering simulator of an e-commerce platform, for outage drills.

``import sim`` stays cheap: the engine, pandas and matplotlib load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.scenario import Scenario, ScenarioError, load_scenario

if TYPE_CHECKING:
    from sim.journal import Journal
    from sim.runner import run

__all__ = ["Journal", "Scenario", "ScenarioError", "load_scenario", "run"]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name == "run":
        from sim.runner import run

        return run
    if name == "Journal":
        from sim.journal import Journal

        return Journal
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
