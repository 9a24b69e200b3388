"""Scoring a run: pure functions from a journal to phases, impact, conduct and a scorecard.

The rubric is published in docs/scoring.md.
"""

from sim.scoring.conduct import conduct
from sim.scoring.impact import impact
from sim.scoring.phases import PHASES, Phase, phases
from sim.scoring.score import DEFAULT_WEIGHTS, PARTS, Scorecard, score

__all__ = [
    "DEFAULT_WEIGHTS",
    "PARTS",
    "PHASES",
    "Phase",
    "Scorecard",
    "conduct",
    "impact",
    "phases",
    "score",
]
