"""chaosdrill: a chaos-engineering simulator of an e-commerce platform, for outage drills.

``import sim`` is nearly free: the scenario schema (pydantic), the engine, pandas and
matplotlib load on first use of a name below. The pytest plugin (``sim.pytest_plugin``)
loads in every pytest session where chaosdrill is installed, and imports this package
first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim._version import __version__ as __version__

if TYPE_CHECKING:
    from sim.journal import Journal
    from sim.runner import run
    from sim.scenario import Scenario, ScenarioError
    from sim.scenario.catalogue import entries as catalogue
    from sim.scenario.catalogue import load_scenario
    from sim.sweep import sweep

__all__ = ["Journal", "Scenario", "ScenarioError", "catalogue", "load_scenario", "run", "sweep"]


def __getattr__(name: str) -> Any:
    if name == "run":
        from sim.runner import run

        return run
    if name == "Journal":
        from sim.journal import Journal

        return Journal
    if name == "sweep":
        # The sub-package sim.sweep is callable: sim.sweep(...) runs a sweep and
        # sim.sweep.summarise(...) summarises one.
        import sim.sweep

        return sim.sweep
    if name in ("Scenario", "ScenarioError"):
        import sim.scenario

        return getattr(sim.scenario, name)
    if name == "load_scenario":
        # A file or a catalogue name, as `chaosdrill run` takes it.
        from sim.scenario.catalogue import load_scenario

        return load_scenario
    if name == "catalogue":
        # The scenario names and their files: {"bad-schema-migration": Path(...), ...}.
        from sim.scenario.catalogue import entries

        return entries
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
