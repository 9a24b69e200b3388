"""How the responder behaved: red herrings chased, wrong and harmful actions, communication."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.response.outcomes import HORIZON_REACHED
from sim.scoring._journal import (
    JournalLike,
    document,
    optional_float,
    response,
    step_index,
    steps,
    summary,
)
from sim.scoring.phases import declarations

# What the communication delays count from: the first of these the run has.
SINCE = (
    ("acknowledged_at", "acknowledgement"),
    ("detected_at", "detection"),
    ("errors_started", "impact"),
)
SINCE_WORDS = {
    "acknowledgement": "after the acknowledgement",
    "detection": "after the detection",
    "impact": "after the impact began",
}


def since_words(record: Mapping[str, Any]) -> str:
    """How a communication delay of ``record`` (a conduct dict) reads: "after the
    acknowledgement" — not "after the page", which it is not when the page waited."""
    return SINCE_WORDS[record.get("since") or "acknowledgement"]


def conduct(journal: JournalLike) -> dict[str, Any]:
    """The responder's conduct, counted from the response steps.

    - ``herring_seconds``: time spent on steps that chased a red herring (``end - t``);
    - ``herrings``: the red-herring ids chased, sorted, each once;
    - ``wrong_actions``: indices of "act" steps that remedied no fault and were not harmful
      (an action the horizon cut short is not judged);
    - ``harmful_actions``: indices of steps flagged harmful (counted once, never also as wrong);
    - ``notify_delay`` / ``stakeholder_delay``: first user notification / stakeholder update
      minus acknowledgement (detection if never acknowledged, impact start if neither);
      ``None`` when it never happened; ``since`` says which of the three
      (``acknowledgement``, ``detection``, ``impact``; ``None`` without any);
    - ``premature_resolutions``: "resolved" declarations made while a fault was still active;
    - ``hints_used``: hints a drill trainee asked for (``response.hints_used``; 0 elsewhere).
    """
    doc = document(journal)
    summ = summary(doc)
    resp = response(doc)
    herring_seconds = 0.0
    herrings: set[str] = set()
    wrong: list[int] = []
    harmful: list[int] = []
    for position, step in enumerate(steps(doc)):
        index = step_index(step, position)
        if step.get("herring") is not None:
            herring_seconds += float(step["end"]) - float(step["t"])
            herrings.add(str(step["herring"]))
        if step.get("harmful"):
            harmful.append(index)
        elif (
            step.get("kind") == "act"
            and not step.get("remedied")
            and step.get("evidence") != HORIZON_REACHED  # cut short: it may yet have helped
        ):
            wrong.append(index)
    since, reference = next(
        ((moment, float(summ[key])) for key, moment in SINCE if summ.get(key) is not None),
        (None, None),
    )

    def delay(key: str) -> float | None:
        at = optional_float(resp.get(key))
        return None if at is None or reference is None else round(at - reference, 6)

    return {
        "herring_seconds": round(herring_seconds, 6),
        "herrings": sorted(herrings),
        "wrong_actions": wrong,
        "harmful_actions": harmful,
        "notify_delay": delay("notified_at"),
        "stakeholder_delay": delay("stakeholders_at"),
        "since": since,
        "premature_resolutions": len(declarations(doc).premature),
        "hints_used": int(resp.get("hints_used") or 0),
    }
