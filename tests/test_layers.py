"""The import graph of ``sim/``: no circles, and no import against the layer order.

The order, lowest first, is written down once more in docs/design.md ("Layers show in the
imports"). Every import counts: at the top of a module, inside a function, and under
``if TYPE_CHECKING:`` — a type-only import upwards is still a dependency upwards.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

from tests.conftest import ROOT

# Lowest first. A module may import its own layer and the layers before it, never a later one.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("scenario", ("sim._version", "sim.atomic", "sim.scenario")),
    ("model", ("sim.model",)),
    ("faults / engine / telemetry", ("sim.faults", "sim.engine", "sim.telemetry")),
    ("response", ("sim.response",)),
    ("simulation", ("sim.simulation",)),
    ("journal and runner", ("sim.journal", "sim.runner")),
    ("scoring", ("sim.scoring",)),
    ("report", ("sim.report",)),
    (
        "drill / sweep / what-if / expectations / plugin / web",
        ("sim.drill", "sim.sweep", "sim.whatif", "sim.expect", "sim.pytest_plugin", "sim.web"),
    ),
    ("cli", ("sim.cli", "sim.__main__")),
    ("public API", ("sim",)),
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, name: str, modules: set[str]) -> set[str]:
    """The modules of ``sim`` that module ``name`` (the file at ``path``) imports, wherever the
    import sits."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                origin = ".".join([*base, *([node.module] if node.module else [])])
            else:
                origin = node.module or ""
            # `from a.b import c` imports the module a.b.c when there is one, else a name of a.b
            for alias in node.names:
                sub = f"{origin}.{alias.name}"
                found.add(sub if sub in modules else origin)
    return {m for m in found if m in modules and m != name}


def import_graph() -> nx.DiGraph:
    files = {module_name(p): p for p in (ROOT / "sim").rglob("*.py")}
    graph = nx.DiGraph()
    graph.add_nodes_from(files)
    for name, path in files.items():
        graph.add_edges_from((name, t) for t in imports_of(path, name, set(files)))
    return graph


def layer_of(module: str) -> int:
    """The index of the layer ``module`` belongs to (the longest matching prefix decides)."""
    best, depth = -1, -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > depth:
                best, depth = i, len(prefix)
    return best


@pytest.fixture(scope="module")
def graph() -> nx.DiGraph:
    return import_graph()


def test_every_module_has_a_layer(graph: nx.DiGraph) -> None:
    """A new sub-package is placed in the order before it can be imported from."""
    assert [m for m in graph if layer_of(m) < 0] == []


def test_no_import_circles(graph: nx.DiGraph) -> None:
    """No module reaches itself through its imports."""
    circles = sorted(sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1)
    assert circles == [], f"import circles: {circles}"


def test_no_import_against_the_layer_order(graph: nx.DiGraph) -> None:
    """Each import goes to the importer's own layer or a lower one."""
    upward = sorted(
        f"{a} ({LAYERS[layer_of(a)][0]}) imports {b} ({LAYERS[layer_of(b)][0]})"
        for a, b in graph.edges
        if layer_of(b) > layer_of(a)
    )
    assert upward == [], "\n".join(upward)


def test_the_checks_see_a_circle_and_an_upward_import(tmp_path: Path) -> None:
    """The graph is built from every kind of import: a planted circle and upward import show."""
    (tmp_path / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from ..scoring import phases\n"
        "def f():\n    from sim.scoring import score\n"
    )
    names = {"sim.scoring", "sim.scoring.phases", "sim.journal.record"}
    found = imports_of(tmp_path / "a.py", "sim.journal.record", names)
    assert found == {"sim.scoring", "sim.scoring.phases"}
    g = nx.DiGraph([("sim.journal.record", "sim.scoring"), ("sim.scoring", "sim.journal.record")])
    assert [c for c in nx.strongly_connected_components(g) if len(c) > 1]
    assert layer_of("sim.journal.record") < layer_of("sim.scoring")


def test_the_order_is_the_one_in_the_design_notes() -> None:
    """docs/design.md lists the same layers, in the same order."""
    text = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    text = text.split("## Layers show in the imports", 1)[1].split("\n## ", 1)[0]
    positions = [text.find(f"`{name}`") for name, _ in LAYERS]
    assert -1 not in positions, [n for (n, _), p in zip(LAYERS, positions, strict=True) if p < 0]
    assert positions == sorted(positions)
