"""How fast real teams are: the modelled engineer's per-run tempo, fitted to public post-mortems.

    python benchmarks/people.py [--seeds N] [--workers N] [--write]

1. Reads ``benchmarks/data/response-times.csv``: for public incidents — none that a scenario
   is calibrated against, none of the reserved ones — the published minutes from impact to
   detection, diagnosis and mitigation. *Page to cause* is diagnosis − detection, *page to
   mitigation* mitigation − detection. The fit takes the incidents collected without
   regard to what their teams saw first (not the plain-evidence sample, ``source_file``
   ``plain-*``, which was collected for it) **whose teams saw symptoms** (``evidence``
   ``opaque``), and compares them with the runs whose teams saw symptoms: the public
   incidents and the library mix the two kinds very differently (2 plain of 37 against a
   third of the runs), and a team that is told what is wrong is not searching.
2. Runs the experienced runbook at its fixed tempo over the catalogue's scenarios that have
   no ``source:`` block (seeds 1..N) and reads, per run, page → acknowledgement,
   acknowledgement → cause and what the team saw first.
3. Fits the median and spread of a lognormal factor T on every look, once per run, so that
   ``ack + T × (ack → cause)`` over those runs has the dataset's median and 90 % page to cause
   (least squares of the logs, on common random numbers). Not its 10 %: the quickest tenth of
   the public incidents (0–3 min) are those whose operator caused them and saw it at once —
   a cause in front of the engineer, which the runs model already (the change log), not a
   faster team.
   That is a first estimate: the runs are not linear in T (a slow team meets more of the
   incident's evolution, and the horizon), so the median is then refined on the runs
   themselves — the library at drawn tempos, a secant on the logs — until the median page
   to cause of its runs that saw symptoms is within 5 % of the dataset's (at most 6 tries; a
   try whose median is past the horizon halves the median of T).
4. Checks the fit: the last of those tries, with T drawn per run, prints page to cause for
   the runs that saw symptoms (what was fitted), for those told what was wrong and for all
   (what was not), and page to mitigation (not fitted), against the dataset. A run that
   never got there within its horizon counts as later than any that did (so a quantile can
   be "—", beyond the horizon), as in calibration.

``--write`` stores the fit, the figures it came from and the check in
``sim/response/people.json``, which ``tempo: population`` draws from (docs/people.md).
Exit status 0, 1 on bad input.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data" / "response-times.csv"
QS = (0.1, 0.5, 0.9)
ITERATIONS = 6  # tries of the median on the runs themselves
DRAWS = 64  # common random numbers per run for the fit
FLOOR = 0.5  # minutes: a zero (the operator saw the cause at once) is taken as half a minute
# What the responders saw first, per incident with a diagnosis time (docs/people.md): an error
# that said what was wrong, symptoms, the change its own operator saw go wrong, or not said.
# Blank: not classified (no page-to-cause time).
LABELS = ("plain", "opaque", "operator", "unknown", "")
KINDS = ("plain", "opaque")
FIT_ON = "opaque"  # the kind the tempo is fitted on; the others are checks

sys.path.insert(0, str(ROOT / "benchmarks"))

from calibration import commit  # noqa: E402


# -- the dataset ---------------------------------------------------------------------------
def read_dataset(path: Path = DATA) -> list[dict[str, Any]]:
    """The incidents, with minutes as floats (None where the text gives none).

    Raises ValueError naming the line and column of a value that is not a number."""
    rows = []
    with path.open(newline="", encoding="utf-8") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            for key in ("detect", "ack", "diagnosis", "mitigation", "resolution"):
                raw = (row.get(key) or "").strip()
                try:
                    row[key] = float(raw) if raw else None  # type: ignore[assignment]
                except ValueError:
                    raise ValueError(
                        f"{path.name}:{line}: {key}: expected minutes or nothing, got {raw!r}"
                    ) from None
            evidence = (row.get("evidence") or "").strip()
            if evidence not in LABELS:
                raise ValueError(
                    f"{path.name}:{line}: evidence: expected one of "
                    f"{', '.join(repr(x) for x in LABELS)}, got {evidence!r}"
                )
            row["evidence"] = evidence
            rows.append(row)
    return rows


def collected(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The incidents collected without regard to their evidence (the tempo's sample): not
    the plain-evidence sample, which was collected for its evidence."""
    return [r for r in rows if not str(r.get("source_file", "")).startswith("plain-")]


def of_kind(rows: Iterable[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The incidents whose first evidence was ``kind`` (``plain`` or ``opaque``)."""
    return [r for r in rows if r["evidence"] == kind]


def spans(rows: Iterable[dict[str, Any]], end: str) -> list[float]:
    """``end`` − detection, in minutes, for every incident that publishes both (≥ 0)."""
    return [
        max(0.0, r[end] - r["detect"])
        for r in rows
        if r["detect"] is not None and r[end] is not None
    ]


def quantiles(values: Iterable[float | None]) -> dict[str, Any]:
    """n, 10 %, median and 90 %, as calibration reads them (``None``: a run that never got
    there, later than any that did; a quantile among them is ``None``)."""
    from sim.expect.calibration import quantile

    v = list(values)
    out: dict[str, Any] = {"n": len(v)}
    for key, q in zip(("p10", "median", "p90"), QS, strict=True):
        x = quantile(v, q)
        out[key] = None if x is None else round(x, 1)
    return out


# -- runs ------------------------------------------------------------------------------------
def _run(document: str, seed: int, pace: float) -> dict[str, Any]:
    """Minutes since impact of each milestone of one experienced run at ``pace``."""
    from sim.expect.calibration import milestones, with_profile
    from sim.runner import run
    from sim.scenario.schema import Scenario

    scenario = with_profile(Scenario.model_validate(json.loads(document)), pace=pace)
    journal = run(scenario, seed, responder="experienced", compact=True)
    found = milestones(journal)
    out: dict[str, Any] = {k: (None if t is None else t / 60.0) for k, (t, _) in found.items()}
    out["evidence"] = journal.data["response"].get("evidence")
    return out


def library() -> list[Any]:
    """The catalogue's scenarios with no ``source:`` block (none calibrated against)."""
    import sim
    from sim.scenario.catalogue import entries

    every = [sim.load_scenario(path) for path in entries().values()]
    return [s for s in every if s.source is None]


def run_all(
    jobs: list[tuple[str, int, float]], workers: int, tick: Callable[[], None]
) -> list[dict[str, Any]]:
    """Each job's milestones, in the jobs' order, on ``workers`` processes."""
    from sim.runner import run_jobs

    out: list[dict[str, Any]] = [{} for _ in jobs]

    def done(i: int, result: dict[str, Any]) -> None:
        out[i] = result
        tick()

    run_jobs(_run, jobs, workers, done)
    return out


# -- the fit -----------------------------------------------------------------------------------
def fit(
    ack: np.ndarray, search: np.ndarray, target: dict[str, float]
) -> tuple[float, float, dict[str, float]]:
    """(median, sigma) of T minimising the squared log gaps between the median and 90 % of
    ``ack + T × search`` (minutes, one entry per run) and ``target``'s; and its quantiles."""
    z = np.random.default_rng(0).standard_normal((ack.size, DRAWS))
    goal = np.log(np.maximum([target["median"], target["p90"]], FLOOR))
    best: tuple[float, float, float] = (math.inf, 1.0, 0.0)
    for sigma in np.arange(0.0, 2.01, 0.02):
        for median in np.exp(np.linspace(math.log(0.25), math.log(40.0), 161)):
            t = median * np.exp(sigma * z)
            got = np.quantile(ack[:, None] + t * search[:, None], QS[1:])
            loss = float(np.sum((np.log(np.maximum(got, FLOOR)) - goal) ** 2))
            if loss < best[0]:
                best = (loss, float(median), float(sigma))
    _, median, sigma = best
    t = median * np.exp(sigma * z)
    got = quantiles((ack[:, None] + t * search[:, None]).ravel())
    return round(median, 3), round(sigma, 3), got


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=3, help="seeds 1..N per scenario (default 3)")
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    parser.add_argument(
        "--write", action="store_true", help="store the fit in sim/response/people.json"
    )
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error("--seeds: expected 1 or more")

    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from sim.atomic import write_text
    from sim.response.catalogue import builtin_runbook
    from sim.response.people import FITTED

    console = Console(stderr=True)
    try:
        every = read_dataset()
    except (OSError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 1
    rows = collected(every)
    data_cause = quantiles(spans(rows, "diagnosis"))
    data_fit = quantiles(spans(of_kind(rows, FIT_ON), "diagnosis"))
    # not fitted: what the teams saw first, and how long they took to name the cause after it
    data_by = {kind: quantiles(spans(of_kind(every, kind), "diagnosis")) for kind in KINDS}
    data_mitigation = quantiles(spans(rows, "mitigation"))

    pace = builtin_runbook("experienced").profile.pace
    scenarios = library()
    docs = {s.name: s.model_dump_json(by_alias=True) for s in scenarios}
    seeds = range(1, args.seeds + 1)
    started = time.perf_counter()
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("the library at a fixed tempo", total=len(docs) * args.seeds)
        fixed_jobs = [(docs[name], seed, pace) for name in docs for seed in seeds]
        fixed = run_all(fixed_jobs, args.workers, lambda: bar.advance(task))
    usable = [
        r
        for r in fixed
        if r.get("detection") is not None
        and r.get("acknowledgement") is not None
        and r.get("diagnosis") is not None
    ]
    searching = [r for r in usable if r["evidence"] == FIT_ON]
    if not searching:
        console.print(
            f"[red]error:[/red] no run of the library was paged on {FIT_ON} evidence and diagnosed"
        )
        return 1
    ack = np.array([r["acknowledgement"] - r["detection"] for r in searching])  # type: ignore[operator]
    search = np.array(
        [max(0.0, r["diagnosis"] - r["acknowledgement"]) for r in searching]  # type: ignore[operator]
    )
    median, sigma, fitted_cause = fit(ack, search, data_fit)

    # The runs are not linear in T (a slow team meets more of the incident's evolution and
    # the horizon), so the median is then refined on the runs themselves: the library again,
    # each run at a tempo drawn as tempo: population draws it (the same normal deviate for a
    # scenario and seed at every try), until the median page to cause of its runs that saw
    # symptoms is within 5 % of the dataset's — a secant on the logs, at most ITERATIONS tries.
    def drawn_runs(m: float) -> list[dict[str, Any]]:
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task(f"the library at drawn tempos (median × {m:.2f})", total=n_jobs)
            jobs = []
            for name in docs:
                for seed in seeds:
                    z = random.Random(f"{name}/{seed}").gauss(0.0, 1.0)
                    jobs.append((docs[name], seed, pace * m * math.exp(sigma * z)))
            return run_all(jobs, args.workers, lambda: bar.advance(task))

    def since_page(runs: list[dict[str, Any]], end: str) -> list[float | None]:
        out: list[float | None] = []
        for r in runs:
            t, page = r.get(end), r.get("detection")
            if page is not None:
                out.append(None if t is None else max(0.0, t - page))
        return out

    n_jobs = len(docs) * args.seeds
    goal = data_fit["median"]
    tries: list[tuple[float, float]] = []  # (ln median of T, ln median page to cause)
    attempts = 0
    while True:
        drawn = drawn_runs(median)
        attempts += 1
        got = quantiles(since_page(of_kind(drawn, FIT_ON), "diagnosis"))["median"]
        console.print(f"tempo median × {median:.3f}: page to cause median {got} min")
        if attempts >= ITERATIONS or (got is not None and abs(math.log(got / goal)) < 0.05):
            break
        if got is None:  # past the horizon for most runs: far too slow, halve it
            median = round(median / 2, 3)
            continue
        tries.append((math.log(median), math.log(got)))
        slope = 1.0
        if len(tries) >= 2:
            (x0, y0), (x1, y1) = tries[-2], tries[-1]
            if x1 != x0:
                slope = min(3.0, max(0.3, (y1 - y0) / (x1 - x0)))
        median = round(math.exp(tries[-1][0] + (math.log(goal) - tries[-1][1]) / slope), 3)

    paged_runs = [r for r in drawn if r.get("detection") is not None]
    check_cause = since_page(drawn, "diagnosis")
    check_mitigation = since_page(drawn, "mitigation")
    paged = len(paged_runs)
    fixed_cause = quantiles(r["diagnosis"] - r["detection"] for r in usable)  # type: ignore[operator]
    result = {
        "format": 1,
        "commit": commit(),
        "dataset": {
            "file": str(DATA.relative_to(ROOT)),
            "incidents": len(rows),
            "page_to_cause": data_cause,
            "fitted_on": FIT_ON,
            "page_to_mitigation": data_mitigation,
            "plain_evidence_sample": len(every) - len(rows),
            "page_to_cause_by_evidence": data_by,
        },
        "library": {
            "scenarios": len(docs),
            "seeds": args.seeds,
            "runs_used": len(searching),
            "runs_diagnosed": len(usable),
            "pace": pace,
            "page_to_cause_at_fixed_tempo": fixed_cause,
            "page_to_cause_at_fixed_tempo_by_evidence": {
                kind: quantiles(
                    r["diagnosis"] - r["detection"] for r in usable if r["evidence"] == kind
                )
                for kind in KINDS
            },
        },
        "tempo": {"median": median, "sigma": sigma, "tries": attempts},
        "check": {
            "paged_runs": paged,
            "page_to_cause": quantiles(check_cause) if check_cause else None,
            "page_to_mitigation": quantiles(check_mitigation) if check_mitigation else None,
            "never_diagnosed": sum(t is None for t in check_cause),
            "never_mitigated": sum(t is None for t in check_mitigation),
            "page_to_cause_by_evidence": {
                kind: quantiles(
                    since_page([r for r in drawn if r["evidence"] == kind], "diagnosis")
                )
                for kind in KINDS
            },
        },
    }

    table = Table(title="page to cause and to mitigation, minutes (10 % / median / 90 %)")
    for col in ("what", "n", "10 %", "median", "90 %"):
        table.add_column(col, justify="left" if col == "what" else "right")

    def row(what: str, q: dict[str, Any] | None) -> None:
        if q is None:
            table.add_row(what, "0", "—", "—", "—")
        else:
            cells = ("—" if q[k] is None else str(q[k]) for k in ("p10", "median", "p90"))
            table.add_row(what, str(q["n"]), *cells)

    row("public incidents: page → cause (not fitted)", data_cause)
    row("library, fixed tempo: page → cause", fixed_cause)
    row("library, drawn tempo: page → cause", result["check"]["page_to_cause"])
    row(f"first estimate (ack + T × search), {FIT_ON} runs: page → cause", fitted_cause)
    for kind in KINDS:
        fitted = "fitted" if kind == FIT_ON else "not fitted"
        row(f"public incidents, {kind} evidence: page → cause ({fitted})", data_by[kind])
        row(
            f"library, {kind} evidence, fixed tempo: page → cause",
            result["library"]["page_to_cause_at_fixed_tempo_by_evidence"][kind],
        )
        row(
            f"library, {kind} evidence, drawn tempo: page → cause",
            result["check"]["page_to_cause_by_evidence"][kind],
        )
    row("public incidents: page → mitigation", data_mitigation)
    row(
        "library, drawn tempo: page → mitigation (not fitted)",
        result["check"]["page_to_mitigation"],
    )
    Console(width=140).print(table)
    console.print(
        f"tempo: median × {median:g}, sigma {sigma:g} (lognormal, per run) — "
        f"{len(searching)} of {len(fixed)} fixed-tempo runs used ({FIT_ON}, diagnosed); "
        f"of {paged} paged drawn-tempo runs, {result['check']['never_diagnosed']} named no "
        f"cause and {result['check']['never_mitigated']} did not mitigate within the horizon "
        f"({time.perf_counter() - started:.0f} s)"
    )
    if args.write:
        write_text(FITTED, json.dumps(result, indent=2) + "\n")
        console.print(f"wrote {FITTED.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
