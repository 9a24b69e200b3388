"""The responders by name: the shipped runbooks (YAML in ``sim/response/runbooks/``), a
scenario's own, the oracle, the scripted actions and nobody.

Runbook files are read and checked by :mod:`sim.scenario.runbooks`.
"""

from __future__ import annotations

import random
from importlib import resources
from typing import TYPE_CHECKING

from sim.scenario.runbooks import parse_runbook
from sim.scenario.schema import Runbook, Scenario
from sim.scenario.vocabulary import BUILT_IN, RUNBOOKS

if TYPE_CHECKING:
    from sim.response.responders import Responder


def builtin_runbook(name: str) -> Runbook:
    """One of the shipped runbooks (``seed``, ``changes-first``, ``experienced``, ``novice``)."""
    ref = resources.files("sim.response").joinpath("runbooks", f"{name}.yaml")
    return parse_runbook(ref.read_text(encoding="utf-8"), f"sim/response/runbooks/{name}.yaml")


def make_responder(
    name: str, scenario: Scenario, seed: int, runbook: Runbook | None = None
) -> Responder:
    """The responder called ``name`` for ``scenario`` (``runbook`` overrides the lookup)."""
    from sim.engine.common.streams import stream
    from sim.response.responders import RunbookResponder
    from sim.response.special import NoResponder, OracleResponder, ScriptedResponder

    rng: random.Random = stream(seed, f"responder/{name}")
    if runbook is not None:
        return RunbookResponder(runbook, rng)
    if name == "none":
        return NoResponder()
    if name == "oracle":
        return OracleResponder()
    if name == "scripted":
        return ScriptedResponder(scenario.actions)
    if name in scenario.runbooks:
        return RunbookResponder(scenario.runbooks[name], rng)
    if name in RUNBOOKS:
        return RunbookResponder(builtin_runbook(name), rng)
    known = ", ".join(sorted({*BUILT_IN, *scenario.runbooks}))
    raise ValueError(f"no responder named {name!r} (known: {known})")
