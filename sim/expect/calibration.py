"""Calibration: a scenario modelled on a public incident, run over many seeds, against the
milestones its ``source:`` block publishes (docs/incidents.md).

A milestone passes when the published time lies inside the simulated 10–90 % band and the
simulated median is within ×/÷ :data:`MEDIAN_FACTOR` of it. Only milestones the world decided
count: one that a fault's ``duration`` or an action timed by a constant (a ``remedies:``
figure, a default action time) brought about in most runs — the action taking a tenth of
the milestone's time or more — is shown, and marked, but does not count: calibrating
against a typed-in number would only repeat it. The same holds for the paging chain: a
detection or an acknowledgement that the chain's configured delays (the paging rule's
``for``, the group wait, the rotation's acknowledgement delay) make a tenth or more of is
the shop's alerting configuration, which no post-mortem here publishes, and is not counted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.journal import Journal
    from sim.scenario.schema import Scenario

MEDIAN_FACTOR = 1.5
BAND = (0.1, 0.9)
DEFAULT_SEEDS = 30
DEFAULT_RESPONDER = "experienced"
# Milestones whose time comes from what ended the faults (the others come from signals and
# the responder's pace, which no remedy constant sets).
ENDED_BY_REMEDIES = ("mitigation", "resolution")
# A constant-timed action that took at least this share of a milestone's time set it.
CONSTANT_SHARE = 0.1
Progress = Callable[[int, int], None]


def quantile(values: Sequence[float | None], q: float) -> float | None:
    """The ``q`` quantile of ``values`` (linear interpolation); ``None`` is a run that never
    got there, later than any that did — so a quantile among them is ``None`` (a band can be
    open-ended), and so is that of no values."""
    n = len(values)
    if n == 0:
        return None
    reached = sorted(v for v in values if v is not None)
    ordered: list[float | None] = [*reached, *[None] * (n - len(reached))]
    if n == 1:
        return ordered[0]
    pos = q * (n - 1)
    lo, hi = int(pos), min(int(pos) + 1, n - 1)
    a, b = ordered[lo], ordered[hi]
    if a is None or b is None:
        return None
    return a + (b - a) * (pos - lo)


@dataclass(frozen=True)
class Check:
    """One published milestone against its simulated times (seconds since impact)."""

    milestone: str
    real: float
    simulated: tuple[float | None, ...]  # one per seed; None: not reached within the horizon
    constant_runs: int  # runs in which a constant brought this milestone about

    @property
    def reached(self) -> list[float]:
        return sorted(t for t in self.simulated if t is not None)

    @property
    def counted(self) -> bool:
        """Whether the world decided it (in most runs no constant did)."""
        return self.constant_runs * 2 <= len(self.simulated)

    def quantile(self, q: float) -> float | None:
        """The ``q`` quantile of the simulated times (see :func:`quantile`)."""
        return quantile(self.simulated, q)

    @property
    def median(self) -> float | None:
        return self.quantile(0.5)

    @property
    def ratio(self) -> float | None:
        """Simulated median ÷ real (None when the median run never got there)."""
        m = self.median
        if m is None:
            return None
        return m / self.real if self.real > 0 else (1.0 if m == 0 else float("inf"))

    @property
    def in_band(self) -> bool:
        lo, hi = self.quantile(BAND[0]), self.quantile(BAND[1])
        return lo is not None and lo <= self.real and (hi is None or self.real <= hi)

    @property
    def passed(self) -> bool:
        r = self.ratio
        return r is not None and self.in_band and 1 / MEDIAN_FACTOR <= r <= MEDIAN_FACTOR

    def verdict(self) -> str:
        if not self.counted:
            return "not counted (set by a constant)"
        return "pass" if self.passed else "FAIL"


@dataclass(frozen=True)
class Calibration:
    """A scenario's published milestones against its runs."""

    scenario: str
    company: str
    date: str
    url: str
    responder: str
    seeds: tuple[int, ...]
    checks: tuple[Check, ...]

    @property
    def counted(self) -> list[Check]:
        return [c for c in self.checks if c.counted]

    @property
    def passed(self) -> bool:
        """Every counted milestone passes (and there is at least one)."""
        return bool(self.counted) and all(c.passed for c in self.counted)

    def rows(self) -> list[dict[str, Any]]:
        """One flat row per milestone (minutes), for a table."""
        out = []
        for c in self.checks:
            out.append(
                {
                    "scenario": self.scenario,
                    "incident": f"{self.company} {self.date}",
                    "milestone": c.milestone,
                    "real_min": round(c.real / 60, 1),
                    "p10_min": _minutes(c.quantile(BAND[0])),
                    "median_min": _minutes(c.median),
                    "p90_min": _minutes(c.quantile(BAND[1])),
                    "ratio": None if c.ratio is None else round(c.ratio, 2),
                    "reached": f"{len(c.reached)}/{len(c.simulated)}",
                    "verdict": c.verdict(),
                }
            )
        return out


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def constant_ended(
    journal: Journal | Mapping[str, Any], at: float, impact: float | None = None
) -> bool:
    """Whether a fault that ended by ``at`` was ended by its own ``duration`` or by an action
    whose length a constant set (``decided_by: constant``). With ``impact`` (when the
    milestone's clock started), such an action counts only if it took at least
    :data:`CONSTANT_SHARE` of the milestone's time: a flag's 30 s propagation does not set a
    27-minute mitigation — the responder's pace before it does — but a 6-minute rollback in
    a 20-minute one does."""
    doc = journal.data if hasattr(journal, "data") else journal
    events = doc.get("timeline") or []
    started: dict[tuple[str, str], float] = {}
    constant_actions: dict[tuple[str, str], float] = {}  # → how long it ran
    for e in events:
        if e["kind"] == "action.start":
            started[(e["action"], e["target"])] = e["t"]
        elif e["kind"] == "action.end" and e.get("decided_by") == "constant" and e.get("remedied"):
            key = (e["action"], e["target"])
            constant_actions[key] = e["t"] - started.get(key, e["t"])
    for e in events:
        if e["kind"] != "fault.end" or e["t"] > at:
            continue
        cause = str(e.get("cause", ""))
        if cause == "expired":
            return True
        if cause.startswith("remedied by "):
            action, _, target = cause.removeprefix("remedied by ").partition(" ")
            took = constant_actions.get((action, target))
            if took is not None and (impact is None or took >= CONSTANT_SHARE * (at - impact)):
                return True
    return False


def paging_delays(journal: Journal | Mapping[str, Any], scenario: Scenario) -> dict[str, float]:
    """The configured delays inside this run's detection and acknowledgement (seconds), when
    a page from an alert detected it: the rule that opened the page held its ``for``, the
    page waited its group wait, and the acknowledgement the rotation's drawn delay on top.
    Empty when something else detected it (customers, the log watcher)."""
    from sim.telemetry.monitors import monitor_rules

    doc = journal.data if hasattr(journal, "data") else journal
    detection = doc.get("detection") or {}
    if detection.get("channel") != "alert":
        return {}
    incident = next(
        (i for i in doc["paging"]["incidents"] if i["id"] == detection.get("via")), None
    )
    if incident is None or incident["paged_at"] is None or not incident["alerts"]:
        return {}
    first: Mapping[str, Any] = next(
        (a for a in doc.get("alerts", []) if a["id"] == incident["alerts"][0]), {}
    )
    held = next((r.for_ for r in monitor_rules(scenario) if r.name == first.get("monitor")), 0.0)
    paged = held + incident["paged_at"] - incident["opened_at"]
    out = {"detection": paged}
    if incident["acknowledged_at"] is not None:
        out["acknowledgement"] = paged + incident["acknowledged_at"] - incident["paged_at"]
    return out


def milestones(
    journal: Journal | Mapping[str, Any], scenario: Scenario | None = None
) -> dict[str, tuple[float | None, bool]]:
    """Each phase's time since impact, and whether a constant brought it about. With
    ``scenario`` (the one the run was of), a detection or acknowledgement the paging
    chain's configured delays make :data:`CONSTANT_SHARE` of or more counts as set by a
    constant too (:func:`paging_delays`)."""
    from sim.scoring.phases import phases

    delays = {} if scenario is None else paging_delays(journal, scenario)
    out: dict[str, tuple[float | None, bool]] = {}
    for name, phase in phases(journal).items():
        impact = (
            None
            if phase.at is None or phase.since_impact is None
            else phase.at - phase.since_impact
        )
        constant = (
            phase.at is not None
            and name in ENDED_BY_REMEDIES
            and constant_ended(journal, phase.at, impact)
        )
        if name in delays and phase.since_impact is not None:
            constant = delays[name] >= CONSTANT_SHARE * phase.since_impact
        out[name] = (phase.since_impact, constant)
    return out


def with_profile(
    scenario: Scenario, responder: str = DEFAULT_RESPONDER, **profile: Any
) -> Scenario:
    """``scenario`` with its own copy of the built-in runbook ``responder`` whose profile has
    ``profile``'s fields changed (``pace=1.0``, ``tempo="population"``): a scenario's runbook
    of a built-in's name is the one its runs use."""
    from sim.response.catalogue import builtin_runbook

    book = builtin_runbook(responder)
    book = book.model_copy(update={"profile": book.profile.model_copy(update=profile)})
    return scenario.model_copy(update={"runbooks": {**scenario.runbooks, responder: book}})


def horizon(scenario: Scenario) -> float:
    """How long calibration runs ``scenario``: its own horizon (a drill's shift), unless a
    published milestone lies past it — then until an hour after that milestone, counted from
    the latest fault's start, so that a run can get as far as the real incident did."""
    source = scenario.source
    latest = max(source.milestones.values(), default=0.0) if source is not None else 0.0
    at = {c.id: c.at for c in scenario.changes}
    starts = [
        f.start if f.start is not None else at.get(f.cause or "", 0.0) for f in scenario.faults
    ]
    onset = max([0.0, *starts])
    if onset + latest <= scenario.horizon:
        return float(scenario.horizon)
    return onset + latest + 3600.0


def _run(document: str, seed: int, responder: str) -> dict[str, tuple[float | None, bool]]:
    from sim.runner import run
    from sim.scenario.schema import Scenario

    scenario = Scenario.model_validate(json.loads(document))
    journal = run(scenario, seed, horizon=horizon(scenario), responder=responder, compact=True)
    return milestones(journal, scenario)


def calibrate(
    scenario: Scenario,
    seeds: Iterable[int] | int = DEFAULT_SEEDS,
    *,
    responder: str = DEFAULT_RESPONDER,
    tempo: str | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> Calibration:
    """Run ``scenario`` over ``seeds`` (an int N: seeds 1..N) with ``responder`` and compare
    each milestone of its ``source:`` block. ``tempo``: ``"population"`` draws each run's
    team from real teams' spread (docs/people.md), ``"fixed"`` runs the same engineer every
    night, ``None`` (default) leaves the runbook's profile as it is. ``workers``: processes
    (default: one per core; 1 runs here)."""
    source = scenario.source
    if source is None or not source.milestones:
        raise ValueError(
            f"{scenario.name} has no source: block with milestones to calibrate against "
            "(docs/incidents.md)"
        )
    seed_list = tuple(range(1, seeds + 1)) if isinstance(seeds, int) else tuple(seeds)
    if not seed_list:
        raise ValueError("expected at least one seed")
    if tempo is not None:
        scenario = with_profile(scenario, responder, tempo=tempo)
    document = scenario.model_dump_json(by_alias=True)
    results: dict[int, dict[str, tuple[float | None, bool]]] = {}

    def done(seed: int, result: dict[str, tuple[float | None, bool]]) -> None:
        results[seed] = result
        if progress is not None:
            progress(len(results), len(seed_list))

    if progress is not None:
        progress(0, len(seed_list))
    from sim.runner import run_jobs

    n = workers if workers is not None else (os.cpu_count() or 1)
    jobs = [(document, seed, responder) for seed in seed_list]
    run_jobs(_run, jobs, n, lambda i, r: done(seed_list[i], r))
    checks = []
    for name, real in source.milestones.items():
        per_seed = [results[s][name] for s in seed_list]
        checks.append(
            Check(
                milestone=name,
                real=float(real),
                simulated=tuple(t for t, _ in per_seed),
                constant_runs=sum(constant for _, constant in per_seed),
            )
        )
    return Calibration(
        scenario=scenario.name,
        company=source.company,
        date=source.date.isoformat(),
        url=source.url,
        responder=responder,
        seeds=seed_list,
        checks=tuple(checks),
    )


__all__ = [
    "BAND",
    "DEFAULT_SEEDS",
    "MEDIAN_FACTOR",
    "Calibration",
    "Check",
    "calibrate",
    "constant_ended",
    "horizon",
    "milestones",
    "quantile",
    "with_profile",
]
