"""Names a scenario may use without declaring them: the built-in responders."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.scenario.schema import Scenario

RUNBOOKS = ("seed", "changes-first", "experienced", "novice")  # shipped runbook files
SPECIAL = ("oracle", "scripted", "none")  # responders that follow no runbook
BUILT_IN: tuple[str, ...] = (*RUNBOOKS, *SPECIAL)


def responder_names(scenario: Scenario) -> list[str]:
    """Every responder ``scenario`` can be run with: the built-in ones and its own runbooks."""
    return sorted({*BUILT_IN, *scenario.runbooks})


__all__ = ["BUILT_IN", "RUNBOOKS", "SPECIAL", "responder_names"]
