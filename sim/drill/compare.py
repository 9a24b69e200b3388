"""What a drill is compared with: the same scenario and seed, answered by others.

Three runs, started in worker processes once the page has come, so they are ready when the
drill ends:
nobody responding (the "none" counterfactual), the oracle and the ``experienced`` responder.
The drill's journal carries the none and oracle counterfactuals exactly as ``chaosdrill run``
writes them; the experienced and oracle runs are scored with those same counterfactuals, so
the three scores in the comparison table are computed alike.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from sim.journal import Journal
from sim.scenario import Scenario

OTHERS = ("experienced", "oracle")
HEAVY = ("metrics", "logs", "timeline", "failed_sessions_sample", "complaints")


def _quiet() -> None:
    """Workers leave Ctrl-C to the drill (it asks before ending, and needs their results)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _none(document: Mapping[str, Any], seed: int, until: float) -> dict[str, Any]:
    from sim.runner import counterfactual

    return counterfactual(document, seed, until, True, "none")


def _other(document: Mapping[str, Any], seed: int, until: float, name: str) -> dict[str, Any]:
    """A full run by responder ``name``, without the bulky telemetry (scoring does not read it)."""
    from sim.runner import run

    scenario = Scenario.model_validate(document)
    data = run(scenario, seed, horizon=until, responder=name).data
    return {k: v for k, v in data.items() if k not in HEAVY}


def oracle_counterfactual(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The oracle's entry of a journal's ``counterfactuals``, from the oracle's own journal
    (the figures :func:`sim.runner.counterfactual` returns)."""
    s, r = doc["summary"], doc["response"]
    return {
        "responder": "oracle",
        "seed": doc["seed"],
        "mitigated_at": r["mitigated_at"],
        "resolved_at": r["resolved_at"],
        "errors_stopped": s["errors_stopped"],
        "lost_revenue": s["lost_revenue"],
        "failed_checkouts": s["failed_checkouts"],
        "failed_requests": s["failed_requests"],
    }


class Comparisons:
    """The comparison runs of one drill: started early, collected at the end."""

    def __init__(self, scenario: Scenario, seed: int, horizon: float) -> None:
        self.document = scenario.model_dump(mode="json", by_alias=True)
        self.seed = seed
        self.horizon = horizon
        self.pool: ProcessPoolExecutor | None = None
        self.pending: dict[str, Future[dict[str, Any]]] = {}
        self.done: dict[str, dict[str, Any]] = {}

    def start(self) -> Comparisons:
        """Start the three runs in worker processes (or later, in this one, if that fails).

        On a machine with four CPUs or more, one is left to the drill itself.
        """
        if self.pool is not None or self.done:
            return self
        workers = min(3, max(2, (os.cpu_count() or 2) - 1))
        try:
            self.pool = ProcessPoolExecutor(max_workers=workers, initializer=_quiet)
            args = (self.document, self.seed, self.horizon)
            self.pending["none"] = self.pool.submit(_none, *args)
            for name in OTHERS:
                self.pending[name] = self.pool.submit(_other, *args, name)
        except (OSError, RuntimeError):
            self.close()
        return self

    def _get(self, name: str) -> dict[str, Any]:
        if name not in self.done:
            future = self.pending.pop(name, None)
            result = None
            if future is not None:
                try:
                    result = future.result()
                except Exception:  # a broken pool: compute it here instead
                    result = None
            if result is None:
                args = (self.document, self.seed, self.horizon)
                result = _none(*args) if name == "none" else _other(*args, name)
            self.done[name] = result
        return self.done[name]

    def results(self) -> tuple[dict[str, Any], dict[str, Journal]]:
        """``(counterfactuals for the drill's journal, {responder: scored journal})``."""
        oracle = self._get("oracle")
        counterfactuals = {"none": self._get("none"), "oracle": oracle_counterfactual(oracle)}
        journals = {
            name: Journal({**self._get(name), "counterfactuals": counterfactuals})
            for name in OTHERS
        }
        self.close()
        return counterfactuals, journals

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None


__all__ = ["OTHERS", "Comparisons", "oracle_counterfactual"]
