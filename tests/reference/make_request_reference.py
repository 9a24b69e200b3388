"""Regenerate ``request-engine.json``: the request engine's figures for the agreement test.

The flow engine must agree with the request engine on every catalogue scenario over 30 seeds
(``tests/test_engine_agreement.py``). Running the request engine 90 times costs minutes (the
flash sale alone is ~12 s a run), so its figures are stored here with the scenario hashes
they belong to; the test re-runs one seed per scenario to prove the file is current, and
fails with this command when it is not::

    python -m tests.reference.make_request_reference
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
REFERENCE = HERE / "request-engine.json"
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
    return sorted((ROOT / "scenarios").glob("*.yaml"))


def main() -> int:
    import sim
    from sim.runner import scenario_hash
    from sim.scenario import load_scenario

    out: dict[str, object] = {"seeds": SEEDS, "figures": list(FIGURES), "scenarios": {}}
    table = out["scenarios"]
    assert isinstance(table, dict)
    for path in scenarios():
        print(f"{path.name}: {SEEDS} seeds, request engine …", file=sys.stderr, flush=True)
        df = sim.sweep(path, seeds=SEEDS, engine="request", executor="local")
        rows = df[["seed", *FIGURES]].astype(object).where(df[["seed", *FIGURES]].notna(), None)
        table[path.name] = {
            "sha256": scenario_hash(load_scenario(path)),
            "runs": rows.to_dict(orient="records"),
        }
    REFERENCE.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {REFERENCE.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
