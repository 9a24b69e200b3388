"""The action API: one set of calls for every responder.

A modelled runbook responder, the interactive trainee, a notebook and a test all drive an
incident through :class:`Incident`: *observations* return :class:`Evidence` computed from
telemetry only; *actions* change component state through :mod:`sim.response.actions`;
*communication* and *declarations* are recorded for scoring. Every call costs simulated time
(a lognormal draw around the call's typical duration, scaled by the responder's pace); the
simulation runs on while it is spent, so the world changes under the responder's feet.

Bad input never raises: an unknown target or a refused action (rolling back a notice,
deploying a fix before naming a cause) returns evidence with ``ok=False`` and a message that
says what was expected, at no cost in time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from sim.faults.incidents import names_several
from sim.response.actions import DEFAULT_DURATIONS, Actions
from sim.response.capapi import CapacityCalls
from sim.response.dbapi import DataTierCalls
from sim.response.evidence import RECENT, Evidence, View
from sim.response.outcomes import HORIZON_REACHED
from sim.response.running import Running
from sim.scenario.limits import MAX_REPLICAS
from sim.scenario.messages import did_you_mean
from sim.scenario.schema import CHANGE_ACTIONS, LEADS, ROLLBACK_OF

# Typical seconds a call takes a person (looking, typing, talking); the draw is lognormal.
COSTS: dict[str, float] = {
    "status": 60.0,
    "dashboard": 90.0,
    "alerts": 30.0,
    "logs": 180.0,
    "changes": 120.0,
    "deps": 150.0,
    "net": 300.0,
    "lb": 240.0,
    "thirdparty": 60.0,
    "db": 120.0,  # a few catalog queries: activity, locks, replication, sequences
    "capacity": 90.0,  # the cloud console: the group's instances, policy, activity, quota
    "diagnose": 60.0,
    "notify": 120.0,
    "update": 180.0,
    "mitigated": 30.0,
    "resolved": 30.0,
    # hands-on time before an action starts running (the action's own time comes on top)
    "act": 60.0,
}
COST_CV = 0.4
CREDIT_SLACK = 2.0  # seconds after an action's end in which the episode it ended may close
# Chance that an action's job fails and achieves nothing (it still takes its time).
FAILURE: dict[str, float] = {
    "restart": 0.02,
    "rollback_deploy": 0.05,
    "rollback_migration": 0.05,
    "rollback_config": 0.03,
    "deploy_fix": 0.10,
    "failover": 0.08,
    "scale_out": 0.03,
    "isolate": 0.0,
    "restore": 0.0,
    "promote": 0.0,
}
FAILURE_REASONS: dict[str, str] = {
    "restart": "pods stuck in ContainerCreating; restart aborted",
    "rollback_deploy": "rollback job timed out waiting for the rollout",
    "rollback_migration": "down-migration hit a lock timeout and was aborted",
    "rollback_config": "config push rejected by the validator",
    "deploy_fix": "the fix failed its integration tests",
    "failover": "failover precheck failed: replica lag too high",
    "scale_out": "no capacity left in the node pool",
}
OBSERVE = (
    "status",
    "dashboard",
    "alerts",
    "logs",
    "changes",
    "deps",
    "net",
    "lb",
    "thirdparty",
    "db",
    "capacity",
)
ACT = (
    "restart",
    "rollback",
    "isolate",
    "restore",
    "promote",
    "failover",
    "scale_out",
    "fix",
    "cancel",
    "drain",
    "add_back",
    "analyze",
    "read_only",
    "read_write",
    "retry",
    "raise_quota",
    "suspend_scaling",
    "resume_scaling",
    "change_scaling",
    "escalate",
    "toggle_flag",
    "free_disk",
    "disable_checks",
    "enable_checks",
    "shed_load",
    "stop_shedding",
    "failover_region",
)
COMMUNICATE = ("notify", "update")
DECLARE = ("diagnose", "mitigated", "resolved")


def _about(seconds: float) -> str:
    """How long an action takes, as a person would say it ("under a minute", "about 1 minute",
    "about 12 minutes"): a catalog change is not "about 0 minutes"."""
    if seconds < 30:
        return "under a minute"
    minutes = max(1, round(seconds / 60))
    return f"about {minutes} minute{'s' if minutes != 1 else ''}"


class HorizonReached(Exception):
    """The run's horizon came before the call could finish."""


def action_of(call: str, target: str, incident: Incident) -> str:
    """The :mod:`sim.response.actions` action behind an API call on ``target``."""
    if call == "rollback":
        return ROLLBACK_OF[incident.sim.world.changes[target].kind]
    return {
        "fix": "deploy_fix",
        "scale": "scale_out",
        "cancel": "cancel_query",
        "retry": "retry_migration",
    }.get(call, call)


def kind_of(call: str) -> str:
    """observe | act | communicate | declare | wait."""
    for kind, calls in (
        ("observe", OBSERVE),
        ("act", ACT),
        ("communicate", COMMUNICATE),
        ("declare", DECLARE),
    ):
        if call in calls:
            return kind
    return "wait"


class Incident(DataTierCalls, CapacityCalls):
    """One incident driven through the action API, over a running simulation (:class:`~sim.response.running.Running`).

    ``pace`` multiplies the time every observation and message takes (an experienced
    engineer reads a dashboard faster). ``lead`` on each call names the hypothesis the caller
    is pursuing; it is recorded with the step (post-mortems show which leads were chased).
    """

    def __init__(
        self,
        simulation: Running,
        horizon: float,
        *,
        pace: float = 1.0,
        failures: bool = True,
        progress: Callable[[float], None] | None = None,
    ) -> None:
        self.sim = simulation
        self.horizon = horizon
        self.pace = pace
        # how fast this team is tonight, on top of pace: None (the same engineer every run)
        # but for a runbook whose profile draws it from real teams (sim.response.people)
        self.tempo: float | None = None
        # what the team had in front of it when it acknowledged: "plain" (an error line says
        # in words what is wrong) or "opaque" (symptoms) — None before a modelled team looked
        self.evidence: str | None = None
        self.failures = failures
        self.progress = progress
        self.view = View(simulation)
        self.actions: Actions = simulation.actions
        self.rng = simulation.streams("response/api")
        self.steps: list[dict[str, Any]] = []
        self.started_at: float | None = None
        self.diagnosis: dict[str, Any] | None = None
        self.cause: str | None = None
        self.notified_at: float | None = None
        self.stakeholders_at: float | None = None
        self.mitigated_at: float | None = None
        self.resolved_at: float | None = None
        # pages (the pager's incidents, in order) that were part of an incident already
        # answered: the next page after them is another incident (``next_incident``)
        self.answered = 0

    # -- time ------------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return float(self.sim.env.now)

    @property
    def remaining(self) -> float:
        return max(0.0, self.horizon - self.now)

    def _advance(self, until: float) -> None:
        target = min(until, self.horizon)
        if target > self.now:
            self.sim.advance(target, self.progress)
        if until > self.horizon:
            raise HorizonReached

    def _cost(self, call: str, takes: float | None) -> float:
        if takes is not None:
            return max(0.0, takes)
        mean = COSTS[call] * (1.0 if call == "act" else self.pace * (self.tempo or 1.0))
        sigma = math.sqrt(math.log(1 + COST_CV**2))
        return round(mean * math.exp(self.rng.gauss(-sigma * sigma / 2, sigma)), 1)

    def more_incidents(self) -> bool:
        """Whether the shift has more than one incident (the scenario's faults name theirs,
        docs/scoring.md): then whoever holds the pager stays on call once one is resolved.
        It says only that the shift is scheduled so, not which faults or when."""
        return names_several(f.incident for f in self.sim.scenario.faults)

    def next_incident(self) -> None:
        """The incident answered is over: what was declared of it (its cause, its
        mitigation) does not carry over, and only a page that comes after now is a new one."""
        self.answered = len(self.sim.pager.incidents)
        self.cause = None
        self.mitigated_at = None

    def wait_for_page(self, step: float = 10.0, ack: bool = True) -> float | None:
        """Run until the on-call engineer is paged (and has acknowledged, with ``ack``) —
        after :meth:`next_incident`, by a page that is not part of an incident answered."""
        while self.now < self.horizon:
            for incident in self.sim.pager.incidents[self.answered :]:
                at = incident["acknowledged_at"] if ack else incident["paged_at"]
                if at is not None and at <= self.now:
                    if self.started_at is None:
                        self.started_at = self.now
                    return self.now
            try:
                self._advance(self.now + step)
            except HorizonReached:
                return None
        return None

    def start(self) -> None:
        """Mark the responder as working from now (a drill may start before any page)."""
        if self.started_at is None:
            self.started_at = self.now

    # -- recording ---------------------------------------------------------------------------
    def _record(
        self,
        call: str,
        target: str | None,
        t: float,
        ok: bool,
        summary: str,
        facts: dict[str, Any] | None = None,
        lead: str | None = None,
        remedied: list[str] | None = None,
        harm: str | None = None,
    ) -> Evidence:
        evidence = Evidence(call, target, t, self.now, ok, summary, facts or {})
        self.steps.append(
            {
                "i": len(self.steps),
                "t": round(t, 6),
                "end": round(self.now, 6),
                "call": call,
                "kind": kind_of(call),
                "target": target,
                "ok": ok,
                "evidence": summary,
                "lead": lead,
                "herring": None,
                "remedied": remedied or [],
                "harmful": harm is not None,
                "harm": harm,
            }
        )
        return evidence

    def _refuse(self, call: str, target: str | None, why: str, lead: str | None) -> Evidence:
        return self._record(call, target, self.now, False, why, lead=lead)

    def _look(
        self,
        call: str,
        target: str | None,
        read: Callable[[], tuple[str, dict[str, Any]]],
        takes: float | None,
        lead: str | None,
    ) -> Evidence:
        t = self.now
        try:
            self._advance(t + self._cost(call, takes))
        except HorizonReached:
            self._record(call, target, t, False, HORIZON_REACHED, lead=lead)
            raise
        summary, facts = read()
        return self._record(call, target, t, True, summary, facts, lead=lead)

    # -- observe -----------------------------------------------------------------------------
    def status(self, *, takes: float | None = None, lead: str | None = None) -> Evidence:
        """Regional or global? Which endpoints fail, per region, since when."""
        return self._look("status", None, self.view.status, takes, lead)

    def dashboard(
        self, span: float = RECENT, *, takes: float | None = None, lead: str | None = None
    ) -> Evidence:
        """Per-endpoint traffic, failed share and p95 over the last ``span`` seconds (default
        five minutes); orders against the expected curve."""
        return self._look("dashboard", None, lambda: self.view.dashboard(span), takes, lead)

    def alerts(self, *, takes: float | None = None, lead: str | None = None) -> Evidence:
        """Alerts firing now."""
        return self._look("alerts", None, self.view.alerts, takes, lead)

    def logs(
        self, component: str | None = None, *, takes: float | None = None, lead: str | None = None
    ) -> Evidence:
        """New ERROR signatures since the trouble began, and the loudest warnings."""
        if component is not None and component not in self.sim.scenario.components:
            return self._refuse("logs", component, self._unknown_component(component), lead)
        return self._look("logs", component, lambda: self.view.logs(component), takes, lead)

    def changes(
        self, component: str | None = None, *, takes: float | None = None, lead: str | None = None
    ) -> Evidence:
        """The change log as applied: deploys, migrations, config changes, notices. With
        ``component``, its own history: every change that touched it, including those made
        outside the change log (by an automation, a customer)."""
        if component is not None and component not in self.sim.scenario.components:
            return self._refuse("changes", component, self._unknown_component(component), lead)
        return self._look("changes", component, lambda: self.view.changes(component), takes, lead)

    def deps(
        self, component: str | None = None, *, takes: float | None = None, lead: str | None = None
    ) -> Evidence:
        """Health of every component (or of one and its dependencies); the deepest failing."""
        if component is not None and component not in self.sim.scenario.components:
            return self._refuse("deps", component, self._unknown_component(component), lead)
        return self._look("deps", component, lambda: self.view.deps(component), takes, lead)

    def net(self, *, takes: float | None = None, lead: str | None = "network") -> Evidence:
        """Network checks: edge and synthetic latency by region, loss, maintenance notices."""
        return self._look("net", None, self.view.net, takes, lead)

    def lb(self, *, takes: float | None = None, lead: str | None = "lb") -> Evidence:
        """Load-balancer checks: backends in rotation, its config changes."""
        return self._look("lb", None, self.view.lb, takes, lead)

    def thirdparty(self, *, takes: float | None = None, lead: str | None = None) -> Evidence:
        """Vendors' status pages."""
        return self._look("thirdparty", None, self.view.thirdparty, takes, lead)

    # -- act -----------------------------------------------------------------------------------
    def restart(self, component: str, **kw: Any) -> Evidence:
        """Rolling restart of ``component`` (a single instance goes down while it restarts)."""
        return self._act("restart", "restart", component, **kw)

    def rollback(self, change: str, **kw: Any) -> Evidence:
        """Roll back a deploy, a migration or a config change from the change log."""
        lead = kw.get("lead")
        known = self.sim.world.changes
        if change not in known:
            why = f"no change named {change!r}{did_you_mean(change, list(known))}"
            return self._refuse("rollback", change, why, lead)
        spec = known[change]
        if spec.kind not in ROLLBACK_OF:
            why = f"{change} is a {spec.kind}, not something that can be rolled back"
            return self._refuse("rollback", change, why, lead)
        if all(c.id != change for _, c in self.sim.world.applied):
            return self._refuse("rollback", change, f"{change} has not been applied", lead)
        if any(s["call"] == "rollback" and s["target"] == change and s["ok"] for s in self.steps):
            return self._refuse("rollback", change, f"{change} was already rolled back", lead)
        upgrade = self.sim.world.major_upgrade(change)
        if upgrade is not None:
            db, old, new = upgrade
            why = (
                f"{change} upgraded {db} from PostgreSQL {old} to {new} with pg_upgrade: the "
                "old cluster is behind every write since, so there is no going back in place — "
                "fix forward (db shows what the upgrade left behind)"
            )
            return self._refuse("rollback", change, why, lead)
        if spec.kind == "migration" and self.actions.database_of(change) is not None:
            why = (
                f"{change} has not committed: it is still waiting for its locks or running "
                "(db shows it); cancel it instead"
            )
            return self._refuse("rollback", change, why, lead)
        return self._act("rollback", ROLLBACK_OF[spec.kind], change, **kw)

    def toggle_flag(self, flag: str, **kw: Any) -> Evidence:
        """Turn feature flag ``flag`` off: the behaviour behind it stops on every instance
        within the flag system's propagation (the kill switch of a change that has one), and
        a staged rollout of that change stops where it is."""
        lead = kw.get("lead")
        flags = sorted({c.flag for c in self.sim.scenario.changes if c.flag is not None})
        if flag not in flags:
            listing = ", ".join(flags) if flags else "none: no change sits behind a flag"
            why = f"no feature flag named {flag!r}{did_you_mean(flag, flags)} (flags: {listing})"
            return self._refuse("toggle_flag", flag, why, lead)
        if flag in self.sim.rollouts.flags_off:
            return self._refuse("toggle_flag", flag, f"{flag} is already off", lead)
        if not any(c.flag == flag for _, c in self.sim.world.applied):
            why = f"no change behind {flag} has been applied yet: there is nothing to turn off"
            return self._refuse("toggle_flag", flag, why, lead)
        return self._act("toggle_flag", "toggle_flag", flag, **kw)

    def free_disk(self, component: str, **kw: Any) -> Evidence:
        """Delete what fills ``component``'s disks (old logs, temporary files) on every
        instance: those that failed with "No space left on device" serve again. It does not
        stop whatever writes so much."""
        return self._act("free_disk", "free_disk", component, **kw)

    def disable_checks(self, component: str, **kw: Any) -> Evidence:
        """Turn the balancer's active health checks of ``component`` off: every instance is
        back in rotation, whatever the checks said (what to do when they eject live
        instances; a crashed one then gets its share of calls too)."""
        return self._switch("disable_checks", component, "unchecked", True, "checks off", **kw)

    def enable_checks(self, component: str, **kw: Any) -> Evidence:
        """Turn ``component``'s health checks back on."""
        return self._switch("enable_checks", component, "unchecked", False, "checks on", **kw)

    def shed_load(self, component: str, **kw: Any) -> Evidence:
        """Shed load at ``component``: each instance queues no more than one round of work
        and refuses the rest at once (fast errors instead of waits that end in timeouts), so
        what it does take finishes in time."""
        return self._switch("shed_load", component, "shedding", True, "shedding load", **kw)

    def stop_shedding(self, component: str, **kw: Any) -> Evidence:
        """Stop shedding load at ``component``: its queues take what they took before."""
        return self._switch("stop_shedding", component, "shedding", False, "not shedding", **kw)

    def _switch(
        self, action: str, component: str, setting: str, on: bool, so: str, **kw: Any
    ) -> Evidence:
        """An action that turns a component's ``setting`` (a state field) on or off; refused
        when it already is (``so`` says how, for people)."""
        state = self.sim.world.states.get(component)
        if state is not None and getattr(state, setting) == on:
            return self._refuse(action, component, f"{component}: already {so}", kw.get("lead"))
        return self._act(action, action, component, **kw)

    def isolate(self, component: str, **kw: Any) -> Evidence:
        """Disable a component: every call to it fails fast (e.g. payments offline)."""
        if component in self.actions.isolated:
            return self._refuse(
                "isolate", component, f"{component} is already isolated", kw.get("lead")
            )
        return self._act("isolate", "isolate", component, **kw)

    def restore(self, component: str, **kw: Any) -> Evidence:
        """Undo an isolation; or restore a database that lost its data from its backup (a
        copy of the whole database: how long is the data tier's to say)."""
        if self.actions.restores("restore", component):
            return self._act("restore", "restore", component, **kw)
        if component not in self.actions.isolated:
            why = f"{component} is not isolated" + (
                f" (isolated: {', '.join(sorted(self.actions.isolated))})"
                if self.actions.isolated
                else ""
            )
            return self._refuse("restore", component, why, kw.get("lead"))
        return self._act("restore", "restore", component, **kw)

    def failover(self, component: str, **kw: Any) -> Evidence:
        """Switch to a standby (a database replica, a second payment provider)."""
        return self._act("failover", "failover", component, **kw)

    def scale_out(self, component: str, *, to: int | None = None, **kw: Any) -> Evidence:
        """Add capacity to ``component``: half as much again, or — a replicated database with a
        data tier — a new replica, provisioned (boot, a copy of the data, catch-up) into a
        spare instance; with none left it is refused (the account's quota).

        ``to`` scales it to that many instances instead: where capacity is managed, the
        missing ones are launched through the account (the quota may refuse them) or the
        extra ones terminated at once; elsewhere it runs that many once the action is done.
        Refused for a database, outside 1 to the limit, and outside a scaling policy's min
        and max."""
        if self.actions.provisions("scale_out", component) and (
            self.actions.data is not None and self.actions.data.spare(component) is None
        ):
            why = f"no spare instance left for another {component} replica (quota)"
            return self._refuse("scale_out", component, why, kw.get("lead"))
        spec = self.sim.scenario.components.get(component)
        if spec is not None and spec.balancing == "shard":
            why = (
                f"{component} is sharded: a new instance holds no data until keys are moved to "
                "it (a resharding, not a scale-out)"
            )
            return self._refuse("scale_out", component, why, kw.get("lead"))
        if to is not None:
            refusal = self._scale_to_refusal(component, to)
            if refusal is not None:
                return self._refuse("scale_out", component, refusal, kw.get("lead"))
            if spec is not None:
                self.actions.asked[("scale_out", component)] = {"to": to}
            kw["detail"] = f" to {to}"
        return self._act("scale_out", "scale_out", component, **kw)

    def failover_region(self, region: str, **kw: Any) -> Evidence:
        """Move a dark region's shoppers to another region (a DNS change): they move as
        their resolvers' cached answers expire, evenly over ``traffic.dns_ttl``, and the step
        ends when the last has. Refused for a region the shop has no shoppers in, and when
        only one region is left to serve them."""
        regions = self.regions()
        if region not in regions:
            why = f"no region named {region!r}{did_you_mean(region, regions)} (known: {', '.join(regions)})"
            return self._refuse("failover_region", region, why, kw.get("lead"))
        if len(regions) < 2:
            why = f"{region} is the shop's only region: there is nowhere to move its shoppers"
            return self._refuse("failover_region", region, why, kw.get("lead"))
        return self._act("failover_region", "failover_region", region, **kw)

    def regions(self) -> list[str]:
        """The traffic's regions, by name (``status`` shows each; a region is a cause)."""
        return sorted(self.sim.scenario.traffic.regions)

    def _scale_to_refusal(self, component: str, to: int) -> str | None:
        """Why ``scale_out(component, to=to)`` cannot be asked for, or None."""
        spec = self.sim.scenario.components.get(component)
        if spec is None:
            return None  # the act refuses an unknown component, naming it
        if not 1 <= to <= MAX_REPLICAS:
            return f"scale {component} to {to}: expected 1 to {MAX_REPLICAS} instances"
        if spec.kind == "third_party":
            return f"{component} is a third party: its capacity is not ours to set"
        if component in self.sim.world.data:
            return f"{component} is a database: it gains a replica at a time (scale {component})"
        fleet = self.actions.fleet  # the policy as it is now: change_scaling may have moved it
        policy = fleet.policies.get(component) if fleet is not None else spec.autoscaling
        if policy is not None and not policy.min <= to <= policy.max:
            return (
                f"{component}'s scaling policy keeps it at {policy.min} to {policy.max} "
                f"instances; {to} is outside them"
            )
        return None

    def fix(self, target: str, **kw: Any) -> Evidence:
        """Deploy compatible code for the declared cause (only once a cause is declared).

        With ``background=True`` the call returns once the rollout has started (its step is
        completed, with what it remedied, when the rollout ends): the drill does this, so a
        trainee can keep working during a rollout of many minutes."""
        if self.cause is None:
            why = "no cause declared yet: diagnose first, then deploy a fix for it"
            return self._refuse("fix", target, why, kw.get("lead"))
        known = {*self.sim.scenario.components, *self.sim.world.changes}
        if target not in known:
            why = f"no component or change named {target!r}{did_you_mean(target, sorted(known))}"
            return self._refuse("fix", target, why, kw.get("lead"))
        return self._act("fix", "deploy_fix", target, **kw)

    def _act(
        self,
        call: str,
        action: str,
        target: str,
        *,
        takes: float | None = None,
        lead: str | None = None,
        background: bool = False,
        detail: str = "",
    ) -> Evidence:
        on_change = action in CHANGE_ACTIONS
        # a change, a query, a flag …: checked by the call itself
        free_target = action in (
            "deploy_fix",
            "cancel_query",
            "retry_migration",
            "toggle_flag",
            "failover_region",
        )
        if not on_change and not free_target and target not in self.sim.scenario.components:
            return self._refuse(call, target, self._unknown_component(target), lead)
        t = self.now
        harm = self.actions.harm(action, target)
        failed = (
            FAILURE_REASONS.get(action, "failed")
            if self.failures and self.rng.random() < FAILURE.get(action, 0.0)
            else None
        )
        try:
            self._advance(t + self._cost("act", takes))
            process = self.actions.start(action, target, failed=failed)
            if background:
                return self._in_background(call, target, t, process, failed, lead, harm)
            while process.is_alive:
                # ten steps to the action's end, so the step ends when the action does
                self._advance(self.now + max(1.0, self.actions.estimate(action, target) / 10))
                if not process.is_alive:
                    break
        except HorizonReached:
            self._record(call, target, t, False, HORIZON_REACHED, lead=lead, harm=harm)
            raise
        remedied: list[str] = list(process.value or [])
        took = self.now - t
        failed = failed or self.actions.gave_up.pop((action, target), None)
        if failed is not None:
            summary = f"{call} {target}{detail} failed after {took:.0f}s: {failed}"
        else:
            summary = f"{call} {target}{detail} done in {took:.0f}s"
        return self._record(
            call, target, t, failed is None, summary, lead=lead, remedied=remedied, harm=harm
        )

    def _in_background(
        self,
        call: str,
        target: str,
        t: float,
        process: Any,
        failed: str | None,
        lead: str | None,
        harm: str | None,
    ) -> Evidence:
        """Record a started action now; complete its step when the action ends."""
        # The typical time, never the fault's own remedy time: that would tell the caller
        # whether this action is the remedy before it has run. Where the world decides (a
        # restore's copy, a promotion's replay), the estimate from what one can see instead.
        action = action_of(call, target, self)
        if self.actions.decided_by(action, target) == "mechanism":
            typical = self.actions.estimate(action, target)
            what = "at the data's size and rates, this takes"
        elif action in ("raise_quota", "escalate"):  # a vendor's time, not a remedy's
            typical = self.actions.estimate(action, target)
            what = "the vendor answers in"
        else:
            typical = DEFAULT_DURATIONS[action]
            what = "a rollout like this takes"
        summary = f"{call} {target} started; {what} {_about(typical)}"
        evidence = self._record(call, target, t, True, summary, lead=lead, harm=harm)
        step = self.steps[-1]

        def done(event: Any) -> None:
            step["end"] = round(self.now, 6)
            step["ok"] = failed is None
            step["remedied"] = list(event.value or [])
            step["evidence"] = (
                f"{call} {target} failed after {self.now - t:.0f}s: {failed}"
                if failed is not None
                else f"{call} {target} done in {self.now - t:.0f}s"
            )

        process.callbacks.append(done)
        return evidence

    # -- communicate and declare --------------------------------------------------------------
    def notify(self, message: str = "", **kw: Any) -> Evidence:
        """Post to the status page (users)."""
        ev = self._say("notify", message or self._status_message(), **kw)
        if self.notified_at is None:
            self.notified_at = ev.t
        return ev

    def update(self, message: str = "", **kw: Any) -> Evidence:
        """Update stakeholders (support, business, leadership)."""
        ev = self._say("update", message or self._stakeholder_message(), **kw)
        if self.stakeholders_at is None:
            self.stakeholders_at = ev.t
        return ev

    def _say(
        self, call: str, message: str, *, takes: float | None = None, lead: str | None = None
    ) -> Evidence:
        return self._look(call, None, lambda: (message, {"message": message}), takes, lead)

    def queries(self, started: bool = False) -> list[str]:
        """The ids of the databases' long-running queries (``background:``); with
        ``started``, only those that have begun (``db`` shows each by its id while it runs)."""
        return [
            q.id
            for data in self.sim.scenario.databases.values()
            for q in data.background
            if not started or q.start <= self.now
        ]

    def tables(self) -> list[str]:
        """The databases' tables, by name (the `db` view and the logs name them: a sequence
        that ran out, a table a lock is queued on)."""
        return sorted({t for data in self.sim.scenario.databases.values() for t in data.tables})

    def diagnose(
        self, cause: str, *, takes: float | None = None, lead: str | None = None
    ) -> Evidence:
        """Declare the cause: a change id, a component, a database's table or long-running
        query (by its id), a region (where the shop has more than one), ``network`` or
        ``lb``."""
        known = [
            *self.sim.scenario.components,
            *self.sim.world.changes,
            *self.tables(),
            *self.queries(),
            *(regions if len(regions := self.regions()) > 1 else ()),
            *LEADS,
        ]
        if cause not in known:
            what = "no change, component, table, query or lead named"
            why = f"{what} {cause!r}{did_you_mean(cause, known)}"
            return self._refuse("diagnose", cause, why, lead)
        ev = self._look("diagnose", cause, lambda: (f"cause declared: {cause}", {}), takes, lead)
        self.cause = cause
        if self.diagnosis is None:
            self.diagnosis = {"at": ev.t, "cause": cause, "step": len(self.steps) - 1}
        return ev

    def mitigated(self, **kw: Any) -> Evidence:
        """Declare the user-facing impact over."""
        ev = self._look(
            "mitigated", None, lambda: ("declared mitigated", {}), kw.get("takes"), kw.get("lead")
        )
        if self.mitigated_at is None:
            self.mitigated_at = ev.t
        return ev

    def resolved(self, **kw: Any) -> Evidence:
        """Declare the incident resolved (cause removed and verified)."""
        ev = self._look(
            "resolved", None, lambda: ("declared resolved", {}), kw.get("takes"), kw.get("lead")
        )
        self.resolved_at = ev.t
        return ev

    def wait(self, seconds: float, *, lead: str | None = None) -> Evidence:
        """Let simulated time pass (watching, waiting for a rollout)."""
        t = self.now
        try:
            self._advance(t + max(0.0, seconds))
        except HorizonReached:
            self._record("wait", None, t, False, HORIZON_REACHED, lead=lead)
            raise
        return self._record("wait", None, t, True, f"waited {self.now - t:.0f}s", lead=lead)

    def _status_message(self) -> str:
        """What a status page would say now, from what the dashboards show."""
        if self.mitigated_at is not None:
            return "The issue is fixed; everything works again. We are monitoring."
        paths = {n: e.path for n, e in self.sim.scenario.endpoints.items()}
        _, facts = self.view.status()  # the failing endpoints, and the outside checks
        failing = [paths[e] for e in facts["failing"]]
        if not failing:  # nothing on the graphs: dark dashboards, or only the outside checks fail
            probed = sorted(
                {paths[e] for eps in facts["regions"].values() for e in eps if e in paths}
            )
            where = ", ".join(probed) if probed else "the shop"
            return f"We are investigating reports of problems reaching {where}."
        onset = facts["onset"]
        since = f" since {self.view.clock(onset)} UTC" if onset is not None else ""
        return f"Some requests to {', '.join(failing)} fail{since}. We are investigating."

    def _stakeholder_message(self) -> str:
        """An update for support and the business: impact so far, cause, next step."""
        lost = sum(r[7] for r in self.sim.engine.metrics.business_rows)
        cur = self.sim.scenario.traffic.order_value.currency
        cause = f"cause: {self.cause}" if self.cause else "cause not yet known"
        state = "mitigated, monitoring" if self.mitigated_at is not None else "ongoing"
        return f"Incident {state}; {cause}; lost revenue so far ≈ {lost:,.0f} {cur}."

    # -- journal ---------------------------------------------------------------------------------
    def _unknown_component(self, name: str) -> str:
        comps = list(self.sim.scenario.components)
        return f"no component named {name!r}{did_you_mean(name, comps)}"

    def credit_episodes(self) -> None:
        """Credit each mechanism's episode that ended to the action that ended it, when that
        is known only in hindsight (replicas added back ended an outage if they stayed up):
        the last action of one of its remedies, on one of its targets, that was running when
        it ended."""
        faults = self.sim.faults
        credited = {f for s in self.steps for f in s["remedied"]}
        for fid, ended in faults.ended.items():
            fault = faults.faults[fid]
            if not fault.mechanism or fid in credited:
                continue
            for step in reversed(self.steps):
                if step["kind"] != "act" or not step["ok"] or step["target"] not in fault.targets:
                    continue
                action = action_of(step["call"], step["target"], self)
                if action in fault.remedies and step["t"] <= ended <= step["end"] + CREDIT_SLACK:
                    step["remedied"] = [*step["remedied"], fid]
                    break

    def to_journal(self, responder: str, description: str) -> dict[str, Any]:
        self.credit_episodes()
        drawn: dict[str, Any] = {} if self.tempo is None else {"tempo": round(self.tempo, 4)}
        if self.evidence is not None:
            drawn["evidence"] = self.evidence
        return {
            "responder": responder,
            **drawn,  # the team's tempo, when the runbook drew one; what it saw first
            "description": description,
            "started_at": self.started_at,
            "steps": self.steps,
            "diagnosis": self.diagnosis,
            "notified_at": self.notified_at,
            "stakeholders_at": self.stakeholders_at,
            "mitigated_at": self.mitigated_at,
            "resolved_at": self.resolved_at,
        }
