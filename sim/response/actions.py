"""Actions change component state: restart, roll back, fix, fail over, scale out, isolate.

Every action takes simulated time and has the side effects of its nature (a restart takes
instances down one at a time and a database comes back with a cold cache; a migration
rollback locks the tables it alters while it runs; isolating a component makes every call
to it fail fast). At the end an action remedies the active faults that list it, aimed at the
right target — and nothing else: a restart never ends a schema-migration fault.

This is the layer below the action API (:mod:`sim.response.api`): it knows nothing of
evidence, hypotheses or cost of thinking, only of what a command does to the system.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import simpy

from sim.faults.mechanisms.capacity import Capacity
from sim.faults.mechanisms.datatier import DataTier
from sim.faults.mechanisms.network import Network
from sim.faults.mechanisms.regions import Regions
from sim.faults.registry import ActiveFault
from sim.faults.schedule import FaultSchedule
from sim.model.data import DatabaseState
from sim.model.sql import tables_in
from sim.model.state import Effect
from sim.model.world import World
from sim.scenario.schema import CHANGE_ACTIONS

# How long an action runs when no fault says otherwise (seconds).
DEFAULT_DURATIONS: dict[str, float] = {
    "restart": 0.0,  # plus the rolling restart itself
    "rollback_deploy": 300.0,
    "rollback_migration": 480.0,
    "rollback_config": 120.0,
    "deploy_fix": 1200.0,
    "failover": 120.0,
    "scale_out": 180.0,
    "isolate": 30.0,
    "restore": 30.0,
    "promote": 30.0,  # pg_ctl promote; the replay of what the replica has not applied comes first
    "cancel_query": 5.0,  # pg_cancel_backend answers at once; what it frees, the world decides
    "drain": 30.0,  # a router config push: replicas out of the read rotation
    "add_back": 30.0,  # and back in, all at once
    "read_only": 30.0,  # default_transaction_read_only, reloaded
    "read_write": 30.0,
    "raise_quota": 1800.0,  # a provider's support case; the scenario's capacity.quota_raise
    "suspend_scaling": 30.0,
    "resume_scaling": 30.0,
    "change_scaling": 30.0,  # the policy's new min, max or target, saved
    "escalate": 2700.0,  # the link vendor's time; the scenario's vendor.escalation
    "toggle_flag": 30.0,  # the flag system's propagation to every instance
    "free_disk": 120.0,  # find the biggest files on every instance and delete them
    "disable_checks": 30.0,  # a balancer config change
    "enable_checks": 30.0,
    "shed_load": 60.0,  # an admission limit, configured and rolled out
    "stop_shedding": 60.0,
    "failover_region": 0.0,  # a DNS change; its shoppers move over the traffic's dns_ttl
}
# A stateful store restarted comes back slow until its cache is warm again.
COLD_CACHE_FACTOR = 3.0
COLD_CACHE_SECONDS = 300.0
STATEFUL = ("database", "cache")
FAILOVER_GAP = 30.0  # a failover of a single instance: seconds with nothing serving
SCALE_OUT_FACTOR = 1.5
LOCK_MESSAGE = "ERROR: canceling statement due to lock timeout (SQLSTATE 55P03)"


REWRITE_WITHIN = 900.0  # seconds: a longer rewrite is not a fix anyone runs in an incident
RETRY_LOCK_TIMEOUT = 5.0  # seconds: a migration retried in an incident gives up this fast


@dataclass(frozen=True)
class DataWork:
    """Statements an action runs on a data tier, as work under their locks."""

    database: str
    statements: tuple[str, ...]
    work_id: str
    lock_timeout: float | None = None
    trigger: str | None = None  # a migration whose faults start when this commits


def widening(db: DatabaseState) -> tuple[str, ...]:
    """The forward fix of ``db``'s exhausted sequences: the ID column made bigint — a rewrite
    of the whole table under an ACCESS EXCLUSIVE lock — when that takes at most
    ``REWRITE_WITHIN``, else the sequence restarted in the negative half of its range
    (metadata only: it buys as many IDs again)."""
    fixes = []
    for t in db.tables.values():
        if t.exhausted_at is None:
            continue
        if t.rows / db.spec.rewrite_rate <= REWRITE_WITHIN:
            fixes.append(f"ALTER TABLE {t.name} ALTER COLUMN id TYPE bigint;")
        else:
            low = -int(t.seq_max) - 1
            fixes.append(f"ALTER SEQUENCE {t.name}_id_seq MINVALUE {low} RESTART WITH {low};")
    return tuple(fixes)


class Actions:
    """Runs actions against the world as SimPy processes."""

    def __init__(
        self,
        env: simpy.Environment,
        world: World,
        faults: FaultSchedule,
        data: DataTier | None = None,
        fleet: Capacity | None = None,
        network: Network | None = None,
        regions: Regions | None = None,
    ) -> None:
        self.env = env
        self.world = world
        self.faults = faults
        self.data = data
        self.fleet = fleet
        self.network = network
        self.regions = regions
        self.isolated: set[str] = set()
        self.reverted: set[str] = set()  # changes rolled back
        self.fired: set[str] = set()  # consequences that happened
        # (action, target) → why the data tier's work of its last run did not commit
        self.gave_up: dict[tuple[str, str], str] = {}
        # (action, target) → what the caller asked of it beyond its target: the size of a
        # ``scale web 24`` ({"to": 24}), a change_scaling's new min, max or target. Set by the
        # action API before it starts the action, gone when the action ends.
        self.asked: dict[tuple[str, str], dict[str, float]] = {}

    def schedule(self, at: float, action: str, target: str) -> simpy.Process:
        """Start ``action`` on ``target`` at simulated time ``at`` (not before now)."""
        return self.env.process(self._run(max(at, self.env.now), action, target))

    def start(self, action: str, target: str, *, failed: str | None = None) -> simpy.Process:
        """Start ``action`` now. With ``failed`` (a reason), it runs its course and achieves
        nothing — a rollback job that times out, a fix that fails its tests."""
        return self.env.process(self._run(self.env.now, action, target, failed))

    def targets(self, action: str, target: str) -> tuple[set[str], list[str]]:
        """What an action aims at (ids and components) and which components it restarts."""
        if action in CHANGE_ACTIONS:
            change = self.world.changes[target]
            aimed = {target, *change.components}
            restarts = list(change.components) if action == "rollback_deploy" else []
            return aimed, restarts
        if action == "deploy_fix":
            if self.data_work(action, target) is not None:
                return {target}, []  # a migration: nothing to redeploy
            if target in self.world.changes:
                change = self.world.changes[target]
                return {target, *change.components}, self._callers_of(change.components)
            kind = self.world.scenario.components[target].kind
            if kind in STATEFUL:  # compatible code goes to the services that use it
                return {target}, self._callers_of((target,))
            return {target}, [] if kind == "third_party" else [target]
        return {target}, [target] if action == "restart" else []

    def data_work(self, action: str, target: str) -> DataWork | None:
        """The statements a data tier runs as work for ``action`` (their length is the
        world's): a migration's rollback (its reverse, under the same locks), a retry of a
        migration with a lock timeout, a sequence's fix, an ANALYZE."""
        if self.data is None:
            return None
        if action in ("rollback_migration", "retry_migration") and target in self.world.changes:
            change = self.world.changes[target]
            db = change.components[0]
            if db not in self.world.data:
                return None
            if action == "rollback_migration":
                return DataWork(db, change.statements, f"{target}-rollback")
            timeout = change.lock_timeout if change.lock_timeout is not None else RETRY_LOCK_TIMEOUT
            return DataWork(db, change.statements, target, timeout, trigger=target)
        db_state = self.world.data.get(target)
        if db_state is None:
            return None
        if action == "deploy_fix":
            widen = widening(db_state)
            if widen:  # the forward fix of an exhausted sequence
                return DataWork(target, widen, f"{target}-fix")
        if action == "analyze":
            stale = [t for t in db_state.tables.values() if t.cost_factor != 1.0]
            tables = stale or list(db_state.tables.values())
            return DataWork(
                target, tuple(f"ANALYZE {t.name};" for t in tables), f"{target}-analyze"
            )
        return None

    def provisions(self, action: str, target: str) -> bool:
        """Whether ``action`` provisions a new replica (a scale-out of a replicated data tier)."""
        return (
            action == "scale_out"
            and self.data is not None
            and target in self.world.data
            and self.world.data[target].replicated
        )

    def launches(self, action: str, target: str) -> bool:
        """Whether ``action`` launches instances through the account (a scale-out of a
        component whose capacity is managed: it has a scaling policy, or the scenario
        declares ``capacity:``)."""
        return (
            action == "scale_out"
            and self.fleet is not None
            and target in self.world.states
            and self.fleet.managed(target)
        )

    def restores(self, action: str, target: str) -> bool:
        """Whether ``action`` restores a database that lost its data (from a backup)."""
        data = self.world.data.get(target)
        return (
            action == "restore"
            and self.data is not None
            and data is not None
            and any(m.lost for m in data.members)
        )

    def promotes(self, action: str, target: str) -> bool:
        """Whether ``action`` promotes a replica of a replicated database to primary."""
        return action == "promote" and self.data is not None and target in self.world.data

    def _remedied(self, action: str, target: str) -> list[ActiveFault]:
        """The active faults ``action`` on ``target`` would end: those listing it, on what it
        aims at — and for a rollback, only those its change brought (or no change did)."""
        aimed, _ = self.targets(action, target)
        change = target if action in CHANGE_ACTIONS else None
        return self.faults.remedied_by(action, aimed, change)

    def decided_by(self, action: str, target: str) -> str:
        """``mechanism`` when the world decides how long ``action`` takes, else ``constant``."""
        if action == "cancel_query" or self.provisions(action, target):
            return "mechanism"
        if self.launches(action, target) or action == "failover_region":
            return "mechanism"  # the boots; the shoppers' DNS TTL
        if self.restores(action, target) or self.promotes(action, target):
            return "mechanism"
        return "mechanism" if self.data_work(action, target) is not None else "constant"

    def estimate(self, action: str, target: str) -> float:
        """How long ``action`` is expected to take now (to pace whoever waits for it)."""
        work = self.data_work(action, target)
        if work is not None and self.data is not None:
            return self.data.estimate(work.database, work.statements)
        if self.provisions(action, target) and self.data is not None:
            return self.data.provision_seconds(target)
        if self.restores(action, target) and self.data is not None:
            return self.data.restore_seconds(target)
        if self.promotes(action, target) and self.data is not None:
            return self.data.promote_seconds(target)
        if self.launches(action, target) and self.fleet is not None:
            return self.fleet.launch_seconds(target, max(0, self.launch_size(target)))
        if action == "failover_region":
            return self.world.scenario.traffic.dns_ttl
        return self.duration(action, target)

    def launch_size(self, target: str) -> int:
        """How many instances a scale-out of a managed component launches: the size asked
        for less what it runs and is launching (negative: that many to terminate), or half as
        many again."""
        assert self.fleet is not None
        to = self._size(target)
        if to is None:
            return self.fleet.scale_out_size(target)
        return to - (self.world.states[target].replicas + self.fleet.pending[target])

    def _size(self, target: str) -> int | None:
        """The instances a scale-out of ``target`` was asked to bring it to, if any."""
        to = self.asked.get(("scale_out", target), {}).get("to")
        return None if to is None else int(to)

    def duration(self, action: str, target: str) -> float:
        """How long ``action`` on ``target`` runs now (a fault's remedy time if it has one;
        nothing on top of the work when a mechanism decides it)."""
        if self.data_work(action, target) is not None or self.provisions(action, target):
            return 0.0
        if self.restores(action, target) or self.promotes(action, target):
            return 0.0
        if self.launches(action, target):
            return 0.0
        if action == "failover_region":
            return 0.0  # the shoppers' resolvers decide: the side effect waits the TTL out
        if action == "raise_quota" and self.fleet is not None:
            return self.fleet.spec.quota_raise
        vendor = self.world.scenario.components[target].vendor if action == "escalate" else None
        if vendor is not None:
            return vendor.escalation
        # An episode's remedies say what ends it, not how long that takes: the world does.
        planned = [f for f in self._remedied(action, target) if not f.mechanism]
        if planned:
            return max(f.remedies[action] for f in planned)
        return DEFAULT_DURATIONS[action]

    def database_of(self, work: str) -> str | None:
        """The database where long work ``work`` (a change id, a query id, a pid) runs now."""
        if self.data is None:
            return None
        for name, db in self.world.data.items():
            for _, hold in db.holds():
                if work in (hold.id.partition(":")[2], hold.id, str(hold.pid)):
                    return name
        return None

    def harm(self, action: str, target: str) -> str | None:
        """Why ``action`` on ``target`` hurts by its nature, or ``None``."""
        topo = self.world.topology
        if action in ("restart", "failover") and target in self.world.states:
            spec = self.world.scenario.components[target]
            if spec.replicas == 1 and spec.kind != "third_party":
                gap = spec.restart_time if action == "restart" else FAILOVER_GAP
                radius = topo.blast_radius(target)
                eps = ", ".join(radius.failing_endpoints) or "nothing"
                cache = (
                    " and empties its cache"
                    if action == "restart" and spec.kind in STATEFUL
                    else ""
                )
                return (
                    f"{target} has one instance: {action} takes it down for "
                    f"{gap:.0f}s{cache} (fails {eps})"
                )
        if action == "isolate":
            radius = topo.blast_radius(target)
            if radius.failing_endpoints:
                return f"isolating {target} fails {', '.join(radius.failing_endpoints)} for every shopper"
        return None

    def _callers_of(self, components: tuple[str, ...]) -> list[str]:
        """The services whose code talks to ``components`` (what a compatible fix redeploys)."""
        graph = self.world.topology.graph
        callers = {c for comp in components for c in graph.predecessors(comp)}
        kinds = self.world.scenario.components
        return sorted(c for c in callers if kinds[c].kind in ("service", "web"))

    def _run(
        self, at: float, action: str, target: str, failed: str | None = None
    ) -> Generator[simpy.Event, Any, list[str]]:
        yield self.env.timeout(at - self.env.now)
        world = self.world
        world.emit(self.env.now, "action.start", action=action, target=target)
        _, restarts = self.targets(action, target)
        duration = self.duration(action, target)
        decided_by = self.decided_by(action, target)  # before the action changes the state
        started = self.env.now
        # Episodes a mechanism closes when this action changes its state (a lock queue ends
        # when the statement holding it is cancelled): those open now may end while it runs.
        episodes = [f for f in self._remedied(action, target) if f.mechanism]
        if failed is None:
            yield from self._side_effects(action, target, restarts, duration)
        rest = duration - (self.env.now - started)
        if rest > 0:
            yield self.env.timeout(rest)
        remedied = []
        if failed is None:
            remedied = [
                f.id
                for f in self._remedied(action, target)
                if not f.mechanism and self.faults.end(f.id, f"remedied by {action} {target}")
            ]
            remedied += [f.id for f in episodes if f.id in self.faults.ended]
            self._after(action, target)
        failed = failed or self.gave_up.get((action, target))
        self.asked.pop((action, target), None)
        extra = {"failed": failed} if failed is not None else {}
        world.emit(
            self.env.now,
            "action.end",
            action=action,
            target=target,
            remedied=remedied,
            decided_by=decided_by,
            **extra,
        )
        if failed is None:
            if action.startswith("rollback"):
                self.reverted.add(target)
            self._consequences(action, target)
        return remedied

    def _consequences(self, action: str, target: str) -> None:
        """Start the faults the scenario declares as this action's consequences (each once,
        and one tied to a config change only while that change is in effect)."""
        for c in self.world.scenario.consequences:
            if (c.when.action, c.when.target) != (action, target) or c.id in self.fired:
                continue
            config = c.while_config
            if config is not None and not self.in_effect(config):
                continue
            self.fired.add(c.id)
            self.world.emit(
                self.env.now,
                "consequence",
                id=c.id,
                action=action,
                target=target,
                fault=c.fault.id,
                why=c.why,
            )
            self.faults.inject(c.fault)

    def in_effect(self, change_id: str) -> bool:
        """Whether a change of the change log is applied now and was not rolled back."""
        applied = any(c.id == change_id for _, c in self.world.applied)
        return applied and change_id not in self.reverted

    def _side_effects(
        self, action: str, target: str, restarts: list[str], duration: float
    ) -> Generator[simpy.Event, Any, None]:
        world = self.world
        if self.provisions(action, target) and self.data is not None:
            yield from self.data.provision(target)
            return
        if self.restores(action, target) and self.data is not None:
            yield from self.data.restore(target)
            return
        if self.promotes(action, target) and self.data is not None:
            yield from self.data.promote(target)
            return
        if action == "failover_region" and self.regions is not None:
            moving = self.regions.fail_over(target)  # the region's shoppers, over the TTL
            if moving:
                yield self.env.timeout(moving)
            else:
                self.gave_up[(action, target)] = f"{target} is not dark: nothing to move"
            return
        if self.launches(action, target) and self.fleet is not None:
            want = self.launch_size(target)
            if want < 0:  # scaled in to the size asked for: those instances go at once
                self.fleet.terminate(target, -want, "operator")
                return
            launched = self.fleet.launch(target, want, "operator") if want else []
            if want and not launched:
                self.gave_up[(action, target)] = (
                    f"the account's quota refused it: {self.fleet.refused.get(target, '')}"
                )
            elif len(launched) < want:  # a size asked for, and the quota had room for part
                self.gave_up[(action, target)] = (
                    f"the account's quota let {len(launched)} of {want} launches through: "
                    f"{self.fleet.refused.get(target, '')}"
                )
            elif not want and self._size(target) is not None:
                self.gave_up[(action, target)] = f"it runs {self._size(target)} already"
            elif not want:
                self.gave_up[(action, target)] = "its scaling policy is at its max already"
            if launched:
                yield self.env.all_of(launched)
            return
        if action == "cancel_query" and self.data is not None:
            self.data.cancel(self.database_of(target) or "", target)
        work = self.data_work(action, target)
        if work is not None and self.data is not None:
            process, outcome = self.data.run_statements(
                work.database, work.work_id, work.statements, work.lock_timeout, work.trigger
            )
            yield process
            if outcome.status != "committed":
                reason = {"lock_timeout": "it gave up at its lock timeout"}.get(
                    outcome.status, f"it was {outcome.status}"
                )
                self.gave_up[(action, target)] = reason
        elif action == "rollback_migration":
            self._lock(target, duration)
        if action == "failover" and world.states[target].replicas == 1:
            spec = world.scenario.components[target]
            if spec.kind != "third_party":
                source = f"failover:{target}"
                world.states[target].add(Effect(source=source, down_instances=(0,)))
                yield self.env.timeout(FAILOVER_GAP)
                world.states[target].remove(source)
        for component in restarts:
            yield from self._rolling_restart(component, f"{action}:{target}")
            previous = world.previous_versions.get(target, {})
            if action == "rollback_deploy" and component in previous:
                world.states[component].version = previous[component]
        if action == "isolate":
            world.states[target].add(
                Effect(
                    source=f"isolate:{target}",
                    error_probability=1.0,
                    error_class="Disabled",
                    message=f"{target} disabled by operator",
                )
            )
            self.isolated.add(target)

    def _after(self, action: str, target: str) -> None:
        if action == "change_scaling" and self.fleet is not None:
            self.fleet.change_policy(target, **self.asked.get((action, target), {}))
        elif action == "escalate" and self.network is not None and target in self.network.links:
            self.network.grow(target, 2.0, "escalation to the vendor")
        elif self.fleet is not None and action in (
            "raise_quota",
            "suspend_scaling",
            "resume_scaling",
        ):
            if action == "raise_quota":
                self.fleet.raise_quota()
            else:
                self.fleet.suspend(target, action == "suspend_scaling")
        elif action in ("read_only", "read_write") and self.data is not None:
            self.data.read_only(target, action == "read_only")
        elif action == "drain" and self.data is not None:
            self.data.drain(target)
        elif action == "add_back" and self.data is not None:
            self.data.add_back(target)
        elif action == "shed_load":
            self.world.states[target].add(Effect(source=f"shed:{target}", shedding=True))
        elif action == "stop_shedding":
            self.world.states[target].remove(f"shed:{target}")
        elif action == "disable_checks":
            self.world.states[target].add(Effect(source=f"checks-off:{target}", unchecked=True))
        elif action == "enable_checks":
            self.world.states[target].remove(f"checks-off:{target}")
        elif action == "restore" and target in self.isolated:
            self.world.states[target].remove(f"isolate:{target}")
            self.isolated.discard(target)
        elif (
            action == "scale_out"
            and not self.provisions(action, target)
            and not self.launches(action, target)
        ):
            to = self._size(target)
            if to is not None:  # instances nobody manages: there, as many as asked for
                self.world.states[target].resize(to)
            else:
                self.world.states[target].add(
                    Effect(source=f"scale-out:{target}", capacity_factor=SCALE_OUT_FACTOR)
                )

    def _lock(self, change_id: str, duration: float) -> None:
        """Rolling a migration back locks the tables it altered until it is done."""
        change = self.world.changes[change_id]
        tables = tables_in(change.statements)
        if not tables or not duration:
            return
        db = change.components[0]
        source = f"lock:{change_id}"
        self.world.states[db].add(
            Effect(
                source=source,
                broken_tables=dict.fromkeys(sorted(tables), LOCK_MESSAGE),
                table_error_class="LockNotAvailable",
            )
        )
        self.env.process(self._unlock(db, source, duration))

    def _unlock(self, db: str, source: str, after: float) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(after)
        self.world.states[db].remove(source)

    def _rolling_restart(self, component: str, source: str) -> Generator[simpy.Event, Any, None]:
        state = self.world.states[component]
        spec = self.world.scenario.components[component]
        for i in range(state.replicas):
            tag = f"{source}:{component}-{i}"
            state.add(Effect(source=tag, down_instances=(i,)))
            self.world.emit(self.env.now, "instance.restart", component=component, instance=i)
            yield self.env.timeout(spec.restart_time)
            state.remove(tag)
        if spec.kind in STATEFUL:
            cold = f"cold-cache:{component}"
            state.remove(cold)
            state.add(Effect(source=cold, latency_factor=COLD_CACHE_FACTOR))
            self.env.process(self._unlock(component, cold, COLD_CACHE_SECONDS))
