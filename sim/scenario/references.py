"""Pass two: the sections of a well-shaped scenario must agree with one another."""

from __future__ import annotations

from collections.abc import Iterator

from sim.scenario.errors import PathPart
from sim.scenario.limits import MAX_CHAIN
from sim.scenario.messages import did_you_mean
from sim.scenario.schema import (
    CHANGE_ACTIONS,
    LEADS,
    ROLLBACK_OF,
    Call,
    Fault,
    RegionOutageFault,
    Runbook,
    Scenario,
    SchemaMigrationFault,
)
from sim.scenario.vocabulary import responder_names

Finding = tuple[tuple[PathPart, ...], str]


def _unknown(kind: str, name: str, known: list[str]) -> str:
    if not known:
        return f"no {kind} named {name!r} (there is none)"
    listing = ", ".join(sorted(known)) if len(known) <= 12 else f"{len(known)} names"
    return f"no {kind} named {name!r}{did_you_mean(name, known)} (known: {listing})"


def check_references(s: Scenario) -> Iterator[Finding]:
    """Yield ``(path, message)`` for every cross-reference that does not hold."""
    comps = list(s.components)
    declared: set[tuple[str, str]] = set()
    for i, dep in enumerate(s.dependencies):
        for end in ("caller", "callee"):
            name = getattr(dep, end)
            if name not in s.components:
                yield ("dependencies", i, end), _unknown("component", name, comps)
        if dep.caller == dep.callee:
            yield (
                ("dependencies", i, "callee"),
                f"a component cannot depend on itself ({dep.caller!r})",
            )
        if (dep.caller, dep.callee) in declared:
            yield ("dependencies", i), f"dependency {dep.caller} → {dep.callee} is declared twice"
        declared.add((dep.caller, dep.callee))

    import networkx as nx  # lazily: `import sim` stays cheap for the pytest plugin

    graph = nx.DiGraph()
    for i, dep in enumerate(s.dependencies):
        if dep.caller == dep.callee:
            continue  # already reported as a self-dependency
        if (
            graph.has_node(dep.callee)
            and graph.has_node(dep.caller)
            and nx.has_path(graph, dep.callee, dep.caller)
        ):
            loop = " → ".join([dep.caller, *nx.shortest_path(graph, dep.callee, dep.caller)])
            yield ("dependencies", i), f"dependency cycle: {loop}; dependencies must form a DAG"
            break
        graph.add_edge(dep.caller, dep.callee)
    else:
        chain = nx.dag_longest_path(graph)
        if len(chain) > MAX_CHAIN:
            last = next(
                i
                for i, dep in enumerate(s.dependencies)
                if (dep.caller, dep.callee) == (chain[-2], chain[-1])
            )
            yield (
                ("dependencies", last),
                f"expected dependency chains (and so call trees) of at most {MAX_CHAIN} components, "
                f"got one of "
                f"{len(chain)}: {chain[0]} → … → {chain[-1]}",
            )

    for name, endpoint in s.endpoints.items():
        yield from _check_call(s, endpoint.call, ("endpoints", name, "call"), None, declared)

    known_endpoints = list(s.endpoints)
    steps: set[str] = set()
    for i, step in enumerate(s.traffic.funnel):
        if step.endpoint not in s.endpoints:
            yield (
                ("traffic", "funnel", i, "endpoint"),
                _unknown("endpoint", step.endpoint, known_endpoints),
            )
        if step.step in steps:
            yield (
                ("traffic", "funnel", i, "step"),
                f"step {step.step!r} appears twice in the funnel",
            )
        steps.add(step.step)
    for i, surge in enumerate(s.traffic.surges):
        if surge.start >= s.horizon:
            yield (
                ("traffic", "surges", i, "start"),
                "starts at or after the horizon, so it never happens",
            )

    changes = {c.id: c for c in s.changes}
    if len(changes) != len(s.changes):
        yield from _duplicates(("changes",), [c.id for c in s.changes], "change id")
    for i, change in enumerate(s.changes):
        for j, comp in enumerate(change.components):
            if comp not in s.components:
                yield ("changes", i, "components", j), _unknown("component", comp, comps)
        if change.kind == "migration" and not change.statements:
            yield ("changes", i, "statements"), "a migration lists the SQL statements it runs"
        if change.lock_timeout is not None and change.kind != "migration":
            yield (
                ("changes", i, "lock_timeout"),
                f"only a migration waits for locks; {change.id!r} is a {change.kind}",
            )

    yield from _duplicates(("faults",), [f.id for f in s.faults], "fault id")
    named = [f.incident for f in s.faults if f.incident is not None]
    if named and len(named) < len(s.faults):
        for i, fault in enumerate(s.faults):
            if fault.incident is None:
                yield (
                    ("faults", i, "incident"),
                    f"fault {fault.id!r} names no incident while others do "
                    f"({', '.join(sorted(set(named)))}): name the incident of every fault",
                )
    for i, fault in enumerate(s.faults):
        yield from _check_fault(s, fault, ("faults", i), comps)

    yield from _check_data(s)
    for i, action in enumerate(s.actions):
        yield from _check_target(s, action.action, action.target, ("actions", i, "target"), comps)
        if action.at >= s.horizon:
            yield ("actions", i, "at"), "is at or after the horizon, so it never happens"
    yield from _check_consequences(s, comps)
    yield from _check_response(s)


def _check_fault(
    s: Scenario, fault: Fault, base: tuple[PathPart, ...], comps: list[str], started: bool = False
) -> Iterator[Finding]:
    """A fault's references; ``started``: something else starts it (a consequence)."""
    changes = {c.id: c for c in s.changes}
    if isinstance(fault, SchemaMigrationFault):
        if started:
            yield (*base, "type"), "a consequence cannot be a schema_migration (it has a change)"
            return
        if fault.since > 0:
            yield (
                (*base, "since"),
                "a schema_migration starts when its migration commits; it cannot be latent",
            )
        migration = changes.get(fault.change)
        if migration is None:
            yield (*base, "change"), _unknown("change", fault.change, list(changes))
        elif migration.kind != "migration":
            yield (
                (*base, "change"),
                f"change {fault.change!r} is a {migration.kind}, expected a migration",
            )
        elif (
            first := s.components.get(migration.components[0])
        ) is not None and first.kind != "database":
            yield (
                (*base, "change"),
                f"migration {fault.change!r} must touch a database component first",
            )
        return
    if fault.target not in s.components:
        yield (*base, "target"), _unknown("component", fault.target, comps)
    elif fault.type == "third_party_outage" and s.components[fault.target].kind != "third_party":
        kind = s.components[fault.target].kind
        yield (
            (*base, "target"),
            f"expected a third_party component, got {fault.target!r} ({kind})",
        )
    elif isinstance(fault, RegionOutageFault) and fault.region not in s.traffic.regions:
        regions = sorted(s.traffic.regions)
        yield (
            (*base, "region"),
            f"no traffic region named {fault.region!r}{did_you_mean(fault.region, regions)} "
            f"(the shoppers' regions: {', '.join(regions)})",
        )
    elif isinstance(fault, RegionOutageFault) and fault.target not in _edges(s):
        yield (
            (*base, "target"),
            f"a region goes dark at the edge: expected the component shoppers reach first "
            f"({', '.join(sorted(_edges(s)))}), got {fault.target!r}",
        )
    elif fault.type == "cache_flush" and s.components[fault.target].keys is None:
        yield (
            (*base, "target"),
            f"a cache flush needs a cache that declares its hot keys (components."
            f"{fault.target}.keys) and calls cached_by it; {fault.target!r} declares none",
        )
    elif fault.type == "memory_leak" and s.components[fault.target].kind == "third_party":
        yield (
            (*base, "target"),
            f"a memory leak needs a process of ours to kill; {fault.target!r} is a third party "
            "(a third_party_outage says what a vendor does)",
        )
    elif fault.type == "data_loss" and fault.target not in s.databases:
        yield (
            (*base, "target"),
            f"a data loss needs a database with a data tier (databases: "
            f"{fault.target}) to restore from; {fault.target!r} has none",
        )
    elif fault.type == "data_loss" and fault.instance >= s.components[fault.target].replicas:
        replicas = s.components[fault.target].replicas
        yield (
            (*base, "instance"),
            f"{fault.target} has {replicas} instance(s) (0 to {replicas - 1}), "
            f"got {fault.instance}",
        )
    if fault.cause is not None and fault.cause not in changes:
        yield (*base, "cause"), _unknown("change", fault.cause, list(changes))
    if started:
        return
    if fault.start is None and fault.since == 0 and fault.cause is None:
        yield (
            (*base, "start"),
            "required for this fault type (only schema_migration starts with its "
            "change, a fault with a cause: with that change, and a latent fault, with "
            "since:, at 0)",
        )
    if fault.since > 0 and fault.start not in (None, 0.0):
        yield (
            (*base, "start"),
            "a latent fault (since:) is already true at t = 0: leave start out",
        )


def _edges(s: Scenario) -> set[str]:
    """The components shoppers reach first: the roots of the endpoints' call trees."""
    return {e.call.component for e in s.endpoints.values()}


def _check_target(
    s: Scenario, action: str, target: str, path: tuple[PathPart, ...], comps: list[str]
) -> Iterator[Finding]:
    """The target of a scripted action or a consequence's trigger exists and fits the action."""
    changes = {c.id: c for c in s.changes}
    migrations = sorted(c.id for c in s.changes if c.kind == "migration")
    if action == "retry_migration":
        if target not in migrations:
            yield path, _unknown("migration", target, migrations)
    elif action in DATA_TIER_ACTIONS:
        if target not in s.databases:
            yield path, _unknown("database with a data tier", target, list(s.databases))
    elif action == "cancel_query":
        background = {bg.id for db in s.databases.values() for bg in db.background}
        work = sorted({*background, *migrations})
        if target not in work:
            yield path, _unknown("migration or background query", target, work)
    elif action == "escalate" and (
        (spec := s.components.get(target)) is None or spec.kind != "link" or spec.vendor is None
    ):
        links = sorted(n for n, c in s.components.items() if c.kind == "link" and c.vendor)
        yield path, _unknown("link with a vendor", target, links)
    elif action in ("suspend_scaling", "resume_scaling") and (
        (spec := s.components.get(target)) is None or spec.autoscaling is None
    ):
        scaled = sorted(n for n, c in s.components.items() if c.autoscaling is not None)
        yield path, _unknown("component with a scaling policy", target, scaled)
    elif action == "toggle_flag" and target not in (
        flags := sorted({c.flag for c in s.changes if c.flag})
    ):
        yield path, _unknown("feature flag", target, flags)
    elif action == "raise_quota" and (s.capacity is None or s.capacity.quota is None):
        yield path, "raise_quota needs an account quota to raise (capacity.quota)"
    elif action in CHANGE_ACTIONS:
        if target not in changes:
            yield path, _unknown("change", target, list(changes))
        else:
            wanted = {v: k for k, v in ROLLBACK_OF.items()}[action]
            if changes[target].kind != wanted:
                yield path, f"{action} needs a {wanted} change, got a {changes[target].kind}"
    elif target not in s.components:
        yield path, _unknown("component", target, comps)


def _check_consequences(s: Scenario, comps: list[str]) -> Iterator[Finding]:
    """Consequences: ids and their faults' ids are new, triggers and config changes exist."""
    yield from _duplicates(("consequences",), [c.id for c in s.consequences], "consequence id")
    taken = {f.id for f in s.faults}
    configs = sorted(c.id for c in s.changes if c.kind == "config")
    for i, c in enumerate(s.consequences):
        base: tuple[PathPart, ...] = ("consequences", i)
        if c.fault.id in taken:
            yield (*base, "fault", "id"), f"fault id {c.fault.id!r} is already used"
        taken.add(c.fault.id)
        yield from _check_target(s, c.when.action, c.when.target, (*base, "when", "target"), comps)
        if c.while_config is not None and c.while_config not in configs:
            yield (*base, "while_config"), _unknown("config change", c.while_config, configs)
        yield from _check_fault(s, c.fault, (*base, "fault"), comps, started=True)


SYMBOLIC_TARGETS = (
    "$suspect",
    "$cause",
    "$failing-service",
    "$latest-deploy",
    "$isolated",
    "$unexplained",
)


def target_names(s: Scenario) -> list[str]:
    """What a runbook step or a diagnosis may name: components, changes and the leads."""
    return [*s.components, *(c.id for c in s.changes), *LEADS]


def _check_response(s: Scenario) -> Iterator[Finding]:
    """The responder exists; runbook steps name things that exist."""
    known = responder_names(s)
    if s.response.responder not in known:
        yield ("response", "responder"), _unknown("responder", s.response.responder, known)
    expected = s.expect.responder if s.expect is not None else None
    if expected is not None and expected not in known:
        yield ("expect", "responder"), _unknown("responder", expected, known)
    names = target_names(s)
    for name, book in s.runbooks.items():
        if book.name != name:
            yield (
                ("runbooks", name, "name"),
                f"expected the runbook's key {name!r}, got {book.name!r}",
            )
        for path, message in runbook_findings(book, names):
            yield ("runbooks", name, *path), message


def runbook_findings(book: Runbook, names: list[str] | None) -> Iterator[Finding]:
    """Step targets that name nothing: unknown ``$symbols`` always, unknown names when the
    scenario's ``names`` are given (a runbook file alone cannot know them)."""
    for part in ("steps", "loop", "close"):
        for i, step in enumerate(getattr(book, part)):
            target = step.target
            if target is None or target in SYMBOLIC_TARGETS:
                continue
            if target.startswith("$"):
                yield (
                    (part, i, "target"),
                    f"expected one of {', '.join(SYMBOLIC_TARGETS)}, got {target!r}"
                    + did_you_mean(target, list(SYMBOLIC_TARGETS)),
                )
            elif names is not None and target not in names:
                yield (part, i, "target"), _unknown("component, change or lead", target, names)


def check_signals(s: Scenario) -> Iterator[Finding]:
    """Monitors, probes and red herrings name things that exist."""
    comps, endpoints = list(s.components), list(s.endpoints)
    changes = {c.id for c in s.changes}
    yield from _duplicates(
        ("monitors",), [r.name for r in s.monitors or ()], "monitor name", key="name"
    )
    regions = list(s.traffic.regions)
    for i, rule in enumerate(s.monitors or ()):
        if rule.kind == "saturation" and rule.scope != "component":
            yield (
                ("monitors", i, "scope"),
                "saturation is measured on components; use scope: component",
            )
        if rule.kind == "metric_absent" and rule.scope == "shop":
            yield (
                ("monitors", i, "scope"),
                "metric_absent watches the series of components or endpoints; use scope: "
                "component or endpoint",
            )
        if rule.kind == "new_error" and rule.scope != "component":
            yield (
                ("monitors", i, "scope"),
                "new_error counts the error lines each component logs; use scope: component",
            )
        if rule.kind == "synthetic" and not s.probes.enabled:
            yield ("monitors", i, "kind"), "a synthetic rule needs probes; probes are switched off"
        if rule.target == "*" or rule.kind in ("throughput_drop", "log_errors"):
            continue
        known = comps if rule.scope == "component" else endpoints
        name, _, region = rule.target.partition("@")
        if name not in known:
            yield (
                ("monitors", i, "target"),
                _unknown(rule.scope if rule.scope != "shop" else "endpoint", name, known),
            )
        if region and region not in regions:
            yield ("monitors", i, "target"), _unknown("region", region, regions)
    if s.monitoring is not None:
        for piece in ("pipeline", "alerting"):
            extra = ["pipeline"] if piece == "alerting" else []
            for i, name in enumerate(getattr(s.monitoring, piece).depends_on):
                if name not in s.components and name not in extra:
                    yield (
                        ("monitoring", piece, "depends_on", i),
                        _unknown("component", name, comps + extra),
                    )
    for i, name in enumerate(s.probes.endpoints):
        if name not in s.endpoints:
            yield ("probes", "endpoints", i), _unknown("endpoint", name, endpoints)
    for i, region in enumerate(s.probes.regions):
        if region not in s.traffic.regions:
            yield ("probes", "regions", i), _unknown("region", region, list(s.traffic.regions))
    yield from _duplicates(
        ("red_herrings", "items"), [r.id for r in s.red_herrings.items], "red herring id"
    )
    for i, item in enumerate(s.red_herrings.items):
        base: tuple[PathPart, ...] = ("red_herrings", "items", i)
        if item.change is not None and item.change not in changes:
            yield (*base, "change"), _unknown("change", item.change, sorted(changes))
        if item.kind == "change" and item.change is None:
            yield (*base, "change"), "a red herring of kind change names the change it marks"
        if item.kind != "change":
            if item.target is None:
                yield (*base, "target"), f"a {item.kind} red herring needs a target component"
            elif item.target not in s.components:
                yield (*base, "target"), _unknown("component", item.target, comps)
        if item.kind == "log_noise" and not item.message:
            yield (*base, "message"), "a log_noise red herring needs the message it repeats"


def _duplicates(
    path: tuple[PathPart, ...], ids: list[str], what: str, key: str = "id"
) -> Iterator[Finding]:
    seen: set[str] = set()
    for i, ident in enumerate(ids):
        if ident in seen:
            yield (*path, i, key), f"{what} {ident!r} is used twice; it must be unique"
        seen.add(ident)


# Actions that only a database with a data tier takes.
DATA_TIER_ACTIONS = ("drain", "add_back", "analyze", "read_only", "read_write", "promote")


def _check_data(s: Scenario) -> Iterator[Finding]:
    """Each data tier belongs to a database component and names its own tables."""
    for name, db in s.databases.items():
        base: tuple[PathPart, ...] = ("databases", name)
        spec = s.components.get(name)
        if spec is None:
            yield base, _unknown("component", name, list(s.components))
            continue
        if spec.kind != "database":
            yield base, f"a data tier belongs to a database component; {name!r} is a {spec.kind}"
        if spec.balancing == "shard":
            yield (
                base,
                f"{name} is sharded (balancing: shard): its instances hold different data, "
                "not a primary and copies, so it has no data tier",
            )
        if db.replication is not None and spec.replicas < 2:
            yield (
                (*base, "replication"),
                f"replication needs a primary and replicas: {name} has replicas: {spec.replicas}",
            )
        yield from _duplicates((*base, "background"), [bg.id for bg in db.background], "query id")
        for i, bg in enumerate(db.background):
            for j, table in enumerate(bg.tables):
                if table not in db.tables:
                    yield (
                        (*base, "background", i, "tables", j),
                        _unknown(f"table of {name}", table, list(db.tables)),
                    )


def _check_call(
    s: Scenario,
    call: Call,
    path: tuple[PathPart, ...],
    parent: str | None,
    declared: set[tuple[str, str]],
) -> Iterator[Finding]:
    name = call.component
    if name not in s.components:
        yield (*path, "component"), _unknown("component", name, list(s.components))
        return
    if parent is not None and (parent, name) not in declared:
        yield (
            (*path, "component"),
            (f"{parent} calls {name}, but no dependency {parent} → {name} is declared"),
        )
    if call.tables and s.components[name].kind != "database":
        yield (
            (*path, "tables"),
            f"only calls to a database touch tables; {name!r} is a {s.components[name].kind}",
        )
    data = s.databases.get(name)
    for field in ("access", "inserts"):
        if getattr(call, field) and data is None:
            yield (
                (*path, field),
                f"only calls to a database with a data tier (databases: {name}) say {field}",
            )
    if data is not None:
        for j, table in enumerate(call.inserts):
            if table not in data.tables:
                yield (*path, "inserts", j), _unknown(f"table of {name}", table, list(data.tables))
        if call.inserts and call.access == "read":
            yield (*path, "access"), "a call that inserts is a write"
    if call.cached_by is not None:
        caches = sorted(n for n, c in s.components.items() if c.keys is not None)
        if call.cached_by not in caches:
            yield (
                (*path, "cached_by"),
                _unknown("cache with keys (components.NAME.keys)", call.cached_by, caches),
            )
        elif parent is None:
            yield (*path, "cached_by"), "the first call of an endpoint has no caller to cache it"
    for i, child in enumerate(call.calls):
        node = child if isinstance(child, Call) else Call(component=child)
        yield from _check_call(s, node, (*path, "calls", i), name, declared)
