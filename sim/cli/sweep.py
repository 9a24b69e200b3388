"""``chaosdrill sweep``: what-if runs — variants × seeds — as tables, a summary and plots.

With ``--json`` the summary is one JSON object on stdout (:data:`RESULT_FORMAT`, described in
docs/cli.md) and everything meant for people goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim._version import __version__
from sim.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_OK,
    engine_refusal,
    err,
    load_or_report,
    out,
)

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    from sim.scenario import Scenario

DEFAULT_RUNS = 30
RESULT_FORMAT = "chaosdrill.sweep-result/1"


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "sweep",
        help="what-if runs: vary scenario fields over many seeds; tables, summary and plots",
        description=(
            "Run SCENARIO (a file or catalogue name; default: bad-schema-migration) for every "
            "combination of the --vary values and every seed, and write DIR/runs.csv (one row "
            "per run), DIR/runs.parquet, DIR/summary.csv (per variant, with "
            "95 % intervals), DIR/sweep.json and the plots DIR/ttr-ecdf.png, DIR/impact.png "
            "and DIR/sensitivity.png. Guide: docs/whatif.md; keys and columns: docs/sweep.md."
        ),
    )
    p.add_argument("scenario", nargs="?", help="scenario file or catalogue name")
    p.add_argument(
        "--vary",
        action="append",
        type=_vary,
        default=[],
        metavar="KEY=V1,V2",
        help="a scenario field and its values (YAML scalars: 5m, 0.02, true), repeatable; "
        "e.g. monitors[endpoint-errors].threshold=0.02,0.05 or "
        "faults.0.remedies.rollback_migration=3m,6m,12m",
    )
    seeds = p.add_mutually_exclusive_group()
    seeds.add_argument(
        "--runs",
        type=_count,
        metavar="N",
        help=f"seeds 1..N for every variant (default: {DEFAULT_RUNS})",
    )
    seeds.add_argument(
        "--seeds", type=_seed_list, metavar="SEEDS", help="the seeds: 1-100, or 3,5,9, or 1-5,9"
    )
    p.add_argument(
        "--responder",
        metavar="NAME",
        help="who takes the pager in every run (default: the scenario's response.responder)",
    )
    p.add_argument(
        "--engine",
        choices=("flow", "request"),
        default=None,
        help="flow: per-time-step flows, fast (the default where it models the scenario); "
        "request: every request simulated (the default for a scenario with a data tier)",
    )
    p.add_argument(
        "--executor",
        default="local",
        metavar="EXECUTOR",
        help="local (worker processes, default), serial (this process), dask (a local Dask "
        "cluster) or a Dask scheduler address such as tcp://10.0.0.5:8786",
    )
    p.add_argument(
        "--workers", type=_count, metavar="N", help="worker processes (default: one per core)"
    )
    p.add_argument("--horizon", type=_duration, help="simulated time per run, e.g. 45m, 2h")
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="output folder (default: out/sweep-SCENARIO_NAME)",
    )
    p.add_argument("--no-plots", action="store_true", help="write the tables only")
    p.add_argument(
        "--json",
        action="store_true",
        help=f"print the summary as one JSON object on stdout ({RESULT_FORMAT}; docs/cli.md); "
        "the rest goes to stderr",
    )
    p.set_defaults(func=main)


def _split(text: str) -> list[str]:
    """Split on commas that are not inside brackets, braces or quotes."""
    parts, depth, quote, buf = [], 0, "", ""
    for c in text:
        if quote:
            quote = "" if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(buf)
            buf = ""
            continue
        buf += c
    parts.append(buf)
    return [p.strip() for p in parts]


def _vary(text: str) -> tuple[str, list[Any]]:
    """``KEY=V1,V2`` → ``(KEY, [V1, V2])``, each value read as a YAML scalar."""
    import yaml

    depth, cut = 0, -1
    for i, c in enumerate(text):
        depth += c == "["
        depth -= c == "]"
        if c == "=" and depth == 0:
            cut = i
            break
    key, values = text[:cut].strip(), text[cut + 1 :]
    if cut <= 0 or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=V1,V2,…, got {text!r}")
    parsed: list[Any] = []
    for raw in _split(values):
        if not raw:
            raise argparse.ArgumentTypeError(f"{key}: empty value in {values!r}")
        try:
            parsed.append(yaml.safe_load(raw))
        except yaml.YAMLError:
            raise argparse.ArgumentTypeError(f"{key}: cannot read {raw!r} as a value") from None
    return key, parsed


def _count(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {text!r}")
    return int(text)


def _seed_list(text: str) -> list[int]:
    """``1-100``, ``3,5,9`` or ``1-5,9`` → the seeds, each once."""
    seeds: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        low, dash, high = part.partition("-")
        if not low.isdigit() or (dash and not high.isdigit()):
            raise argparse.ArgumentTypeError(f"expected seeds such as 1-100 or 3,5,9, got {text!r}")
        first, last = int(low), int(high) if dash else int(low)
        if last < first:
            raise argparse.ArgumentTypeError(f"{part}: a range goes up, e.g. {last}-{first}")
        seeds += [s for s in range(first, last + 1) if s not in seeds]
    return seeds


def _duration(text: str) -> float:
    from sim.cli.run import _duration as run_duration

    return run_duration(text)


def _responder(given: str | None, vary: dict[str, list[Any]], scenario: Scenario) -> str:
    if given is None and "response.responder" in vary:
        return "per variant"
    return given or scenario.response.responder


def _shown(path: str) -> str:
    """A path as people typed it: relative to the current folder when it is inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return path


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def seeds_text(seeds: Sequence[int]) -> str:
    """``1-30`` or ``3, 5, 9``: consecutive seeds as ranges."""
    parts: list[str] = []
    ordered = sorted(set(seeds))
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ", ".join(parts)


def main(args: argparse.Namespace) -> int:
    loaded = load_or_report(args.scenario)
    if loaded is None:
        return EXIT_INVALID
    scenario = loaded.scenario
    if args.engine is None:
        from sim.engine.flow.engine import flow_lacks

        args.engine = "request" if flow_lacks(scenario) else "flow"
    refusal = engine_refusal(scenario, args.engine)
    if refusal is not None:
        err.print(f"sweep: {refusal}", markup=False, soft_wrap=True)
        return EXIT_INVALID
    seeds = args.seeds or list(range(1, (args.runs or DEFAULT_RUNS) + 1))
    vary = dict(args.vary)
    if len(vary) < len(args.vary):
        twice = sorted({k for k, _ in args.vary if sum(k == x for x, _ in args.vary) > 1})
        err.print(f"--vary: each key once, got {', '.join(twice)} twice", markup=False)
        return EXIT_INVALID
    folder = args.out or Path("out") / f"sweep-{scenario.name}"
    variants = math.prod(len(v) for v in vary.values())
    horizon = args.horizon or scenario.horizon
    from sim.scenario import format_duration

    people = err if args.json else out  # with --json, stdout carries the JSON object only
    people.print(
        f"{scenario.name} — {_plural(variants, 'variant')} × {_plural(len(seeds), 'seed')} = "
        f"{_plural(variants * len(seeds), 'run')}, horizon {format_duration(horizon)}, engine "
        f"{args.engine}, responder {_responder(args.responder, vary, scenario)}, executor "
        f"{args.executor}",
        markup=False,
        soft_wrap=True,
    )
    from sim.sweep import SweepError, SweepInterrupted, sweep
    from sim.sweep.api import SweepWarning

    try:
        with warnings.catch_warnings():  # said below, on one line each, after the table
            warnings.simplefilter("ignore", SweepWarning)
            df = sweep(
                loaded,
                vary=vary,
                seeds=seeds,
                responder=args.responder,
                engine=args.engine,
                executor=args.executor,
                workers=args.workers,
                horizon=args.horizon,
                progress=None,  # sim.sweep draws its bar on stderr in a terminal
            )
    except SweepError as exc:
        err.print(f"{_shown(loaded.path)}: {exc}", markup=False, soft_wrap=True)
        return EXIT_INVALID
    except SweepInterrupted as stop:
        return _partial(stop.frame, stop.total, folder, seeds, args.json)
    return _finish(df, folder, seeds, plots=not args.no_plots, as_json=args.json)


def _write(df: pd.DataFrame, summary: pd.DataFrame, folder: Path, plots: bool) -> list[Path] | None:
    """Write the files as one whole (:func:`sim.atomic.staged_folder`): the tables and plots
    of an earlier sweep in ``folder`` go. ``None`` after a Ctrl-C: nothing was written."""
    from sim.atomic import staged_folder
    from sim.sweep import write
    from sim.sweep.files import METADATA, PLOTS, RUNS_CSV, RUNS_PARQUET, SUMMARY_CSV

    names = (RUNS_CSV, RUNS_PARQUET, SUMMARY_CSV, METADATA, *PLOTS)
    try:
        with staged_folder(folder, names) as stage:
            written = write(df, stage, summary, plots=plots)
    except KeyboardInterrupt:
        err.print(f"interrupted while writing; nothing was written to {folder}/", markup=False)
        return None
    return [folder / p.name for p in written]


def _partial(
    frame: pd.DataFrame, total: int, folder: Path, seeds: Sequence[int], as_json: bool
) -> int:
    from sim.sweep import summarise

    summary = summarise(frame)
    written = _write(frame, summary, folder, plots=False)
    if written is not None:
        err.print(
            f"interrupted after {len(frame)} of {total} runs; wrote the finished runs, marked "
            f"partial in sweep.json (no plots): {', '.join(str(p) for p in written)} "
            f"(seeds {seeds_text(seeds)})",
            markup=False,
            soft_wrap=True,
        )
        if as_json:
            print(json.dumps(sweep_result(frame, summary, written), indent=2))
    return EXIT_INTERRUPTED


def _finish(
    df: pd.DataFrame, folder: Path, seeds: Sequence[int], plots: bool, as_json: bool
) -> int:
    from sim.cli.sweep_table import print_summary
    from sim.sweep import summarise

    summary = summarise(df)
    written = _write(df, summary, folder, plots)
    if written is None:
        return EXIT_INTERRUPTED
    people: Console = err if as_json else out
    print_summary(summary, people)
    people.print("wrote " + ", ".join(str(p) for p in written), soft_wrap=True, markup=False)
    people.print(f"seeds: {seeds_text(seeds)}")
    from sim.sweep.api import identical_message

    for line in identical_message(df.attrs.get("identical", []), list(seeds)):
        err.print(f"warning: {line}", style="yellow", markup=False, soft_wrap=True)
    if as_json:
        print(json.dumps(sweep_result(df, summary, written), indent=2))
    return EXIT_OK


def _plain(value: Any) -> Any:
    """A summary cell for JSON: NaN (nothing to measure) is null, infinity "unresolved"."""
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else "unresolved"
    return value


def sweep_result(
    df: pd.DataFrame, summary: pd.DataFrame, written: Sequence[Path]
) -> dict[str, Any]:
    """The ``--json`` object (:data:`RESULT_FORMAT`): what sweep.json holds, and the summary
    (one object per variant, the columns of summary.csv)."""
    from sim.sweep.files import metadata_json

    variants = [
        {str(k): _plain(v) for k, v in row.items()} for row in summary.to_dict(orient="records")
    ]
    return {
        "format": RESULT_FORMAT,
        "chaosdrill": __version__,
        "sweep": json.loads(metadata_json(df)),
        "variants": variants,
        "files": [str(p) for p in written],
    }
