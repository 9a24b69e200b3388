"""Regenerate ``engines.json``: both engines' figures for the agreement test.

The flow engine must agree with the request engine on every catalogue scenario over 30 seeds
(``tests/test_engine_agreement.py``). Running both engines 30 times per scenario costs many
minutes (a flash-sale run takes ~12 s on the request engine, ~8 s on the flow engine), so
the figures are stored here with the scenario hashes they belong to. The test re-runs seed 1
of every scenario on both engines to prove the file is current, and fails with this command
when it is not::

    python -m tests.reference.make_engine_reference [SCENARIO-FILE-NAME ...]

With names (``bad-schema-migration.yaml``), only those scenarios are re-run; the others keep
their stored figures. With ``--engine flow`` (or ``request``), only that engine is re-run and
the other's figures are kept — for a change to one engine alone; a scenario that itself
changed is refused, as both engines' figures belong to its new version::

    python -m tests.reference.make_engine_reference --engine flow flash-sale-surge.yaml
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
REFERENCE = HERE / "engines.json"
REGENERATE = "python -m tests.reference.make_engine_reference"
ENGINES = ("request", "flow")
SEEDS = 30
# What is compared, and what is stored to check the file against a fresh run.
FIGURES = (
    "failed_checkouts",
    "time_to_detect",
    "detected_at",
    "errors_started",
    "time_to_resolve",
    "failed_requests",
    "lost_revenue",
    "orders",
)


def scenarios() -> list[Path]:
    """The catalogue scenarios both engines model (the flow engine refuses the others:
    tests/test_flow_engine.py checks that)."""
    from sim.engine.flow.engine import flow_lacks
    from sim.scenario import load_scenario

    paths = sorted((ROOT / "scenarios").glob("*.yaml"))
    return [p for p in paths if not flow_lacks(load_scenario(p))]


def figures(path: Path, engine: str, seeds: int | list[int]) -> list[dict[str, Any]]:
    """One record of FIGURES per seed (``None`` for what did not happen)."""
    import sim

    executor = "serial" if isinstance(seeds, list) and len(seeds) == 1 else "local"
    df = sim.sweep(path, seeds=seeds, engine=engine, executor=executor)
    table = df[["seed", *FIGURES]].astype(object)
    rows: list[dict[str, Any]] = table.where(table.notna(), None).to_dict(orient="records")
    return rows


def stored_reference() -> dict[str, Any]:
    """tests/reference/engines.json, read once per version of the file (every catalogue file's
    expect: items consult it; treat it as read-only)."""
    return _read_reference(REFERENCE.stat().st_mtime_ns)


@functools.cache
def _read_reference(mtime_ns: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(REFERENCE.read_text())
    return data


def compare(name: str, engine: str, fresh: dict[str, Any], entry: dict[str, Any]) -> None:
    """Fail unless seed 1's ``fresh`` figures are those stored for ``engine``."""
    import pytest

    stored = entry[engine][0]
    for figure in FIGURES:
        assert fresh[figure] == pytest.approx(stored[figure]), (
            f"{name} seed 1: {figure} is {fresh[figure]} on the {engine} engine, the "
            f"reference says {stored[figure]}: the results moved; run {REGENERATE} {name}"
        )


def current_request_reference(config: Any, loaded: Any) -> None:
    """The request engine's seed 1 of a catalogue scenario, with its own responder, is what
    the reference stores (nothing to check for a scenario the flow engine does not model)."""
    from sim.pytest_plugin import _drills
    from sim.runner import scenario_hash
    from sim.sweep.outcome import outcome

    name = loaded.path.name
    entry = stored_reference()["scenarios"].get(name)
    if entry is None:
        return
    scenario = loaded.scenario
    assert entry["sha256"] == scenario_hash(scenario), (
        f"{name} changed since the reference was made: run {REGENERATE} {name}"
    )
    _, journal = _drills(config).run(loaded, 1, scenario.response.responder, None, True)
    row = outcome(journal)
    compare(name, "request", {f: row[f] for f in FIGURES}, entry)


def main(argv: list[str]) -> int:
    import argparse

    from sim.runner import scenario_hash
    from sim.scenario import load_scenario

    parser = argparse.ArgumentParser(
        prog="python -m tests.reference.make_engine_reference",
        description="Regenerate tests/reference/engines.json (both engines, 30 seeds).",
    )
    parser.add_argument("names", nargs="*", help="scenario file names (default: every one)")
    parser.add_argument(
        "--engine", choices=ENGINES, help="re-run this engine only, keeping the other's figures"
    )
    args = parser.parse_args(argv)
    names = args.names
    engines = ENGINES if args.engine is None else (args.engine,)

    old: dict[str, Any] = json.loads(REFERENCE.read_text()) if REFERENCE.exists() else {}
    stored = old.get("scenarios", {})
    table: dict[str, Any] = {}
    for path in scenarios():
        if names and path.name not in names and path.name in stored:
            table[path.name] = stored[path.name]
            continue
        entry: dict[str, Any] = {"sha256": scenario_hash(load_scenario(path))}
        if args.engine is not None:
            kept = stored.get(path.name)
            if kept is None or kept["sha256"] != entry["sha256"]:
                parser.error(
                    f"{path.name} changed since its reference was made (or has none): "
                    "re-run both engines (without --engine)"
                )
            entry.update({e: kept[e] for e in ENGINES if e != args.engine})
        for engine in engines:
            print(f"{path.name}: {SEEDS} seeds, {engine} engine …", file=sys.stderr, flush=True)
            entry[engine] = figures(path, engine, SEEDS)
        table[path.name] = entry
    out = {"seeds": SEEDS, "figures": list(FIGURES), "scenarios": table}
    REFERENCE.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {REFERENCE.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
