"""The what-if helpers: named variants, the per-endpoint breakdown, the summaries and the plots."""

from __future__ import annotations

import math
import subprocess
import sys
from typing import Any

import pandas as pd
import pytest

import sim
from sim.scenario import Scenario
from sim.sweep.outcome import CLOCKED, COLUMN_NAMES
from sim.telemetry.monitors import default_monitors
from sim.whatif import (
    false_pages,
    monitors_with,
    plot_endpoint_outcomes,
    plot_outcomes,
    plot_resolve_ecdf,
    plot_threshold_tradeoff,
    sweep_endpoints,
    sweep_variants,
    variant_scenario,
)
from tests.conftest import SWEEP_ENGINE

SHORT: dict[str, Any] = {"responder": "none", "horizon": "45m", "engine": SWEEP_ENGINE}
VARIANTS: dict[str, dict[str, Any]] = {
    "breaking": {},
    "nothing breaks": {"faults": []},
    "a tenth": {"faults.0.share": 0.1},
}


@pytest.fixture(scope="module")
def named(seed_scenario: Scenario) -> pd.DataFrame:
    return sweep_variants(seed_scenario, VARIANTS, seeds=[1, 2], executor="serial", **SHORT)


def test_import_whatif_stays_cheap() -> None:
    """Importing sim.whatif loads neither pandas nor matplotlib."""
    code = (
        "import sys, sim.whatif; print([m for m in ('pandas', 'matplotlib') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_sweep_variants_names_each_variant_in_order(named: pd.DataFrame) -> None:
    """The variant column holds the names, ordered as given, each with every seed."""
    assert list(named["variant"].cat.categories) == list(VARIANTS)
    assert named["variant"].cat.ordered
    assert list(named.columns) == [
        "variant",
        "seed",
        *COLUMN_NAMES,
        *(f"{name}_clock" for name in CLOCKED),
    ]
    assert named.groupby("variant", observed=True)["seed"].apply(list).tolist() == [[1, 2]] * 3
    assert [v["label"] for v in named.attrs["variants"]] == list(VARIANTS)
    assert named.attrs["variants"][2]["overrides"] == {"faults.0.share": 0.1}
    assert named.attrs["vary"] == {}
    assert named.attrs["horizon"] == 2700.0


def test_sweep_variants_rows_are_the_sweeps_rows(
    seed_scenario: Scenario, named: pd.DataFrame
) -> None:
    """A named variant's rows equal those of sim.sweep run with the same overrides."""
    alone = sim.sweep(
        seed_scenario, vary={"faults.0.share": [0.1]}, seeds=[1, 2], executor="serial", **SHORT
    )
    mine = named[named["variant"] == "a tenth"].reset_index(drop=True)
    columns = ["seed", *COLUMN_NAMES]
    pd.testing.assert_frame_equal(mine[columns], alone[columns])


def test_sweep_endpoints_gives_the_same_runs_and_their_endpoints(
    seed_scenario: Scenario, named: pd.DataFrame
) -> None:
    """The breakdown's runs table is sweep_variants' table; its endpoints add up to its totals."""
    runs, endpoints = sweep_endpoints(seed_scenario, VARIANTS, seeds=[1, 2], workers=2, **SHORT)
    pd.testing.assert_frame_equal(runs, named)
    assert runs.attrs["variants"] == named.attrs["variants"]
    totals = endpoints.groupby(["variant", "seed"], observed=True)[["requests", "failed"]].sum()
    assert totals["failed"].tolist() == runs["failed_requests"].tolist()
    assert totals["requests"].tolist() == runs["requests"].tolist()
    login = endpoints[(endpoints["variant"] == "breaking") & (endpoints["endpoint"] == "login")]
    assert (login["error_ratio"] > 0.1).all()  # 5 of the 45 minutes: every login fails
    assert not endpoints.loc[endpoints["variant"] == "nothing breaks", "failed"].any()


def test_variant_scenario_and_monitors_with(seed_scenario: Scenario) -> None:
    """One variant as a scenario; an alert added to the default set keeps the default rules."""
    extra = {"name": "canary-errors", "kind": "error_ratio", "threshold": 0.01, "for": "0s"}
    changed = variant_scenario(
        seed_scenario,
        {"faults.0.share": 0.05, "monitors": monitors_with(seed_scenario, extra)},
    )
    assert changed.faults[0].share == 0.05  # type: ignore[union-attr]
    names = [m.name for m in changed.monitors or ()]
    assert names[0] == "endpoint-errors"
    assert names[-1] == "canary-errors"
    assert names[1:-1] == [m.name for m in default_monitors(seed_scenario)][1:]
    assert changed.monitors is not None
    assert changed.monitors[-1].for_ == 0.0
    assert seed_scenario.monitors is None  # the scenario itself is untouched


def test_false_pages_counts_paged_runs_and_alerts_per_hour() -> None:
    """Shares of paged runs with a Wilson interval; alerts per hour of run."""
    df = pd.DataFrame(
        {
            "variant": ["a"] * 4 + ["b"] * 4,
            "pages": [0, 1, 0, 2, 0, 0, 0, 0],
            "critical_alerts": [0, 3, 1, 4, 0, 0, 0, 0],
        }
    )
    df.attrs.update({"horizon": 1800.0})
    out = false_pages(df).set_index("variant")
    assert out.at["a", "paged_runs"] == 2
    assert out.at["a", "paged_share"] == 0.5
    assert 0 < out.at["a", "paged_share_lo"] < 0.5 < out.at["a", "paged_share_hi"] < 1
    assert out.at["a", "alerts_per_hour"] == pytest.approx(4.0)  # 8 alerts in 4 half-hours
    assert out.at["a", "pages_per_hour"] == pytest.approx(1.5)
    assert out.at["b", "paged_share"] == 0
    assert out.at["b", "paged_share_hi"] > 0
    assert out.at["b", "alerts_per_hour_hi"] == 0


def test_plot_outcomes_says_when_nothing_happened(named: pd.DataFrame) -> None:
    """One panel per column; a variant without impact has nothing to time, not a zero."""
    fig = plot_outcomes(named, ["time_to_detect", "lost_revenue"], question="What if?")
    assert len(fig.axes) == 2
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any("no user-facing impact" in t for t in texts)
    assert "What if?" in fig.texts[0].get_text() or "What if?" in fig._suptitle.get_text()
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == list(reversed(VARIANTS))


def test_resolve_ecdf_never_reaches_the_top_for_unresolved_runs(named: pd.DataFrame) -> None:
    """Nobody responds, so no run is resolved: every curve with impact stays at 0 %."""
    fig = plot_resolve_ecdf(named, question="Who resolves?")
    ax = fig.axes[0]
    curves = [
        line for line in ax.lines if str(line.get_label()).startswith(("breaking", "a tenth"))
    ]
    assert len(curves) == 2
    assert all(float(line.get_ydata()[-1]) == 0.0 for line in curves)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "breaking: 0/2 resolved" in legend
    assert "nothing breaks: no run with impact" in legend


def test_threshold_tradeoff_draws_detection_and_false_pages(seed_scenario: Scenario) -> None:
    """Three panels: time to detect per threshold, false pages and false alerts when healthy."""
    key = "monitors[endpoint-errors].threshold"
    detection = sim.sweep(
        seed_scenario,
        vary={"faults.0.share": [1.0], key: [0.02, 0.1]},
        seeds=[1, 2],
        executor="serial",
        **SHORT,
    )
    from sim.sweep.api import SweepWarning

    # ten healthy minutes with a trickle of errors (0.3 %, well under either threshold: at
    # 0.5 % an unlucky window can cross 2 %): neither is crossed, and the sweep says so
    with pytest.warns(SweepWarning, match="identical results"):
        baseline = sim.sweep(
            seed_scenario,
            vary={"faults": [[]], "components.web.error_rate": [0.003], key: [0.02, 0.1]},
            seeds=[1, 2],
            executor="serial",
            responder="none",
            horizon="10m",
            engine=SWEEP_ENGINE,
        )
    fig = plot_threshold_tradeoff(
        detection,
        baseline,
        key,
        lines="faults.0.share",
        noise="components.web.error_rate",
        question="Sooner, at what cost?",
        line_labels={1.0: "full break"},
    )
    assert len(fig.axes) == 3
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["2 %", "10 %"]
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["full break"]
    detected = fig.axes[0].lines[0].get_ydata()
    assert all(0 < float(y) < 5 for y in detected)  # minutes: the full break pages at once
    assert not math.isnan(float(fig.axes[1].lines[0].get_ydata()[0]))


def test_endpoint_outcomes_puts_an_endpoint_apart(seed_scenario: Scenario) -> None:
    """The endpoint set apart gets its own panel; the others share the next one."""
    runs, endpoints = sweep_endpoints(
        seed_scenario, {"breaking": {}, "a tenth": {"faults.0.share": 0.1}}, seeds=[1], **SHORT
    )
    fig = plot_endpoint_outcomes(runs, endpoints, apart=["login"], question="Where?")
    assert len(fig.axes) == 4
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["login"]
    assert "login" not in [t.get_text() for t in fig.axes[1].get_xticklabels()]
    assert [t.get_text() for t in fig.axes[1].get_legend().get_texts()] == ["breaking", "a tenth"]
