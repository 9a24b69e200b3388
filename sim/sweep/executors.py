"""Where a sweep's runs happen: in this process, in local worker processes, or on Dask.

The runs are cut into chunks (one variant, a few seeds each) so that a thousand short runs
do not pay a task's overhead a thousand times. A chunk carries its variant's scenario as a
JSON document; each worker process parses a document once and keeps it for the next chunk.
Whatever the executor, a run's row depends only on (document, seed, responder, horizon,
engine), and the caller sorts the rows: the table is the same everywhere.
"""

from __future__ import annotations

import importlib
import json
import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sim.sweep.errors import SweepError

if TYPE_CHECKING:
    from sim.scenario.schema import Scenario

Row = dict[str, Any]
OnRows = Callable[[list[Row]], None]
Plan = Callable[[int], list["Chunk"]]  # parallel slots → the chunks to run

MAX_CHUNK = 32  # runs per task at most: bounds what an interruption loses
CHUNKS_PER_WORKER = 4  # enough tasks to keep every worker busy to the end
NAMED = ("local", "serial", "dask")


@dataclass(frozen=True)
class Chunk:
    """Some seeds of one variant, with everything a worker needs to run them."""

    variant: int
    label: str
    document: str
    seeds: tuple[int, ...]
    responder: str | None
    horizon: float | None
    engine: str


def chunk_size(runs: int, workers: int) -> int:
    """Runs per chunk: about :data:`CHUNKS_PER_WORKER` chunks a worker, at most :data:`MAX_CHUNK`."""
    return max(1, min(MAX_CHUNK, math.ceil(runs / (max(1, workers) * CHUNKS_PER_WORKER))))


def split(
    variants: Sequence[tuple[str, str]],
    seeds: Sequence[int],
    size: int,
    responder: str | None,
    horizon: float | None,
    engine: str,
) -> list[Chunk]:
    """Every (variant, seed) run exactly once, ``size`` seeds of one variant per chunk."""
    return [
        Chunk(i, label, document, tuple(seeds[k : k + size]), responder, horizon, engine)
        for i, (label, document) in enumerate(variants)
        for k in range(0, len(seeds), size)
    ]


@lru_cache(maxsize=16)
def _scenario(document: str) -> Scenario:
    """A variant's scenario, parsed once per process (documents were validated by the caller)."""
    from sim.scenario.schema import Scenario

    return Scenario.model_validate(json.loads(document))


def run_one(chunk: Chunk, seed: int) -> Row:
    """One run's outcome row, with its variant index and seed."""
    from sim.runner import run
    from sim.sweep.outcome import outcome

    try:
        journal = run(
            _scenario(chunk.document),
            seed,
            horizon=chunk.horizon,
            responder=chunk.responder,
            engine=chunk.engine,
            compact=True,  # the outcome reads no metric rows or log lines
        )
    except Exception as exc:
        raise SweepError(
            f"the run of variant {chunk.label!r} with seed {seed} failed: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    return {"variant": chunk.variant, "seed": seed, **outcome(journal)}


def run_chunk(chunk: Chunk) -> list[Row]:
    """The rows of every run of ``chunk`` (what a worker process or a Dask worker executes)."""
    return [run_one(chunk, seed) for seed in chunk.seeds]


def describe(executor: object) -> str:
    """A short name for messages: ``local``, ``serial``, ``dask``, an address, a class name."""
    if executor is None:
        return "local"
    if isinstance(executor, str):
        return executor
    return type(executor).__name__


def execute(plan: Plan, executor: object, workers: int | None, on_rows: OnRows) -> None:
    """Run every chunk of ``plan``, calling ``on_rows`` in this process as each finishes.

    ``plan(slots)`` cuts the runs into chunks for ``slots`` parallel workers: the worker
    processes here, or the threads of every worker of a Dask cluster.

    ``executor``: ``None`` or ``"local"`` (worker processes, ``workers`` of them, default one
    per core), ``"serial"`` (this process, one run at a time), ``"dask"`` (a local Dask
    cluster of ``workers`` processes), a scheduler address (``"tcp://host:8786"``), a
    ``dask.distributed.Client``, or any :class:`concurrent.futures.Executor`.
    On Ctrl-C or a failed run the remaining work is cancelled and the exception propagates;
    rows already passed to ``on_rows`` stay the caller's.
    """
    local = workers or os.cpu_count() or 1
    if executor is None or executor == "local":
        _local(plan(local), local, on_rows)
    elif executor == "serial":
        for chunk in plan(1):
            for seed in chunk.seeds:
                on_rows([run_one(chunk, seed)])
    elif isinstance(executor, Executor):
        _futures(executor, plan(local), on_rows)
    elif executor == "dask" or (isinstance(executor, str) and "://" in executor):
        _dask(plan, executor, workers, on_rows)
    elif isinstance(executor, str):
        from sim.scenario.messages import did_you_mean

        raise SweepError(
            f"executor {executor!r}: expected one of {', '.join(NAMED)} or a Dask scheduler "
            f"address such as tcp://127.0.0.1:8786{did_you_mean(executor, list(NAMED))}"
        )
    elif type(executor).__module__.split(".")[0] == "distributed":
        _dask(plan, executor, workers, on_rows)
    else:
        raise SweepError(
            f"executor: expected local, serial, dask, a scheduler address, a "
            f"dask.distributed.Client or a concurrent.futures.Executor, got "
            f"{type(executor).__name__}"
        )


def _local(chunks: Sequence[Chunk], workers: int, on_rows: OnRows) -> None:
    from sim.runner import worker_pool

    with worker_pool(max(1, min(workers, len(chunks)))) as pool:
        _futures(pool, chunks, on_rows)


def _futures(pool: Executor, chunks: Sequence[Chunk], on_rows: OnRows) -> None:
    futures: list[Future[list[Row]]] = [pool.submit(run_chunk, chunk) for chunk in chunks]
    try:
        for future in as_completed(futures):
            on_rows(future.result())
    except BaseException:
        for future in futures:
            future.cancel()
        raise


def _dask(plan: Plan, executor: object, workers: int | None, on_rows: OnRows) -> None:
    try:
        # Imported as a plain module object: dask is optional and only partly typed.
        distributed: Any = importlib.import_module("dask.distributed")
    except ImportError:
        raise SweepError(
            f"executor {describe(executor)}: Dask is not installed; "
            "pip install 'chaosdrill[dask]' (dask[distributed])"
        ) from None
    owned: list[Any] = []
    try:
        if isinstance(executor, distributed.Client):
            client = executor
        elif executor == "dask":
            cluster = distributed.LocalCluster(
                n_workers=workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            owned.append(cluster)
            client = distributed.Client(cluster)
            owned.append(client)
        else:
            try:
                client = distributed.Client(str(executor), timeout="20s")
            except (OSError, TimeoutError) as exc:
                raise SweepError(
                    f"executor {executor}: cannot reach the Dask scheduler: {exc}"
                ) from None
            owned.append(client)
        slots = sum(client.nthreads().values()) or workers or 1
        futures = client.map(run_chunk, plan(slots), pure=False)
        try:
            for future in distributed.as_completed(futures):
                on_rows(future.result())
        except BaseException:
            client.cancel(futures)
            raise
    finally:
        for thing in reversed(owned):
            thing.close()
