"""sim.sweep: one row per run, in order; variants change the figures; summaries; interruption."""

from __future__ import annotations

import math
import multiprocessing
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import sim
from sim.scenario import parse_scenario
from sim.sweep import COLUMN_NAMES, SweepError, SweepInterrupted, summarise
from sim.sweep.outcome import CLOCKED, outcome
from sim.sweep.summary import wilson
from tests.conftest import SEED_SCENARIO, SWEEP_ENGINE

ENGINE = SWEEP_ENGINE
CLOCK_COLUMNS = [f"{name}_clock" for name in CLOCKED]
KEY = "faults.0.remedies.rollback_migration"
# The oracle rolls the migration back at once: with 2 minutes it is over well inside the
# hour; with 20 minutes most runs are still mitigating or unresolved when the hour ends.
SWEEP: dict[str, Any] = {
    "vary": {KEY: ["2m", "20m"]},
    "seeds": [2, 1],
    "responder": "oracle",
    "engine": ENGINE,
    "horizon": "1h",
}


@pytest.fixture(scope="module")
def progress() -> list[tuple[int, int]]:
    return []


@pytest.fixture(scope="module")
def table(progress: list[tuple[int, int]]) -> pd.DataFrame:
    return sim.sweep(
        SEED_SCENARIO,
        executor="serial",
        progress=lambda done, total: progress.append((done, total)),
        **SWEEP,
    )


def test_one_row_per_variant_and_seed_in_order(table: pd.DataFrame) -> None:
    """Rows: variants in the order given, seeds ascending; the key column holds seconds."""
    assert list(table.columns) == ["variant", KEY, "seed", *COLUMN_NAMES, *CLOCK_COLUMNS]
    assert list(table["variant"]) == ["rollback_migration=2m"] * 2 + ["rollback_migration=20m"] * 2
    assert list(table["variant"].cat.categories) == [
        "rollback_migration=2m",
        "rollback_migration=20m",
    ]
    assert list(table["seed"]) == [1, 2, 1, 2]
    assert list(table[KEY]) == [120.0, 120.0, 1200.0, 1200.0]


def test_metadata_names_the_sweep(table: pd.DataFrame) -> None:
    """attrs: scenario and hash, engine, responder, horizon, vary as given, seeds, variants."""
    attrs = table.attrs
    assert attrs["scenario"] == "bad-schema-migration"
    assert len(attrs["sha256"]) == 64
    assert (attrs["engine"], attrs["responder"], attrs["horizon"]) == (ENGINE, "oracle", 3600.0)
    assert attrs["vary"] == {KEY: ["2m", "20m"]}
    assert attrs["seeds"] == [1, 2]
    assert [v["overrides"] for v in attrs["variants"]] == [{KEY: "2m"}, {KEY: "20m"}]
    assert attrs["variants"][0]["sha256"] != attrs["variants"][1]["sha256"]
    assert (attrs["partial"], attrs["runs"], attrs["finished"]) == (False, 4, 4)


def test_a_quicker_remedy_mitigates_sooner_and_costs_less(table: pd.DataFrame) -> None:
    """Per seed, the 2-minute rollback mitigates sooner and loses less revenue than 20 minutes."""
    quick = table[table[KEY] == 120.0].set_index("seed")
    slow = table[table[KEY] == 1200.0].set_index("seed")
    assert quick["resolved"].all()
    assert (quick["time_to_mitigate"] < slow["time_to_mitigate"].fillna(math.inf)).all()
    assert (quick["lost_revenue"] < slow["lost_revenue"]).all()
    assert (quick["score"] > slow["score"]).all()


def test_unresolved_runs_are_nan_and_flagged_never_zero(table: pd.DataFrame) -> None:
    """A run not resolved within the horizon has NaN times and resolved False."""
    slow = table[table[KEY] == 1200.0]
    assert not slow["resolved"].any()
    assert slow["time_to_resolve"].isna().all()
    assert slow["resolved_at"].isna().all()
    assert (table["time_to_resolve"].dropna() > 0).all()
    assert (table["mitigated"] == table["time_to_mitigate"].notna()).all()


def test_a_row_is_the_outcome_of_sim_run(table: pd.DataFrame) -> None:
    """The sweep's row equals sim.run on the same scenario edited by hand, seed 1."""
    text = SEED_SCENARIO.read_text().replace("rollback_migration: 6m", "rollback_migration: 2m")
    journal = sim.run(parse_scenario(text), seed=1, horizon=3600, responder="oracle", engine=ENGINE)
    expected = outcome(journal)
    row = table.iloc[0]
    for name in COLUMN_NAMES:
        if expected[name] is None:
            assert pd.isna(row[name]), name
        else:
            assert row[name] == expected[name], name


def test_progress_counts_runs(progress: list[tuple[int, int]], table: pd.DataFrame) -> None:
    """progress(done, total) from 0 to every run, never going back."""
    assert progress == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]


def test_local_processes_give_the_serial_table(table: pd.DataFrame) -> None:
    """Worker processes and this process give the same table and metadata."""
    local = sim.sweep(SEED_SCENARIO, executor="local", workers=2, **SWEEP)
    assert_frame_equal(local, table)
    assert local.attrs == table.attrs


def test_summary_counts_unresolved_runs_and_ci_contain_estimates(table: pd.DataFrame) -> None:
    """Shares over runs with impact; unresolved runs make the median TTR +inf; CIs bracket."""
    summary = summarise(table)
    assert list(summary["variant"]) == ["rollback_migration=2m", "rollback_migration=20m"]
    assert list(summary[KEY]) == [120.0, 1200.0]
    quick, slow = summary.iloc[0], summary.iloc[1]
    assert (quick["runs"], quick["impact_runs"], quick["resolved_runs"]) == (2, 2, 2)
    assert (slow["resolved_runs"], slow["resolved_share"]) == (0, 0.0)
    assert math.isinf(slow["time_to_resolve_median"])
    assert math.isinf(slow["time_to_resolve_mean"])
    assert quick["time_to_resolve_median"] == table["time_to_resolve"].iloc[:2].min()
    for _, row in summary.iterrows():
        for stem in ("resolved_share", "mitigated_share", "detected_share"):
            assert row[f"{stem}_lo"] <= row[stem] <= row[f"{stem}_hi"]
        for stem in ("time_to_mitigate_median", "time_to_resolve_mean", "lost_revenue_median"):
            assert row[f"{stem}_lo"] <= row[stem] <= row[f"{stem}_hi"]
    assert_frame_equal(summarise(table), summary)


def frame(times: list[float | None], impact: list[bool] | None = None) -> pd.DataFrame:
    n = len(times)
    data: dict[str, Any] = {
        "variant": ["v"] * n,
        "had_impact": impact or [True] * n,
        **{c: [t is not None for t in times] for c in ("detected", "mitigated", "resolved")},
        **{
            c: [math.nan if t is None else t for t in times]
            for c in ("time_to_detect", "time_to_mitigate", "time_to_resolve")
        },
        "failed_checkouts": [10.0] * n,
        "lost_revenue": [100.0] * n,
        "score": [50.0] * n,
    }
    return pd.DataFrame(data)


@pytest.mark.parametrize(
    ("times", "median"),
    [
        ([60.0, 120.0, None, None], 120.0),  # half resolved: the lower median is finite
        ([60.0, None, None], math.inf),  # more than half unresolved
        ([60.0, 120.0, 180.0], 120.0),
    ],
)
def test_median_rule_for_unresolved_runs(times: list[float | None], median: float) -> None:
    """Unresolved counts as +inf; the median is the lower median; the mean is +inf if any is."""
    row = summarise(frame(times)).iloc[0]
    assert row["time_to_resolve_median"] == median
    assert math.isinf(row["time_to_resolve_mean"]) == (None in times)


def test_runs_without_impact_are_counted_but_not_in_shares() -> None:
    """Shares and times are over runs with impact; runs counts them all."""
    row = summarise(frame([60.0, None, None], impact=[True, False, False])).iloc[0]
    assert (row["runs"], row["impact_runs"], row["resolved_share"]) == (3, 1, 1.0)
    assert row["time_to_resolve_median"] == 60.0


def test_wilson_interval_known_values() -> None:
    """The Wilson score interval at 95 %, against published values."""
    assert wilson(0, 10)[1:] == pytest.approx((0.0, 0.27753), abs=1e-5)
    assert wilson(5, 10)[1:] == pytest.approx((0.23659, 0.76341), abs=1e-5)
    assert all(math.isnan(x) for x in wilson(0, 0))


def test_bootstrap_is_seeded_and_brackets_the_median() -> None:
    """The same table gives the same intervals; another seed, other (valid) ones."""
    rng = np.random.default_rng(5)
    df = frame(list(rng.uniform(60, 3600, 40)))
    a, b = summarise(df), summarise(df)
    assert_frame_equal(a, b)
    c = summarise(df, seed=1).iloc[0]
    assert c["time_to_resolve_median_lo"] <= c["time_to_resolve_median"]
    assert c["time_to_resolve_median"] <= c["time_to_resolve_median_hi"]
    assert a.iloc[0]["time_to_resolve_median_lo"] < a.iloc[0]["time_to_resolve_median_hi"]


@pytest.mark.parametrize("executor", ["serial", "local"])
def test_ctrl_c_keeps_the_finished_runs(executor: str) -> None:
    """Ctrl-C after the first finished run raises SweepInterrupted with that row, marked partial."""

    def interrupt(done: int, total: int) -> None:
        if done >= 1:
            raise KeyboardInterrupt

    with pytest.raises(SweepInterrupted) as caught:
        sim.sweep(SEED_SCENARIO, executor=executor, workers=2, progress=interrupt, **SWEEP)
    partial = caught.value.frame
    assert len(partial) == 1
    assert caught.value.total == 4
    assert partial.attrs["partial"] is True
    assert list(partial.columns) == ["variant", KEY, "seed", *COLUMN_NAMES, *CLOCK_COLUMNS]
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"vary": {KEY: "2m"}}, f"vary {KEY}: expected a list of values, got '2m'"),
        ({"vary": {KEY: []}}, "expected at least one value"),
        ({"vary": {KEY: ["2m", "2m"]}}, "each value once, got 2m twice"),
        ({"seeds": [1, 1]}, "seeds: each seed once, got 1 twice"),
        ({"vary": {"seed": [1, 2]}}, "vary seed: the seeds are the sweep's other axis"),
        ({"seeds": [-1]}, "seeds: expected whole numbers of 0 or more, got -1"),
        ({"engine": "fast"}, "engine: expected one of request, flow, got 'fast'"),
        ({"responder": "nobody"}, "no responder named 'nobody'"),
        ({"executor": "dsk"}, "did you mean 'dask'?"),
        ({"horizon": "soon"}, "horizon: expected a duration"),
        (
            {"responder": "oracle", "vary": {"response.responder": ["seed"]}},
            "give responder= or vary response.responder, not both",
        ),
    ],
)
def test_bad_sweeps_fail_before_any_run(kwargs: dict[str, Any], message: str) -> None:
    """Definition errors are SweepErrors raised before the first run (no progress call)."""
    calls: list[int] = []
    args = {"seeds": [1], "engine": ENGINE, "horizon": "45m", "executor": "serial"} | kwargs
    with pytest.raises(SweepError) as caught:
        sim.sweep(SEED_SCENARIO, progress=lambda d, t: calls.append(d), **args)
    assert message in str(caught.value)
    assert calls in ([], [0])


def test_catalogue_names_and_scenarios_are_accepted(seed_scenario: Any) -> None:
    """A scenario name, a path and a Scenario make the same sweep."""
    kw = {"seeds": [3], "engine": ENGINE, "horizon": "41m", "executor": "serial"}
    by_name = sim.sweep("bad-schema-migration", responder="none", **kw)
    by_object = sim.sweep(seed_scenario, responder="none", **kw)
    assert by_name.attrs["path"] is not None
    assert by_object.attrs["path"] is None
    assert by_name.attrs["sha256"] == by_object.attrs["sha256"]
    assert_frame_equal(by_name, by_object)
    assert list(by_name["variant"]) == ["base"]


def test_numpy_values_are_plain_numbers(seed_scenario: Any) -> None:
    """np.array / np.linspace values label and record as the numbers they hold."""
    from sim.sweep.api import SweepWarning

    with pytest.warns(SweepWarning, match="threshold=0.02 and threshold=0.5") as caught:
        df = sim.sweep(
            seed_scenario,
            vary={"monitors[endpoint-errors].threshold": np.array([0.02, 0.5])},
            seeds=1,
            responder="none",
            engine=ENGINE,
            horizon="41m",
            executor="serial",
        )
    assert caught[0].filename == __file__  # the warning points at the caller's line
    assert list(df["variant"]) == ["threshold=0.02", "threshold=0.5"]
    assert df.attrs["vary"] == {"monitors[endpoint-errors].threshold": [0.02, 0.5]}
    assert type(df.attrs["vary"]["monitors[endpoint-errors].threshold"][0]) is float


def test_variants_that_make_no_difference_are_named(
    seed_scenario: Any, table: pd.DataFrame
) -> None:
    """Nobody rolls the migration back, so how long a rollback would take cannot matter: the
    two variants are identical on every seed, and the sweep says so (the seed sweep's
    variants differ, and it says nothing)."""
    from sim.sweep.api import SweepWarning

    with pytest.warns(SweepWarning, match="identical results on each of the 2 seeds"):
        df = sim.sweep(
            seed_scenario,
            vary={KEY: ["2m", "20m"]},
            seeds=2,
            responder="none",
            engine=ENGINE,
            horizon="41m",
            executor="serial",
        )
    assert df.attrs["identical"] == [["rollback_migration=2m", "rollback_migration=20m"]]
    assert table.attrs["identical"] == []


def test_a_list_valued_key_is_swept_and_plotted(tmp_path: Any) -> None:
    """A rollout's stages — a list — as what varies: the rows keep the lists, and the
    sensitivity plot draws them as categories (it raised "unhashable type: 'list'")."""
    from sim.sweep.plots import plot_sensitivity

    key = "changes[cfg-waf-rules-0324].rollout.stages"
    df = sim.sweep(
        "config-push-exhausts-cpu",
        vary={key: [[1.0], [0.1, 1.0]]},
        seeds=[1],
        responder="none",
        horizon="40m",
        executor="serial",
    )
    assert [list(v) for v in df[key]] == [[1.0], [0.1, 1.0]]
    path = plot_sensitivity(summarise(df), tmp_path / "sensitivity.png")
    assert path.read_bytes().startswith(b"\x89PNG")
