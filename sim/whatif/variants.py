"""Named variants: each a set of overrides applied together, run with the same seeds, one table.

:func:`sim.sweep` runs the cartesian product of the values it varies, which answers "how does
X depend on Y". A strategy ("canary": a partial break, a canary alert and a watching owner) is
several overrides that only make sense together; :func:`sweep_variants` runs one sweep per
named set of overrides, with the same seeds, engine, responder and horizon, and joins them
into one runs table whose ``variant`` column holds the names. ``sim.sweep.summarise`` and the
plots read it like any sweep.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from sim.scenario.schema import Scenario
    from sim.sweep.api import ScenarioLike


def sweep_variants(
    scenario: ScenarioLike,
    variants: Mapping[str, Mapping[str, Any]],
    seeds: Iterable[int] | int = range(1, 31),
    *,
    executor: object = None,
    workers: int | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Run every named variant (its overrides applied together) with every seed.

    ``variants`` maps a name to its overrides (``{}`` for the scenario as it is), keyed like
    ``vary`` keys (docs/sweep.md). ``options`` (``responder``, ``engine``, ``horizon`` …) go to
    every :func:`sim.sweep`. With the default local executor one pool of worker processes
    serves all the variants.

    Columns: ``variant`` (the names, an ordered categorical in the order given), ``seed`` and
    the outcome columns of a sweep; the overrides are in ``df.attrs["variants"]``.
    """
    import pandas as pd

    from sim.sweep import sweep
    from sim.sweep.errors import SweepError

    if not variants:
        raise SweepError("variants: expected at least one named set of overrides")
    seed_list = list(range(1, seeds + 1)) if isinstance(seeds, int) else list(seeds)
    pool = None
    if executor is None or executor == "local":
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(max_workers=workers)
        executor = pool
    frames: list[pd.DataFrame] = []
    try:
        for overrides in variants.values():
            vary = {key: [value] for key, value in overrides.items()} or None
            frames.append(
                sweep(scenario, vary, seed_list, executor=executor, workers=workers, **options)
            )
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    names = list(variants)
    parts = []
    for name, frame in zip(names, frames, strict=True):
        part = frame.drop(columns=["variant", *(frame.attrs.get("vary") or {})])
        part.insert(0, "variant", name)
        parts.append(part)
    df = pd.concat(parts, ignore_index=True)
    df["variant"] = pd.Categorical(df["variant"], categories=names, ordered=True)
    df.attrs.clear()
    df.attrs.update(_attrs(names, variants, frames))
    return df


def _attrs(
    names: list[str], variants: Mapping[str, Mapping[str, Any]], frames: list[pd.DataFrame]
) -> dict[str, Any]:
    """One sweep's metadata for the joined table: the variants named, ``vary`` empty."""
    first = frames[0].attrs

    def single(key: str) -> Any:
        values = {repr(f.attrs.get(key)) for f in frames}
        return first.get(key) if len(values) == 1 else None

    meta = {k: first.get(k) for k in ("chaosdrill", "scenario", "sha256", "path", "file_sha256")}
    meta.update(
        {
            "engine": first.get("engine"),
            "currency": first.get("currency"),
            "responder": single("responder"),
            "horizon": single("horizon"),
            "vary": {},
            "seeds": first.get("seeds"),
            "variants": [
                {**f.attrs["variants"][0], "label": name, "overrides": dict(variants[name])}
                for name, f in zip(names, frames, strict=True)
            ],
            "runs": sum(int(f.attrs.get("runs", 0)) for f in frames),
            "finished": sum(int(f.attrs.get("finished", 0)) for f in frames),
            "partial": any(bool(f.attrs.get("partial")) for f in frames),
        }
    )
    return meta


def variant_scenario(scenario: Scenario, overrides: Mapping[str, Any]) -> Scenario:
    """``scenario`` with ``overrides`` set (keys as in a sweep's ``vary``), validated like a file.

    For a single run of a variant: ``sim.run(variant_scenario(scenario, {...}), seed=1)``.
    """
    from sim.sweep.overrides import apply_overrides, base_document

    return apply_overrides(base_document(scenario, list(overrides)), overrides).scenario


def monitors_with(scenario: Scenario, *extra: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The scenario's monitors (or the default set, when it names none) plus ``extra`` ones.

    The value for an override of ``monitors`` that adds an alert and keeps the others:
    ``{"monitors": monitors_with(scenario, {"name": "canary-errors", …})}``.
    """
    from sim.telemetry.monitors import monitor_rules

    rules = monitor_rules(scenario)
    return [m.model_dump(mode="json", by_alias=True) for m in rules] + [dict(m) for m in extra]
