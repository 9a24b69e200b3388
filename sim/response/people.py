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


def tempo() -> tuple[float, float]:
    """(median, sigma) of the per-run factor: ``exp(N(ln median, sigma))``."""
    fit = fitted()["tempo"]
    return float(fit["median"]), float(fit["sigma"])


def draw(rng: random.Random) -> float:
    """One team's factor on every look and message, for one run."""
    median, sigma = tempo()
    return math.exp(rng.gauss(math.log(median), sigma))


__all__ = ["FITTED", "draw", "fitted", "tempo"]
