"""Scenario files: schema, loading with file:line errors, reference checks, JSON Schema."""

from sim.scenario.durations import format_duration, parse_duration
from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.loader import LoadedScenario, load, load_scenario, parse_scenario
from sim.scenario.schema import Scenario

__all__ = [
    "LoadedScenario",
    "Problem",
    "Scenario",
    "ScenarioError",
    "format_duration",
    "load",
    "load_scenario",
    "parse_duration",
    "parse_scenario",
]
