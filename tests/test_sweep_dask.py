"""Dask executors give the table of the serial executor, and clusters are closed afterwards."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import sim
from tests.conftest import SEED_SCENARIO, SWEEP_ENGINE

distributed = pytest.importorskip("dask.distributed")

ENGINE = SWEEP_ENGINE
SWEEP: dict[str, Any] = {
    "vary": {"monitors[endpoint-errors].threshold": [0.02, 0.99]},
    "seeds": [1, 2],
    "responder": "none",
    "engine": ENGINE,
    "horizon": "42m",
}


@pytest.fixture(scope="module")
def serial() -> pd.DataFrame:
    return sim.sweep(SEED_SCENARIO, executor="serial", **SWEEP)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
    ) as running:
        yield running
    assert running.status.name == "closed"


def test_a_client_gives_the_serial_table(serial: pd.DataFrame, cluster: Any) -> None:
    """executor=Client(LocalCluster(2 worker processes)): same rows, same metadata."""
    with distributed.Client(cluster) as client:
        table = sim.sweep(SEED_SCENARIO, executor=client, **SWEEP)
        assert client.status == "running"  # a client we were given is left open
    assert_frame_equal(table, serial)
    assert table.attrs == serial.attrs


def test_a_scheduler_address_gives_the_serial_table(serial: pd.DataFrame, cluster: Any) -> None:
    """executor="tcp://…": the sweep connects, runs, and closes its own client."""
    table = sim.sweep(SEED_SCENARIO, executor=cluster.scheduler_address, **SWEEP)
    assert_frame_equal(table, serial)
    assert table.attrs == serial.attrs


def test_executor_dask_starts_and_closes_its_own_cluster(serial: pd.DataFrame) -> None:
    """executor="dask": a local cluster of `workers` processes, gone when the sweep returns."""
    before = set(multiprocessing.active_children())
    table = sim.sweep(SEED_SCENARIO, executor="dask", workers=2, **SWEEP)
    assert_frame_equal(table, serial)
    assert set(multiprocessing.active_children()) <= before
