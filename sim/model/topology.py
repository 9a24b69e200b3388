"""The shop as a dependency graph: one class owns the networkx graph and answers questions of it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import networkx as nx

from sim.scenario.schema import Call, Component, Dependency, Endpoint, Scenario


def as_call(node: Call | str) -> Call:
    """Call trees allow a bare component name for a leaf; normalise it to a :class:`Call`."""
    return node if isinstance(node, Call) else Call(component=node)


@dataclass(frozen=True)
class BlastRadius:
    """What depends on a component: callers, endpoints that fail or degrade, funnel steps hit."""

    component: str
    callers: frozenset[str]
    failing_endpoints: tuple[str, ...]
    degraded_endpoints: tuple[str, ...]
    failing_steps: tuple[str, ...]


class Topology:
    """Components and dependencies as a ``networkx.DiGraph`` (caller → callee), plus endpoints.

    The graph is built once from the scenario and never changes shape; component *state* lives
    in :mod:`sim.model.state`.
    """

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.graph: nx.DiGraph = nx.DiGraph()
        for name, comp in scenario.components.items():
            self.graph.add_node(name, spec=comp, kind=comp.kind)
        for dep in scenario.dependencies:
            self.graph.add_edge(dep.caller, dep.callee, spec=dep)
        self.endpoints: dict[str, Endpoint] = dict(scenario.endpoints)

    # -- lookups -------------------------------------------------------------------------
    def component(self, name: str) -> Component:
        spec: Component = self.graph.nodes[name]["spec"]
        return spec

    def dependency(self, caller: str, callee: str) -> Dependency:
        spec: Dependency = self.graph.edges[caller, callee]["spec"]
        return spec

    @property
    def components(self) -> list[str]:
        return list(self.graph.nodes)

    def walk(self, endpoint: str) -> Iterator[tuple[tuple[str, ...], Call]]:
        """Every call of an endpoint's tree with its path of component names from the root."""
        stack: list[tuple[tuple[str, ...], Call]] = [
            ((self.endpoints[endpoint].call.component,), self.endpoints[endpoint].call)
        ]
        while stack:
            path, call = stack.pop()
            yield path, call
            for child in reversed(call.calls):
                node = as_call(child)
                stack.append(((*path, node.component), node))

    def call_tree(self, endpoint: str) -> nx.DiGraph:
        """The endpoint's call tree as a DAG whose nodes are call paths (a component may recur)."""
        tree = nx.DiGraph()
        for path, call in self.walk(endpoint):
            mean = self.component(call.component).service_time.mean
            tree.add_node(path, component=call.component, mean=mean, tables=call.tables)
            if len(path) > 1:
                required = self.dependency(path[-2], path[-1]).required
                tree.add_edge(path[:-1], path, weight=mean, required=required)
        return tree

    # -- analysis ------------------------------------------------------------------------
    def blast_radius(self, component: str) -> BlastRadius:
        """Which callers, endpoints and funnel steps depend on ``component``.

        An endpoint *fails* when a chain of required calls leads from its root to the
        component, and *degrades* when the only chains pass an optional dependency.
        """
        failing: list[str] = []
        degraded: list[str] = []
        for name in self.endpoints:
            tree = self.call_tree(name)
            hits = [n for n, data in tree.nodes(data=True) if data["component"] == component]
            if not hits:
                continue
            required_only = tree.edge_subgraph(
                [(a, b) for a, b, req in tree.edges(data="required") if req]
            )
            root = next(iter(nx.topological_sort(tree)))
            reachable = {root} | (
                nx.descendants(required_only, root) if root in required_only else set()
            )
            (failing if any(h in reachable for h in hits) else degraded).append(name)
        steps = tuple(s.step for s in self.scenario.traffic.funnel if s.endpoint in failing)
        return BlastRadius(
            component=component,
            callers=frozenset(nx.ancestors(self.graph, component)),
            failing_endpoints=tuple(sorted(failing)),
            degraded_endpoints=tuple(sorted(degraded)),
            failing_steps=steps,
        )

    def single_points_of_failure(self) -> list[str]:
        """Components with one replica whose loss makes at least one endpoint fail."""
        return sorted(
            name
            for name in self.graph.nodes
            if self.component(name).replicas == 1 and self.blast_radius(name).failing_endpoints
        )

    def critical_path(self, endpoint: str) -> list[str]:
        """The chain of calls with the largest expected service time, root to leaf."""
        tree = self.call_tree(endpoint)
        root = next(iter(nx.topological_sort(tree)))
        # Longest root-to-leaf path by the callee's mean service time (root's own time is shared).
        path = nx.dag_longest_path(tree, weight="weight", default_weight=0)
        if not path or path[0] != root:
            path = [root]
        return [tree.nodes[p]["component"] for p in path]

    def layers(self) -> dict[str, int]:
        """A depth per component (longest chain of callers above it), for drawing."""
        depth: dict[str, int] = {}
        for name in nx.topological_sort(self.graph):
            preds = list(self.graph.predecessors(name))
            depth[name] = 1 + max((depth[p] for p in preds), default=-1)
        return depth
