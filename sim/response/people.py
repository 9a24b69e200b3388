"""How fast real teams are: the spread of page-to-cause times in public post-mortems.

The modelled engineer's every look takes a typical time × its runbook's ``pace``: the same
team every night. Real incidents were answered by teams of every speed, on good nights and
bad. A runbook whose profile says ``tempo: population`` draws, once per run, a factor on
every look and message — lognormal, with the median and spread that make the experienced
runbook's page-to-cause times over the unsourced library match those of the public
incidents in ``benchmarks/data/response-times.csv`` (docs/people.md). The fit is
``benchmarks/people.py``; its result is ``people.json`` beside this module.

No incident that a scenario is calibrated against is in that dataset, nor any reserved one.
"""

from __future__ import annotations

import json
import math
import random
from functools import cache
from pathlib import Path
from typing import Any

FITTED = Path(__file__).with_name("people.json")


@cache
def fitted() -> dict[str, Any]:
    """The fit as ``benchmarks/people.py --write`` stored it."""
    data: dict[str, Any] = json.loads(FITTED.read_text(encoding="utf-8"))
    return data


EVIDENCE = ("plain", "opaque")


def tempo(evidence: str = "opaque") -> tuple[float, float]:
    """(median, sigma) of the per-run factor for a team whose first evidence was
    ``evidence`` (``plain``: an error said what is wrong; ``opaque``: symptoms):
    ``exp(N(ln median, sigma))``."""
    if evidence not in EVIDENCE:
        raise ValueError(f"evidence: expected one of {', '.join(EVIDENCE)}, got {evidence!r}")
    fit = fitted()["tempo"]
    return float(fit["median"][evidence]), float(fit["sigma"])


def draw(rng: random.Random, evidence: str = "opaque") -> float:
    """One team's factor on every look and message, for one run (one normal deviate from
    ``rng`` whatever the evidence: the same seed is the same team, quick or slow)."""
    median, sigma = tempo(evidence)
    return math.exp(math.log(median) + sigma * rng.gauss(0.0, 1.0))


__all__ = ["EVIDENCE", "FITTED", "draw", "fitted", "tempo"]
