"""How hard a scenario is, from properties one can measure (docs/library.md#difficulty).

Two kinds of property. Some are read from the scenario: how many red herrings it has. The
rest are measured on runs — the ``experienced`` responder, the ``oracle`` and
``changes-first`` (who rolls back the latest change first: the obvious move) over a few
seeds:

- how long the experienced engineer takes to mitigate, and how often it never resolves;
- how much longer than the oracle it takes: what finding the cause costs;
- how many actions on systems the oracle's fix needs;
- whether the obvious move is wrong: changes-first's first action remedies nothing, or
  harms;
- the signal-to-noise of what on-call sees: the share of warning and error log lines that
  come from a broken component or name one, and of the alerts that fire on one (or on an
  endpoint that calls one, or on the whole shop). A scenario in which nothing breaks — a
  surge, a link filling up — has no broken component: nothing in its logs names the cause.

Each property earns up to its weight in points (:data:`WEIGHTS`, 100 in all); the level is
``easy`` under 35 points, ``hard`` from 50. Measuring takes minutes, so the figures of the
shipped catalogue are stored in ``scenarios/difficulty.json`` with each scenario's hash
(``benchmarks/difficulty.py --write`` renews them); a scenario whose hash is not there — a
team's own, or one changed since — is *unmeasured*.
"""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sim.model.topology import Topology
from sim.scenario.schema import Scenario

SEEDS = (1, 2, 3)
ENGINE = "request"
RESPONDERS = ("experienced", "oracle", "changes-first")
FORMAT = "chaosdrill.difficulty/1"
FILE = "difficulty.json"  # next to the catalogue's scenarios
# Points per property (100 in all), and what earns all of them.
WEIGHTS: dict[str, float] = {
    "time": 20.0,  # the experienced engineer's median minutes to mitigation, all at 60
    "diagnosis": 15.0,  # its median minutes more than the oracle's, all at 30
    "unresolved": 10.0,  # the share of seeds it never resolves
    "fix": 15.0,  # the oracle's actions on systems beyond the first, all at 3 more
    "obvious": 10.0,  # the obvious move (roll back the latest change) is wrong
    "herrings": 15.0,  # red herrings, all at 3
    "log_noise": 10.0,  # the share of warning and error lines that name nothing broken
    "alert_noise": 5.0,  # the share of alerts on what is not broken
}
LEVELS = (("easy", 0.0), ("medium", 35.0), ("hard", 50.0))  # about a third of the catalogue each
NO_PAGE = "no page"  # the level of a scenario that pages nobody in any measured run


@dataclass(frozen=True)
class Measured:
    """What the runs showed (medians over the seeds)."""

    experienced_minutes: float  # to mitigation; a run never mitigated counts as the horizon
    oracle_minutes: float
    unresolved: float  # share of the paged seeds the experienced engineer never resolved
    fix_actions: float  # the oracle's actions on systems
    obvious_wrong: bool
    log_signal: float  # share of warning and error log lines from broken components
    alert_signal: float  # share of alerts on broken components (or what calls them)
    # share of seeds in which anyone was paged: 0 is a shift without a page (a resilience
    # check such as one-bad-host, where the passive checks keep shoppers safe), not a drill
    paged: float
    # share of the paged seeds the oracle never resolved (not a point: a check of the scenario,
    # which a responder that knows the fault must be able to end)
    oracle_unresolved: float


@dataclass(frozen=True)
class Difficulty:
    """A scenario's difficulty: points per property, their sum and its level."""

    scenario: str
    points: dict[str, float]
    measured: Measured | None

    @property
    def score(self) -> int:
        """The points, summed and rounded (the level is the rounded sum's)."""
        return round(sum(self.points.values()))

    @property
    def level(self) -> str:
        if self.measured is None:
            return "unmeasured"
        if self.measured.paged == 0:
            return NO_PAGE
        return [name for name, low in LEVELS if self.score >= low][-1]

    @property
    def is_drill(self) -> bool:
        """Whether someone gets paged (or it is unmeasured, and might)."""
        return self.level != NO_PAGE

    def label(self) -> str:
        level = self.level
        return level if level in ("unmeasured", NO_PAGE) else f"{level} {self.score}"


def difficulty(scenario: Scenario, measured: Measured | None) -> Difficulty:
    """Points per property: the scenario's own, and those of ``measured`` runs if any."""
    points = {"herrings": WEIGHTS["herrings"] * min(1.0, len(_herrings(scenario)) / 3)}
    if measured is not None:
        m = measured
        gap = max(0.0, m.experienced_minutes - m.oracle_minutes)
        points |= {
            "time": WEIGHTS["time"] * min(1.0, m.experienced_minutes / 60),
            "diagnosis": WEIGHTS["diagnosis"] * min(1.0, gap / 30),
            "unresolved": WEIGHTS["unresolved"] * m.unresolved,
            "fix": WEIGHTS["fix"] * min(1.0, max(0.0, m.fix_actions - 1) / 3),
            "obvious": WEIGHTS["obvious"] * m.obvious_wrong,
            "log_noise": WEIGHTS["log_noise"] * (1 - m.log_signal),
            "alert_noise": WEIGHTS["alert_noise"] * (1 - m.alert_signal),
        }
    return Difficulty(scenario.name, {k: round(v, 1) for k, v in points.items()}, measured)


def _herrings(scenario: Scenario) -> tuple[Any, ...]:
    herrings = scenario.red_herrings
    return tuple(herrings.items) if herrings.enabled else ()


# --- measuring -------------------------------------------------------------------------------


def _run(document: str, seed: int, responder: str) -> dict[str, Any]:
    """One run, reduced to what difficulty needs (in a worker process)."""
    from sim.runner import run
    from sim.scoring.phases import phases

    scenario = Scenario.model_validate(json.loads(document))
    journal = run(scenario, seed, responder=responder, compact=True, engine=ENGINE)
    data = journal.data
    found = phases(journal)
    broken = {
        c for e in data["timeline"] if e["kind"] == "fault.start" for c in e.get("components", ())
    }
    acts = [s for s in data["response"]["steps"] if s["kind"] == "act"]
    lines = [s for s in data["logs"]["signatures"] if s["level"] in ("WARN", "ERROR")]
    topology = Topology(scenario)
    callers = {
        endpoint
        for component in broken
        for radius in (topology.blast_radius(component),)
        for endpoint in (*radius.failing_endpoints, *radius.degraded_endpoints)
    }
    alerts = data["alerts"]
    mitigated = found["mitigation"].since_impact
    return {
        "minutes": (scenario.horizon if mitigated is None else mitigated) / 60,
        "paged": bool(data["paging"]["incidents"]),
        "resolved": found["resolution"].status == "ok",
        "acts": len(acts),
        "first_act_wrong": bool(acts) and (not acts[0]["remedied"] or acts[0]["harmful"]),
        "log_signal": _share(
            sum(s["count"] for s in lines if _points_at(s, broken)),
            sum(s["count"] for s in lines),
        ),
        "alert_signal": _share(
            sum(1 for a in alerts if a["target"] in broken | callers | {"shop"}), len(alerts)
        ),
    }


def _points_at(signature: Mapping[str, Any], broken: set[str]) -> bool:
    """A log line is signal when a broken component wrote it or it names one ("call to db
    failed", "upstream=web")."""
    if signature["component"] in broken:
        return True
    text = str(signature["signature"])
    return any(re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) for name in broken)


def _share(part: float, whole: float) -> float:
    return 1.0 if whole == 0 else part / whole


def _runs(
    scenario: Scenario,
    seeds: Sequence[int],
    responders: Sequence[str],
    workers: int,
    progress: Callable[[int, int], None] | None,
) -> dict[tuple[int, str], dict[str, Any]]:
    """:func:`_run` for every seed and responder, by ``(seed, responder)``; ``workers``:
    processes (1 runs here)."""
    from sim.runner import run_jobs

    document = scenario.model_dump_json(by_alias=True)
    jobs = [(seed, responder) for responder in responders for seed in seeds]
    results: dict[tuple[int, str], dict[str, Any]] = {}

    def done(i: int, result: dict[str, Any]) -> None:
        results[jobs[i]] = result
        if progress is not None:
            progress(len(results), len(jobs))

    run_jobs(_run, [(document, *job) for job in jobs], workers, done)
    return results


def measure(
    scenario: Scenario,
    seeds: Iterable[int] = SEEDS,
    *,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> Measured:
    """Run ``scenario`` with each of :data:`RESPONDERS` over ``seeds`` and measure it.
    ``workers``: processes (1 runs here)."""
    seeds = list(seeds)
    results = _runs(scenario, seeds, RESPONDERS, workers, progress)

    def of(responder: str, key: str) -> list[Any]:
        return [results[(seed, responder)][key] for seed in seeds]

    paged = [seed for seed in seeds if results[(seed, "experienced")]["paged"]]

    def unresolved(responder: str) -> float:
        resolved = [results[(seed, responder)]["resolved"] for seed in paged]
        return round(1 - statistics.mean(resolved), 3) if resolved else 0.0

    return Measured(
        experienced_minutes=round(statistics.median(of("experienced", "minutes")), 2),
        oracle_minutes=round(statistics.median(of("oracle", "minutes")), 2),
        unresolved=unresolved("experienced"),
        fix_actions=statistics.median(of("oracle", "acts")),
        obvious_wrong=statistics.mean(of("changes-first", "first_act_wrong")) > 0.5,
        log_signal=round(statistics.median(of("experienced", "log_signal")), 3),
        alert_signal=round(statistics.median(of("experienced", "alert_signal")), 3),
        paged=round(len(paged) / len(of("experienced", "paged")), 3),
        oracle_unresolved=unresolved("oracle"),
    )


@dataclass(frozen=True)
class Resolution:
    """How often each responder resolved a scenario within its horizon, over the seeds in
    which the ``experienced`` responder was paged (a seed that pages nobody is no incident)."""

    scenario: str
    seeds: int
    paged: int
    resolved: Mapping[str, int]  # responder → paged seeds it resolved

    def share(self, responder: str) -> float | None:
        """The share resolved (None when nobody was paged in any seed)."""
        return self.resolved[responder] / self.paged if self.paged else None


def resolution(
    scenario: Scenario,
    seeds: Iterable[int],
    responders: Sequence[str] = ("experienced", "oracle"),
    *,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> Resolution:
    """Run ``scenario`` with each of ``responders`` (the first decides which seeds paged
    somebody) over ``seeds`` on the request engine and count the resolved runs."""
    seeds = list(seeds)
    results = _runs(scenario, seeds, responders, workers, progress)
    paged = [seed for seed in seeds if results[(seed, responders[0])]["paged"]]
    return Resolution(
        scenario.name,
        len(seeds),
        len(paged),
        {r: sum(results[(seed, r)]["resolved"] for seed in paged) for r in responders},
    )


# --- the stored figures ----------------------------------------------------------------------


def stored(folder: Path) -> dict[str, dict[str, Any]]:
    """The measurements stored in ``folder``'s ``difficulty.json`` by scenario name (empty
    if there is none)."""
    path = folder / FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return {}
    scenarios = data.get("scenarios")
    return scenarios if isinstance(scenarios, dict) else {}


def lookup(scenario: Scenario, table: Mapping[str, Mapping[str, Any]]) -> Measured | None:
    """The stored measurement of ``scenario``, if it is of this very scenario (its hash)."""
    from sim.runner import scenario_hash

    entry = table.get(scenario.name)
    if not entry or entry.get("hash") != scenario_hash(scenario):
        return None
    try:
        return Measured(**entry["measured"])
    except (KeyError, TypeError):
        return None


def of_scenarios(scenarios: Iterable[tuple[Path, Scenario]]) -> dict[Path, Difficulty]:
    """The difficulty of each ``(file, scenario)``, measured where the file's folder's
    ``difficulty.json`` holds the scenario's hash (each folder's file read once)."""
    tables: dict[Path, dict[str, dict[str, Any]]] = {}
    found: dict[Path, Difficulty] = {}
    for path, scenario in scenarios:
        if path.parent not in tables:
            tables[path.parent] = stored(path.parent)
        found[path] = difficulty(scenario, lookup(scenario, tables[path.parent]))
    return found


def at_level(paths: Iterable[Path], level: str) -> list[Path]:
    """The valid scenario files among ``paths`` measured at ``level``, in order."""
    return [path for path, found in of_scenarios(_valid(paths)).items() if found.level == level]


def _valid(paths: Iterable[Path]) -> Iterator[tuple[Path, Scenario]]:
    """``(file, scenario)`` for each file that loads (one that does not is left out)."""
    from sim.scenario import ScenarioError, load

    for path in paths:
        try:
            yield path, load(path).scenario
        except ScenarioError:
            continue


def drills(paths: Iterable[Path]) -> list[Path]:
    """The valid scenario files among ``paths`` that are drills: someone gets paged in them
    (or they are unmeasured, and might), in order."""
    return [path for path, found in of_scenarios(_valid(paths)).items() if found.is_drill]


def entry(scenario: Scenario, measured: Measured) -> dict[str, Any]:
    """A scenario's record in ``difficulty.json``."""
    from sim.runner import scenario_hash

    return {"hash": scenario_hash(scenario), "measured": asdict(measured)}


def document(entries: Mapping[str, Mapping[str, Any]], commit: str) -> str:
    """The text of ``difficulty.json``."""
    body = {
        "format": FORMAT,
        "commit": commit,
        "seeds": list(SEEDS),
        "engine": ENGINE,
        "responders": list(RESPONDERS),
        "scenarios": dict(sorted(entries.items())),
    }
    return json.dumps(body, indent=1, ensure_ascii=False) + "\n"


__all__ = [
    "ENGINE",
    "FILE",
    "LEVELS",
    "RESPONDERS",
    "SEEDS",
    "WEIGHTS",
    "Difficulty",
    "Measured",
    "Resolution",
    "at_level",
    "difficulty",
    "document",
    "entry",
    "lookup",
    "measure",
    "of_scenarios",
    "resolution",
    "stored",
]
