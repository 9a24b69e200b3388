"""``sim.sweep``: many seeded runs of a scenario and its variants, as one pandas table.

Every variant is built and validated before the first run, so a bad key or value fails at
once with a :class:`SweepError`; then every (variant, seed) run goes to the executor, and the
rows come back sorted by variant (in the order ``vary`` spells them out) and seed.
"""

from __future__ import annotations

import itertools
import json
import os
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sim.scenario.loader import LoadedScenario
from sim.scenario.schema import Scenario
from sim.sweep.errors import SweepError, SweepInterrupted
from sim.sweep.executors import Chunk, Row, chunk_size, execute, split
from sim.sweep.outcome import COLUMNS, outcome_columns
from sim.sweep.overrides import (
    Overridden,
    apply_overrides,
    base_document,
    parse_path,
    render_tokens,
    value_text,
)

if TYPE_CHECKING:
    import pandas as pd

ScenarioLike = Scenario | LoadedScenario | str | os.PathLike[str]
Progress = Callable[[int, int], None]
DEFAULT_SEEDS = range(1, 31)
BASE_LABEL = "base"


@dataclass(frozen=True)
class Variant:
    """One point of the sweep: the overrides as given and the scenario they make."""

    label: str
    overrides: dict[str, Any]
    values: dict[str, Any]  # what the validated scenario holds at each key (5m → 300.0)
    document: str
    sha256: str
    responder: str
    horizon: float


def sweep(
    scenario: ScenarioLike,
    vary: Mapping[str, Iterable[Any]] | None = None,
    seeds: Iterable[int] | int = DEFAULT_SEEDS,
    *,
    responder: str | None = None,
    engine: str | None = None,
    executor: object = None,
    workers: int | None = None,
    horizon: float | str | None = None,
    progress: Progress | bool | None = None,
) -> pd.DataFrame:
    """Run ``scenario`` for every combination of ``vary`` and every seed; one row per run.

    ``scenario``: a :class:`~sim.scenario.Scenario`, a file or a catalogue name.
    ``vary``: override key → values; the full cartesian product is run (docs/sweep.md has
    the key syntax: ``monitors[endpoint-errors].threshold``, ``faults.0.remedies.rollback_migration``,
    ``dependencies[payments->payment-provider].retries.attempts`` …). ``seeds``: the seeds
    (an int N means 1..N). ``responder``, ``horizon`` (seconds or ``"1h"``) and ``engine``
    apply to every run; ``engine`` defaults to ``"flow"``, or ``"request"`` for a scenario
    that uses a mechanism the flow engine does not model (a data tier). ``executor``: ``"local"`` (default: worker processes, ``workers`` of
    them, one per core), ``"serial"``, ``"dask"``, a Dask scheduler address, a
    ``dask.distributed.Client`` or a ``concurrent.futures.Executor``. ``progress``: by default
    a progress bar when someone is watching (a terminal, or a Jupyter notebook), nothing
    otherwise; ``False``: never; a callable ``progress(done, total)`` is called as runs finish.

    Columns: ``variant`` (an ordered categorical), one column per varied key (the value the
    validated scenario holds), ``seed``, then the outcome (:data:`sim.sweep.outcome.COLUMNS`),
    then each time of the run on the scenario's wall clock (``detected_at_clock`` …).
    Variants that gave identical results on every seed are listed in ``df.attrs["identical"]``
    and each group raises a :class:`SweepWarning`. ``df.attrs`` records the scenario, its hash, the engine, responder, horizon, ``vary``, the
    seeds and every variant. Ctrl-C raises :class:`SweepInterrupted` carrying the finished rows.
    """
    base, source = _resolve(scenario)
    keys, values, combos = _combinations(vary)
    given_horizon = _horizon(horizon, keys)
    _check_responder_key(responder, keys)
    engine = _engine_for(base, engine)
    seed_list = _seeds(seeds)
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise SweepError(f"workers: expected a whole number of 1 or more, got {workers!r}")

    variants = _variants(base, keys, combos, source["file"], responder, given_horizon)
    total = len(variants) * len(seed_list)
    documents = [(v.label, v.document) for v in variants]

    def plan(slots: int) -> list[Chunk]:
        size = chunk_size(total, slots)
        return split(documents, seed_list, size, responder, given_horizon, engine)

    rows: list[Row] = []
    report, stop = _progress(progress, f"sweep of {base.name}")

    def on_rows(new: list[Row]) -> None:
        rows.extend(new)
        if report is not None:
            report(len(rows), total)

    meta = _attrs(base, source, engine, values, seed_list, variants)
    if report is not None:
        report(0, total)
    try:
        execute(plan, executor, workers, on_rows)
    except KeyboardInterrupt:
        raise SweepInterrupted(_frame(rows, keys, variants, meta, total), total) from None
    finally:
        stop()
    df = _frame(rows, keys, variants, meta, total)
    for line in identical_message(df.attrs["identical"], seed_list):
        warnings.warn(line, SweepWarning, stacklevel=2)
    return df


def _resolve(scenario: ScenarioLike) -> tuple[Scenario, dict[str, Any]]:
    if isinstance(scenario, Scenario):
        return scenario, {"file": f"<scenario {scenario.name}>", "path": None, "file_sha256": None}
    if isinstance(scenario, str | os.PathLike):
        from sim.scenario.catalogue import resolve
        from sim.scenario.loader import load

        scenario = load(resolve(os.fspath(scenario)))
    if isinstance(scenario, LoadedScenario):
        return scenario.scenario, {
            "file": scenario.path,
            "path": scenario.path,
            "file_sha256": scenario.sha256,
        }
    raise SweepError(
        f"scenario: expected a Scenario, a file or a catalogue name, got {type(scenario).__name__}"
    )


def _combinations(
    vary: Mapping[str, Iterable[Any]] | None,
) -> tuple[list[str], dict[str, list[Any]], list[tuple[Any, ...]]]:
    """The keys, each key's values (numpy scalars made plain) and every combination."""
    if not vary:
        return [], {}, [()]
    if not isinstance(vary, Mapping):
        raise SweepError(f"vary: expected a mapping of key → list of values, got {vary!r}")
    keys = list(vary)
    if "seed" in keys:
        raise SweepError("vary seed: the seeds are the sweep's other axis; give seeds=", "seed")
    lists: dict[str, list[Any]] = {}
    for key, given in vary.items():
        parse_path(key)
        if isinstance(given, str | bytes | Mapping) or not isinstance(given, Iterable):
            raise SweepError(
                f"vary {key}: expected a list of values, got {value_text(given)!r}", key
            )
        values = lists[key] = [_plain(v) for v in given]
        if not values:
            raise SweepError(f"vary {key}: expected at least one value, got an empty list", key)
        texts = [value_text(v) for v in values]
        twice = sorted({t for t in texts if texts.count(t) > 1})
        if twice:
            raise SweepError(f"vary {key}: each value once, got {', '.join(twice)} twice", key)
    return keys, lists, list(itertools.product(*(lists[k] for k in keys)))


def _plain(value: Any) -> Any:
    """numpy scalars (``np.linspace`` values) as the Python numbers they hold."""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        return value.item()
    return value


def _horizon(horizon: float | str | None, keys: Sequence[str]) -> float | None:
    if horizon is None:
        return None
    if "horizon" in keys:
        raise SweepError("horizon: give horizon= or vary horizon, not both", "horizon")
    from sim.scenario.durations import parse_duration

    try:
        seconds = parse_duration(horizon)
    except ValueError as exc:
        raise SweepError(f"horizon: {exc}") from None
    if seconds <= 0:
        raise SweepError(f"horizon: expected a duration above zero, got {value_text(horizon)}")
    return seconds


def _check_responder_key(responder: str | None, keys: Sequence[str]) -> None:
    if responder is not None and "response.responder" in keys:
        raise SweepError(
            "responder: give responder= or vary response.responder, not both",
            "response.responder",
        )


def _engine_for(scenario: Scenario, engine: str | None) -> str:
    """The engine to run ``scenario`` on: the one given, or the flow engine where it can."""
    from sim.engine.flow.engine import flow_lacks
    from sim.simulation import ENGINES

    lacks = flow_lacks(scenario)
    if engine is None:
        return "request" if lacks else "flow"
    if engine not in ENGINES:
        raise SweepError(f"engine: expected one of {', '.join(ENGINES)}, got {engine!r}")
    if engine == "flow" and lacks:
        raise SweepError(
            f"engine: the flow engine does not model {'; '.join(lacks)}; use engine='request'"
        )
    return engine


def _seeds(seeds: Iterable[int] | int) -> list[int]:
    if isinstance(seeds, bool):
        raise SweepError(f"seeds: expected seeds or a number of runs, got {seeds!r}")
    found = list(range(1, seeds + 1)) if isinstance(seeds, int) else list(seeds)
    bad = [s for s in found if isinstance(s, bool) or not isinstance(s, int) or s < 0]
    if bad or not found:
        got = f"{bad[0]!r}" if bad else "none"
        raise SweepError(f"seeds: expected whole numbers of 0 or more, got {got}")
    twice = sorted({s for s in found if found.count(s) > 1})
    if twice:
        raise SweepError(f"seeds: each seed once, got {', '.join(map(str, twice))} twice")
    return sorted(found)


def _short_names(keys: Sequence[str]) -> dict[str, str]:
    """The shortest ending of each key that tells it from the others: ``threshold``."""
    tokens = {k: parse_path(k) for k in keys}
    out: dict[str, str] = {}
    for key, toks in tokens.items():
        for n in range(1, len(toks) + 1):
            tail = toks[-n:]
            if tail[0].kind == "select" and n < len(toks):
                continue
            name = render_tokens(tail)
            others = [render_tokens(t[-n:]) for k, t in tokens.items() if k != key]
            if name not in others:
                out[key] = name
                break
        else:
            out[key] = key
    return out


def _variants(
    base: Scenario,
    keys: Sequence[str],
    combos: Sequence[tuple[Any, ...]],
    file: str,
    responder: str | None,
    horizon: float | None,
) -> list[Variant]:
    from sim.runner import scenario_hash
    from sim.scenario.messages import did_you_mean
    from sim.scenario.vocabulary import responder_names

    document = base_document(base, keys)
    short = _short_names(keys)
    out: list[Variant] = []
    for combo in combos:
        overrides = dict(zip(keys, combo, strict=True))
        made: Overridden = apply_overrides(document, overrides, file)
        scenario = made.scenario
        name = responder or scenario.response.responder
        known = responder_names(scenario)
        if name not in known:
            raise SweepError(
                f"responder: no responder named {name!r}{did_you_mean(name, known)} "
                f"(known: {', '.join(known)})"
            )
        label = ", ".join(f"{short[k]}={value_text(v)}" for k, v in overrides.items())
        out.append(
            Variant(
                label=label or BASE_LABEL,
                overrides=overrides,
                values={k: made.effective(k) for k in keys},
                # in the file's order, not sorted: the order of components and endpoints is
                # part of the scenario (a reordered shop is another sample of the same runs)
                document=json.dumps(made.document),
                sha256=scenario_hash(scenario),
                responder=name,
                horizon=scenario.horizon if horizon is None else horizon,
            )
        )
    return out


def _attrs(
    base: Scenario,
    source: Mapping[str, Any],
    engine: str,
    vary: Mapping[str, list[Any]],
    seeds: Sequence[int],
    variants: Sequence[Variant],
) -> dict[str, Any]:
    from sim._version import __version__
    from sim.runner import scenario_hash

    def single(values: set[Any]) -> Any:
        return next(iter(values)) if len(values) == 1 else None

    return {
        "chaosdrill": __version__,
        "scenario": base.name,
        "sha256": scenario_hash(base),
        "path": source["path"],
        "file_sha256": source["file_sha256"],
        "engine": engine,
        "currency": base.traffic.order_value.currency,
        "responder": single({v.responder for v in variants}),
        "horizon": single({v.horizon for v in variants}),
        "vary": {k: list(v) for k, v in vary.items()},
        "seeds": list(seeds),
        "variants": [
            {
                "label": v.label,
                "overrides": v.overrides,
                "sha256": v.sha256,
                "responder": v.responder,
                "horizon": v.horizon,
            }
            for v in variants
        ],
    }


def _progress(
    given: Progress | bool | None, title: str
) -> tuple[Progress | None, Callable[[], None]]:
    """The progress callback to use, and what ends it: ``given`` if a callable; a rich bar —
    which draws in a terminal and in a Jupyter notebook alike — if ``None`` and someone is
    watching; else none."""
    if callable(given):
        return given, lambda: None
    if given is False:
        return None, lambda: None
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as Bar

    console = Console(stderr=True)
    if given is None and not (console.is_terminal or console.is_jupyter):
        return None, lambda: None
    bar = Bar(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("runs"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    task = bar.add_task(title, total=None)
    bar.start()

    def report(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return report, bar.stop


def _frame(
    rows: Sequence[Row],
    keys: Sequence[str],
    variants: Sequence[Variant],
    meta: Mapping[str, Any],
    total: int,
) -> pd.DataFrame:
    """The table: rows sorted by variant then seed, typed columns, metadata in ``attrs``."""
    import pandas as pd

    ordered = sorted(rows, key=lambda r: (r["variant"], r["seed"]))
    labels = [v.label for v in variants]
    data: dict[str, Any] = {
        "variant": pd.Categorical(
            [labels[r["variant"]] for r in ordered], categories=labels, ordered=True
        )
    }
    for key in keys:
        data[key] = [variants[r["variant"]].values[key] for r in ordered]
    data["seed"] = pd.array([r["seed"] for r in ordered], dtype="int64")
    # the variant's clock: clock_start may be what is varied
    starts = [json.loads(v.document)["clock_start"] for v in variants]
    data |= outcome_columns(ordered, [starts[r["variant"]] for r in ordered])
    df = pd.DataFrame(data)
    df.attrs.update(meta)
    df.attrs.update({"runs": total, "finished": len(ordered), "partial": len(ordered) < total})
    df.attrs["identical"] = identical_variants(df) if len(ordered) == total else []
    return df


class SweepWarning(UserWarning):
    """Something about a sweep's result worth knowing before reading it."""


def identical_variants(df: pd.DataFrame) -> list[list[str]]:
    """Groups of two or more variants whose every outcome figure is the same on every seed:
    what they vary made no difference to these runs (a threshold nothing came near, a key
    the scenario never reaches), so comparing them says nothing."""
    names = [name for name, _ in COLUMNS]
    if df.empty or df["variant"].nunique() < 2:
        return []
    seen: dict[str, list[str]] = {}
    for label, rows in df.groupby("variant", observed=True, sort=False):
        ordered = rows.sort_values("seed")
        key = ordered[["seed", *names]].to_json(orient="values", double_precision=15)
        seen.setdefault(key, []).append(str(label))
    return [group for group in seen.values() if len(group) > 1]


def identical_message(groups: Sequence[Sequence[str]], seeds: Sequence[int]) -> list[str]:
    """One line per group of identical variants, for people."""
    span = f"seed {seeds[0]}" if len(seeds) == 1 else f"each of the {len(seeds)} seeds"
    return [
        f"variants {', '.join(group[:-1])} and {group[-1]} gave identical results on {span}: "
        "what they vary made no difference to these runs — check that the key is the one you "
        "mean, or vary it further"
        for group in groups
    ]
