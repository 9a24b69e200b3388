"""Every notebook in notebooks/ is committed without outputs and runs top to bottom.

The suite runs each notebook with smaller parameters than its own: the notebook's cell tagged
``parameters`` keeps the real ones, and the test inserts a cell after it with those below (as
papermill does), so the claims the notebook checks at its end are checked on fewer seeds.
"""

from __future__ import annotations

from pathlib import Path

import nbclient
import nbformat
import pytest

from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
WHATIF = (
    "alert-threshold",
    "runbook-order",
    "migration-strategy",
    "retry-surge",
    "upgrade-statistics",
)
# What the suite runs each notebook with, after its own parameters cell.
QUICK = {
    "alert-threshold": "SEEDS = range(1, 2)",
    "migration-strategy": "SEEDS = range(1, 2)",
    "runbook-order": "SEEDS = range(1, 2)",
    "retry-surge": "SEEDS = [1]\nPOLICY_NAMES = ['no retries', 'as is: web→search 1 retry']\nHORIZON = 45 * 60",
    "seed-incident": "DELAY_SEEDS = range(1, 3)",
    "upgrade-statistics": "SEEDS = range(1, 2)",
}


def with_quick_parameters(notebook: nbformat.NotebookNode, source: str) -> None:
    """Insert a cell of ``source`` right after the notebook's ``parameters`` cell."""
    tagged = [i for i, c in enumerate(notebook.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "a notebook needs exactly one cell tagged 'parameters'"
    cell = nbformat.v4.new_code_cell("# injected by tests/test_notebooks.py\n" + source)
    notebook.cells.insert(tagged[0] + 1, cell)


def test_there_are_the_notebooks() -> None:
    """The project ships the seed-incident notebook and the five what-if notebooks."""
    assert {p.stem for p in NOTEBOOKS} >= {"seed-incident", *WHATIF}


def test_the_readme_lists_every_notebook() -> None:
    """notebooks/README.md names every notebook in the folder."""
    readme = (ROOT / "notebooks" / "README.md").read_text(encoding="utf-8")
    assert [p.name for p in NOTEBOOKS if p.name not in readme] == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    """A commit-ready notebook has no outputs and no execution counts (strip them before committing)."""
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    dirty = [
        i
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert dirty == [], f"{path.name}: cells {dirty} have outputs or an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_has_its_parameters_in_one_cell(path: Path) -> None:
    """Each notebook tags one cell ``parameters`` and the suite knows its smaller ones."""
    notebook = nbformat.read(path, as_version=4)
    tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    names = {line.split("=")[0].strip() for line in QUICK[path.stem].splitlines()}
    assert all(f"{name} =" in tagged[0].source for name in names)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path) -> None:
    """The notebook executes in a fresh kernel, from the notebooks folder, with no error, and draws."""
    notebook = nbformat.read(path, as_version=4)
    with_quick_parameters(notebook, QUICK[path.stem])
    client = nbclient.NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, f"{path.name} drew no picture"
