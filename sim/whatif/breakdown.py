"""Named variants with a per-endpoint breakdown: a sweep's rows and each run's endpoint totals.

:func:`sim.sweep` returns one row per run with the shop's totals. A question about *where*
the failures land (which endpoints) needs more of each journal than that row, and a sweep has
no way to ask for it. :func:`sweep_endpoints` runs the named variants itself, in local worker
processes, and returns two tables from the same journals: the runs table — the columns and
values a sweep gives (:func:`sim.sweep.outcome.outcome`), so ``sim.sweep.summarise`` and the
plots read it — and the endpoint table (:func:`sim.whatif.endpoints.endpoint_totals`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from sim.scenario.schema import Scenario

Job = tuple[int, str, int, str | None, str, float | None]


def sweep_endpoints(
    scenario: Scenario | str | os.PathLike[str],
    variants: Mapping[str, Mapping[str, Any]],
    seeds: Iterable[int] = range(1, 31),
    *,
    responder: str | None = None,
    engine: str = "flow",
    horizon: float | str | None = None,
    workers: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every named variant with every seed; return ``(runs, endpoints)``.

    ``variants`` maps a name to its overrides, keyed like a sweep's ``vary`` (``{}``: the
    scenario as it is). ``runs`` is what :func:`sim.whatif.variants.sweep_variants` gives for
    the same arguments; ``endpoints`` has one row per run and endpoint: ``variant``, ``seed``,
    ``endpoint``, ``requests``, ``errors``, ``timeouts``, ``rejected``, ``failed``,
    ``error_ratio``. ``horizon``: seconds or a duration (``"1h"``). Runs go to ``workers``
    local processes (default: one per core).
    """
    from concurrent.futures import ProcessPoolExecutor

    import pandas as pd

    from sim.scenario.durations import parse_duration
    from sim.whatif.variants import variant_scenario

    base = _scenario(scenario)
    until = None if horizon is None else parse_duration(horizon)
    seed_list = sorted(seeds)
    names = list(variants)
    made = {name: variant_scenario(base, variants[name]) for name in names}
    jobs: list[Job] = [
        (i, made[name].model_dump_json(by_alias=True), seed, responder, engine, until)
        for i, name in enumerate(names)
        for seed in seed_list
    ]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(_run, jobs))
    rows = [row for row, _ in results]
    runs = _runs_frame(rows, names, [made[name].clock_start.isoformat() for name in names])
    endpoints = pd.DataFrame.from_records(
        [
            {"variant": names[row["variant"]], "seed": row["seed"], **e}
            for row, totals in results
            for e in totals
        ]
    )
    endpoints["variant"] = pd.Categorical(endpoints["variant"], categories=names, ordered=True)
    meta = _attrs(base, made, variants, seed_list, responder, engine, until)
    runs.attrs.update(meta)
    endpoints.attrs.update(meta)
    return runs, endpoints


def _scenario(scenario: Scenario | str | os.PathLike[str]) -> Scenario:
    if isinstance(scenario, str | os.PathLike):
        from sim.scenario import load_scenario

        return load_scenario(Path(scenario))
    return scenario


def _run(job: Job) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One run in a worker: its sweep row and its endpoint totals (never the journal itself)."""
    from sim.runner import run
    from sim.scenario.schema import Scenario
    from sim.sweep.outcome import outcome
    from sim.whatif.endpoints import endpoint_totals

    index, document, seed, responder, engine, horizon = job
    journal = run(
        Scenario.model_validate_json(document),
        seed,
        responder=responder,
        engine=engine,
        horizon=horizon,
    )
    return {"variant": index, "seed": seed, **outcome(journal)}, endpoint_totals(journal)


def _runs_frame(
    rows: list[dict[str, Any]], names: list[str], clock_starts: list[str]
) -> pd.DataFrame:
    """The runs as a sweep types them: variant, seed, then every outcome column."""
    import pandas as pd

    from sim.sweep.outcome import outcome_columns

    ordered = sorted(rows, key=lambda r: (r["variant"], r["seed"]))
    data: dict[str, Any] = {
        "variant": pd.Categorical(
            [names[r["variant"]] for r in ordered], categories=names, ordered=True
        ),
        "seed": pd.array([r["seed"] for r in ordered], dtype="int64"),
    }
    data |= outcome_columns(ordered, [clock_starts[r["variant"]] for r in ordered])
    return pd.DataFrame(data)


def _attrs(
    base: Scenario,
    made: Mapping[str, Scenario],
    variants: Mapping[str, Mapping[str, Any]],
    seeds: list[int],
    responder: str | None,
    engine: str,
    horizon: float | None,
) -> dict[str, Any]:
    """The metadata :func:`sim.whatif.variants.sweep_variants` records, for the same runs."""
    from sim._version import __version__
    from sim.runner import scenario_hash

    listed = [
        {
            "label": name,
            "overrides": dict(variants[name]),
            "sha256": scenario_hash(s),
            "responder": responder or s.response.responder,
            "horizon": s.horizon if horizon is None else float(horizon),
        }
        for name, s in made.items()
    ]

    def single(key: str) -> Any:
        values = {v[key] for v in listed}
        return next(iter(values)) if len(values) == 1 else None

    total = len(listed) * len(seeds)
    return {
        "chaosdrill": __version__,
        "scenario": base.name,
        "sha256": scenario_hash(base),
        "path": None,
        "file_sha256": None,
        "engine": engine,
        "currency": base.traffic.order_value.currency,
        "responder": single("responder"),
        "horizon": single("horizon"),
        "vary": {},
        "seeds": seeds,
        "variants": listed,
        "runs": total,
        "finished": total,
        "partial": False,
    }
