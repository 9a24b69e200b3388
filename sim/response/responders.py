"""Modelled responders: runbook followers with bounded rationality.

A :class:`RunbookResponder` holds hypotheses about the cause (leads: ``network``, ``lb``,
``change:<id>``, ``component:<name>``, ``thirdparty:<name>``, ``query:<id>``) with weights, and updates them
from the evidence each step returns — reading a clue right with the probability its profile's
``skill`` gives. A step marked ``when: {chase: network}`` is taken with probability
``susceptibility × loudness × plausibility``: how loud the lead is in what the responder has
seen (an edge-latency spike, a maintenance notice, a config change on the load balancer just
before the errors) times how plausible it is against the other hypotheses. Responders read
telemetry only; the oracle (:mod:`sim.response.special`) is the one exception, by definition
— it is the counterfactual that knows the cause.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

import networkx as nx

from sim.response import people
from sim.response.api import HorizonReached, Incident
from sim.response.evidence import DATABASE_SAYS, SEQUENCE_AT_MAX, TABLE_IN_ERROR, Evidence
from sim.scenario.schema import Runbook, RunbookStep

KIND_PRIOR = {"migration": 1.0, "deploy": 1.0, "config": 0.8, "notice": 0.6}
# How much likelier a lead stays once an error says in words what is wrong elsewhere: a
# change to another component that touches no table named, the network, the load balancer
TOLD = 0.1
SETTLE = 120.0  # seconds a check waits after an action before judging it
MAX_LOOPS = 40
REST_ATTEMPTS = 4  # tries at resting replicas that keep falling over
REST_LONGER = 600.0  # seconds more out of the rotation at each further try
# an edge's error that names the upstream it could not reach (nginx, envoy)
UPSTREAM = re.compile(r'upstream[ =]"?([a-z][a-z0-9-]*)"?')
# a service's error about the call it made (the callee's certificate, not its own)
CALL_TO = re.compile(r"call to ([a-z][a-z0-9-]*) failed")
# a caller's error about the one shard that holds a key's data ("shard shards-3 … out of rotation")
SHARD = re.compile(r"shard ([a-z][a-z0-9-]*?)-\d+ ")
OOM = ("OOMKilled", "Out of memory: Killed process")
# a peer's line that names what only a fix on that peer ends
NEEDS_FIX = ("certificate has expired", "clock skew")
RELAPSE = 0.10  # a failed share, after mitigation, that means it is back, not tailing off
MAX_REOPEN = 3  # times an incident declared mitigated is taken up again


class Responder(Protocol):
    """Anything that can take the pager: ``respond`` drives the incident to the horizon."""

    name: str
    description: str

    def respond(self, incident: Incident) -> None: ...


@dataclass
class Beliefs:
    """Weights over leads; shares are weights over their sum."""

    weights: dict[str, float] = field(default_factory=dict)

    def add(self, lead: str, weight: float) -> None:
        self.weights[lead] = self.weights.get(lead, 0.0) + weight

    def scale(self, lead: str, factor: float) -> None:
        if lead in self.weights:
            self.weights[lead] *= factor

    def share(self, lead: str) -> float:
        total = sum(self.weights.values())
        return self.weights.get(lead, 0.0) / total if total else 0.0

    def top(self) -> tuple[str | None, float]:
        if not self.weights:
            return None, 0.0
        lead = max(sorted(self.weights), key=lambda k: self.weights[k])
        return lead, self.share(lead)


def lead_target(lead: str) -> str:
    """``change:mig-2041`` → ``mig-2041``; ``network`` stays ``network``."""
    return lead.partition(":")[2] or lead


class RunbookResponder:
    """Follows a runbook: its steps in order, then its loop until recovery, then its close."""

    def __init__(self, runbook: Runbook, rng: random.Random) -> None:
        self.runbook = runbook
        self.name = runbook.name
        self.description = runbook.description
        self.profile = runbook.profile
        self.rng = rng
        self._forget()

    def _forget(self) -> None:
        """What the engineer believes and has seen of an incident: none of it, at the start
        of each."""
        self.beliefs = Beliefs({"network": 0.15, "lb": 0.15})
        self.failing: bool | None = None
        self.cold_caches: dict[str, float] = {}  # caches the last dashboard showed refilling
        self.slow: dict[str, float] = {}  # endpoints the last dashboard showed crawling
        self.recovered = False
        self.acted_on: str | None = None
        self.acted_call: str | None = None  # the call of the last action that went through
        # components a restart or more capacity did not help: next time, their code
        self.tried: set[str] = set()
        self.unverified = False  # something was done since the last check
        self.closing = False
        self.ruled_out: set[str] = set()
        self.isolated: list[str] = []
        self.onset: float | None = None
        self.changes: list[dict[str, Any]] = []
        self.tables: set[str] = set()
        self.edge_ratio = 1.0
        self.deps: dict[str, Any] = {}
        self.running: set[str] = set()  # long statements the last database query showed
        self.exhausted: set[str] = set()  # databases with a sequence that ran out
        self.stale: set[str] = set()  # databases whose planner statistics are missing
        self.seen_db = False  # a database was queried since the last action
        self.relapsing: set[str] = set()  # databases whose replicas keep falling over
        self.lost: set[str] = set()  # databases whose primary's data is gone
        # managed capacity read in the console: component → "refused" (the quota turns its
        # launches away) or "shrunk" (its policy terminated instances while it was saturated)
        self.capacity: dict[str, str] = {}
        self.policy_max: dict[str, int] = {}  # each scaling policy's max, as last read there
        self.congested: list[str] = []  # links the net view showed dropping packets
        self.escalated: set[str] = set()  # links escalated to their vendor
        self.full_disks: set[str] = set()  # components whose logs said their disk is full
        self.leaking: set[str] = set()  # components whose hosts said the OOM killer struck
        self.fixed_by: str | None = None  # the lead of the last action that went through
        self.read_logs: set[str] = set()  # components whose own logs were read
        self.histories: set[str] = set()  # components whose own change history was read
        # components whose logs name a cause only a fix ends: an expired certificate (renew
        # and deploy it), clocks that no longer sync (a restart steps the clock once, then it
        # drifts again: repair the time sync)
        self.needs_fix: set[str] = set()
        self.ejecting: set[str] = set()  # backends whose checks eject instances that are up
        self.promotable: set[str] = set()  # … with a replica serving that could take over
        self.endpoints: dict[str, float] = {}  # failing endpoints last seen → failed share
        self.quotes_read: set[str] = set()  # alerts whose quoted line was taken in
        self.told: set[str] = set()  # components an error line said in words was broken

    # -- driving -----------------------------------------------------------------------------
    def respond(self, incident: Incident) -> None:
        incident.pace = self.profile.pace
        if self.profile.tempo == "population":
            incident.tempo = people.draw(incident.sim.streams("response/tempo"))
        while incident.wait_for_page(ack=self.profile.ack) is not None:
            if incident.evidence is None:
                # What the team has in front of it as it starts: an error that says what is
                # wrong, or symptoms — recorded, to compare runs with public incidents by it
                # (docs/people.md)
                incident.evidence, _ = incident.view.plainness()
            self.inc = incident
            try:
                answered = self._answer()
            except HorizonReached:
                return
            # on call for the rest of the shift when it has another incident: a new page is a
            # new incident, and what was believed of this one does not carry over
            if not answered or not incident.more_incidents():
                return
            incident.next_incident()
            self._forget()

    def _answer(self) -> bool:
        """Work one incident from its page; True when it ended declared resolved."""
        begun = self.inc.now
        for step in self.runbook.steps:
            if self.recovered:
                break
            self.take(step)
        loops = reopened = 0
        while True:
            while not self.recovered and self.runbook.loop and loops < MAX_LOOPS:
                loops += 1
                for step in self.runbook.loop:
                    self.take(step)
                    if self.recovered:
                        break
            if not self.recovered:
                return False
            if not self._close() or reopened >= MAX_REOPEN:
                return self.inc.resolved_at is not None and self.inc.resolved_at >= begun
            # it came back as bad as before: what was done did not hold
            reopened += 1
            self.recovered = self.closing = False
            if self.fixed_by is not None:
                self.rule_out(self.fixed_by)

    def _close(self) -> bool:
        """The runbook's closing steps; True if the trouble came back in earnest while
        watching (a relapse: back to investigating), not just a slow tail of failures."""
        self.closing = True
        for step in self.runbook.close:
            ev = self.take(step)
            back = ev is not None and ev.call == "dashboard" and self.endpoints
            if back and max(self.endpoints.values()) >= RELAPSE:
                return True
        return False

    def take(self, step: RunbookStep) -> Evidence | None:
        """Take ``step`` if its conditions hold; update beliefs from what it returns."""
        lead = self._when(step)
        if lead is False:
            return None
        target = self._target(step)
        if step.target is not None and target is None:
            return None
        takes = None
        if step.takes is not None:
            from sim.engine.common.streams import sampler

            takes = sampler(step.takes, self.rng)()
        return self.call(
            step.call, target, takes, lead if isinstance(lead, str) else None, to=step.to
        )

    def _when(self, step: RunbookStep) -> bool | str:
        """False when a condition fails; the chased lead's name when one is chased."""
        w = step.when
        if w.diagnosed is not None and (self.inc.cause is not None) != w.diagnosed:
            return False
        if w.failing is not None and bool(self.failing) != w.failing:
            return False
        if w.settled is not None and self._settled() != w.settled:
            return False
        if w.confident is not None:
            _, share = self.beliefs.top()
            if (share >= self.profile.confidence) != w.confident:
                return False
        if w.chance is not None and self.rng.random() >= w.chance:
            return False
        if w.chase is not None:
            lead = self._lead_of_kind(w.chase)
            if lead is None:
                return False
            p = self.profile.susceptibility * self.salience(lead)
            if self.rng.random() >= p:
                return False
            return lead
        return True

    def _settled(self) -> bool:
        """Nothing failing, nothing crawling, no cache refilling, as last seen."""
        return not self.failing and not self.slow and not self.cold_caches

    def _lead_of_kind(self, kind: str) -> str | None:
        if kind in ("network", "lb"):
            return kind if kind not in self.ruled_out else None
        prefix = {"deploy": "change:", "config": "change:", "change": "change:"}.get(
            kind, kind + ":"
        )
        wanted = {c["id"] for c in self.changes if kind in ("change", c["kind"])}
        leads = [
            lead
            for lead in self.beliefs.weights
            if lead.startswith(prefix)
            and lead not in self.ruled_out
            and (prefix != "change:" or lead_target(lead) in wanted)
        ]
        return max(sorted(leads), key=lambda k: self.beliefs.weights[k]) if leads else None

    def salience(self, lead: str) -> float:
        """Loudness × plausibility of a lead in the evidence seen so far, in [0, 1]."""
        _, top_share = self.beliefs.top()
        plausible = (self.beliefs.share(lead) / top_share) ** (1 / 3) if top_share else 0.0
        if lead == "network":
            loud = min(1.0, math.log(max(self.edge_ratio, 1.0)) / math.log(4.0))
            if any(c["kind"] == "notice" for c in self.changes):
                loud = max(loud, 0.6)
        elif lead == "lb":
            loud = (
                1.0
                if any(
                    c["kind"] == "config" and self._edge() in c["components"] for c in self.changes
                )
                else 0.3
            )
        else:
            loud = 0.7
        return loud * plausible

    def _edge(self) -> str:
        for name, spec in self.inc.sim.scenario.components.items():
            if spec.kind == "load_balancer":
                return name
        return ""

    # -- targets -----------------------------------------------------------------------------
    def _target(self, step: RunbookStep) -> str | None:
        t = step.target
        if t is None or not t.startswith("$"):
            return t
        if t == "$suspect":
            return self._suspect()
        if t == "$cause":
            cause = self.inc.cause
            if cause is None:
                return None
            return self._lead_for(cause)
        if t == "$failing-service":
            return self._failing_service()
        if t == "$latest-deploy":
            deploys = [
                c
                for c in self.changes
                if c["kind"] == "deploy" and f"change:{c['id']}" not in self.ruled_out
            ]
            return f"change:{deploys[0]['id']}" if deploys else None
        if t == "$unexplained":  # the leading suspect is a component no logged change explains
            lead = self._suspect()
            if lead is None or not lead.startswith("component:"):
                return None
            name = lead_target(lead)
            explained = any(
                name in c["components"] and f"change:{c['id']}" not in self.ruled_out
                for c in self.changes
            )
            return None if explained or name in self.histories else lead
        if t == "$isolated":
            return f"component:{self.isolated[-1]}" if self.isolated else None
        return None

    def _suspect(self) -> str | None:
        """The leading hypothesis, among those not ruled out while any is left (all ruled out:
        a component again, whose code may be at fault — not a change already rolled back)."""
        weights = self.beliefs.weights
        for pool in (
            [k for k in weights if k not in self.ruled_out],
            [k for k in weights if not k.startswith("change:")],
        ):
            if pool:
                return max(sorted(pool), key=lambda k: weights[k])
        lead, _ = self.beliefs.top()
        return lead

    def _lead_for(self, name: str) -> str:
        if name in ("network", "lb"):
            return name
        if name in self.inc.sim.world.changes:
            return f"change:{name}"
        if name in self.running:
            return f"query:{name}"
        if name in self.inc.sim.scenario.traffic.regions:
            return f"region:{name}"
        kind = (
            self.inc.sim.scenario.components[name].kind
            if name in self.inc.sim.scenario.components
            else ""
        )
        return f"thirdparty:{name}" if kind == "third_party" else f"component:{name}"

    def _failing_service(self) -> str | None:
        """The failing service a person would blame first: the worst one on the dependency
        view, or — before anyone looked at dependencies — the first service behind the worst
        failing endpoint."""
        kinds = self.inc.sim.scenario.components
        comps = self.deps.get("components", {})
        failing = sorted(
            (n for n in self.deps.get("failing", []) if kinds[n].kind == "service"),
            key=lambda n: -comps[n]["error_ratio"],
        )
        if not failing:
            topo = self.inc.sim.world.topology
            for endpoint in sorted(self.endpoints, key=lambda e: -self.endpoints[e]):
                failing += [c for c in topo.critical_path(endpoint) if kinds[c].kind == "service"][
                    :1
                ]
        failing = [n for n in failing if f"component:{n}" not in self.ruled_out]
        return f"component:{failing[0]}" if failing else None

    # -- calls -------------------------------------------------------------------------------
    def call(
        self,
        call: str,
        lead_or_name: str | None,
        takes: float | None,
        chased: str | None,
        to: int | None = None,
    ) -> Evidence | None:
        inc = self.inc
        lead = chased or (lead_or_name if lead_or_name and self._is_lead(lead_or_name) else None)
        name = lead_target(lead_or_name) if lead_or_name else None
        if call in ("status", "dashboard", "alerts", "thirdparty"):
            ev: Evidence = getattr(inc, call)(takes=takes, lead=lead)
        elif call in ("logs", "deps", "capacity", "changes"):
            ev = getattr(inc, call)(name, takes=takes, lead=lead)
        elif call == "db":
            if not inc.sim.world.data:
                return None  # nothing to query: no database here declares a data tier
            ev = inc.db(name, takes=takes, lead=lead)
        elif call in ("net", "lb"):
            ev = getattr(inc, call)(
                takes=takes, lead=chased or ("network" if call == "net" else "lb")
            )
        elif call == "verify":
            if not (self.unverified or self.closing):
                return None  # nothing was done since the last check
            return self.verify()
        elif call == "wait":
            ev = inc.wait(takes if takes is not None else 300.0, lead=lead)
        elif call in ("notify", "update", "mitigated", "resolved"):
            ev = getattr(inc, call)(takes=takes, lead=lead)
        elif call == "diagnose":
            if name is None:
                return None
            ev = inc.diagnose(name, takes=takes, lead=lead)
        elif call == "remedy":
            if lead_or_name is None:
                return None
            return self.remedy(self._lead_for(name) if name else lead_or_name, takes)
        else:  # restart, rollback, isolate, restore, failover, scale_out, fix
            if name is None:
                return None
            sized = {"to": to} if to is not None else {}  # a scale_out to a number
            ev = getattr(inc, call)(name, takes=takes, lead=lead, **sized)
            self.unverified = True
            self.seen_db = False
            if call == "isolate" and ev.ok:
                self.isolated.append(name)
            if call == "restore" and ev.ok and name in self.isolated:
                self.isolated.remove(name)
            if ev.ok and call not in ("isolate", "restore"):
                self.acted_on = lead or self._lead_for(name)
        self.learn(ev)
        return ev

    def relieve_link(self, name: str, takes: float | None, lead: str) -> Evidence:
        """A link under suspicion: read the network checks, and escalate to its vendor (once)
        when it is dropping packets; otherwise watch."""
        inc = self.inc
        self.call("net", None, None, None)
        spec = inc.sim.scenario.components[name]
        if name in self.congested and spec.vendor is not None:
            self.congested.remove(name)
            self.escalated.add(name)
            return inc.escalate(name, takes=takes, lead=lead, background=True)
        return inc.wait(300.0, lead=lead)

    def add_capacity(self, name: str, takes: float | None, lead: str) -> Evidence:
        """A saturated component: where capacity is managed, read the console first — a quota
        that refuses launches is raised (a support case, left to run), a policy that shrank
        the fleet while it was stuck is suspended — then scale out."""
        inc = self.inc
        fleet = inc.actions.fleet
        managed = fleet is not None and fleet.managed(name)
        if managed and name not in self.capacity:
            self.call("capacity", name, None, None)
        seen = self.capacity.get(name)
        if seen == "refused":
            self.capacity[name] = "asked"  # once: the provider takes its time
            return inc.raise_quota(name, takes=takes, lead=lead, background=True)
        if seen == "shrunk":
            self.capacity[name] = "suspended"
            inc.suspend_scaling(name, takes=takes, lead=lead)
        if seen == "at max":  # the policy may launch no more: let it, half as many again
            self.capacity[name] = "raised"
            most = self.policy_max[name]  # as the console showed it
            inc.change_scaling(name, max=math.ceil(most * 1.5), takes=takes, lead=lead)
        return inc.scale_out(name, takes=takes, lead=lead)

    def _learn_capacity(self, f: dict[str, Any]) -> None:
        saturated = set(self.deps.get("saturated", []))
        for g in f["groups"]:
            name = g["component"]
            if self.capacity.get(name) in ("asked", "suspended", "raised"):
                continue
            policy = g["policy"]
            if policy is not None:
                self.policy_max[name] = policy["max"]
            at_max = policy is not None and g["in_service"] + g["launching"] >= policy["max"]
            refusals = [a for a in f["activity"] if a["component"] == name]
            if refusals and refusals[0]["kind"] == "scale.refused":
                self.capacity[name] = "refused"  # the newest activity is a refusal
            elif name in saturated and any(
                a["kind"] == "scale.terminate" and a["component"] == name for a in f["activity"]
            ):
                self.capacity[name] = "shrunk"
            elif name in saturated and at_max and not policy["suspended"]:
                self.capacity[name] = "at max"  # saturated, and its policy may add nothing
            else:
                self.capacity.setdefault(name, "seen")

    def _is_lead(self, text: str) -> bool:
        return text in ("network", "lb") or ":" in text

    def remedy(self, lead: str, takes: float | None) -> Evidence | None:
        """The action a lead calls for: roll back a change, restart a component, fail over a vendor."""
        inc = self.inc
        name = lead_target(lead)
        if lead.startswith("component:") and name in inc.sim.world.data and not self.seen_db:
            self.call("db", name, None, None)  # look inside the database before touching it
        if lead.startswith("change:"):
            change = inc.sim.world.changes[name]
            on_data_tier = change.kind in ("migration", "deploy") and (
                change.components[0] in inc.sim.world.data
            )
            if on_data_tier and name not in self.running:
                # has it committed? what did an upgrade leave behind?
                self.call("db", change.components[0], None, None)
            if change.kind == "notice":
                ev = inc.wait(300.0, lead=lead)
            elif name in self.running:  # a migration still waiting or running: stop it
                ev = inc.cancel(name, takes=takes, lead=lead)
            elif change.flag is not None and change.flag not in inc.sim.rollouts.flags_off:
                ev = inc.toggle_flag(change.flag, takes=takes, lead=lead)  # the kill switch
            else:
                ev = inc.rollback(name, takes=takes, lead=lead)
        elif lead.startswith("query:"):
            ev = inc.cancel(name, takes=takes, lead=lead)
        elif lead.startswith("thirdparty:"):
            ev = inc.failover(name, takes=takes, lead=lead)
        elif lead.startswith("region:"):
            ev = inc.failover_region(name, takes=takes, lead=lead)  # move its shoppers away
        elif lead.startswith("component:") and name in self.promotable:
            ev = inc.promote(name, takes=takes, lead=lead)  # a replica has the data: minutes
        elif lead.startswith("component:") and name in self.lost:
            ev = inc.restore(name, takes=takes, lead=lead)  # nothing to restart: copy it back
        elif lead.startswith("component:") and name in self.relapsing:
            ev = self.rest_replicas(name, takes)
        elif lead.startswith("component:") and name in self.full_disks:
            self.full_disks.discard(name)  # freed: if it fills again, the logs will say so
            ev = inc.free_disk(name, takes=takes, lead=lead)
            writer = self._writer(name)
            if ev.ok and writer is not None:  # what filled it fills it again: stop the writing
                ev = inc.rollback(writer, takes=takes, lead=f"change:{writer}")
        elif lead.startswith("component:") and name in self.needs_fix:
            if inc.cause is None:
                inc.diagnose(name, lead=lead)  # a fix is for a declared cause
            ev = inc.fix(name, takes=takes, lead=lead)  # a renewed certificate, a time sync
        elif lead.startswith("component:") and name in self.stale:
            self.stale.discard(name)  # analyzed: if they are lost again, db says so
            ev = inc.analyze(name, takes=takes, lead=lead)  # no restart brings statistics back
        elif lead.startswith("component:") and name in self.exhausted and inc.cause is not None:
            ev = inc.fix(name, takes=takes, lead=lead)  # widen the column: no restart helps
        elif lead.startswith("component:") and self._own_code(name):
            if inc.cause is None:
                inc.diagnose(name, lead=lead)
            ev = inc.fix(name, takes=takes, lead=lead)  # write and roll out a fix
        elif lead.startswith("component:") and self._leaks(name):
            writer = self._writer(name)  # a restart only resets the leak: remove what leaks
            if writer is not None:
                ev = inc.rollback(writer, takes=takes, lead=f"change:{writer}")
            else:
                ev = inc.restart(name, takes=takes, lead=lead)
        elif lead.startswith("component:") and inc.sim.scenario.components[name].kind == "link":
            ev = self.relieve_link(name, takes, lead)  # nothing on a link to restart
        elif lead.startswith("component:") and name in self.deps.get("saturated", []):
            ev = self.add_capacity(name, takes, lead)
        elif lead.startswith("component:") and self._shard_out(name):
            # the shard out of rotation has a standby: fail it over, not restart all of them
            ev = inc.failover(name, takes=takes, lead=lead)
        elif lead.startswith("component:"):
            ev = inc.restart(name, takes=takes, lead=lead)
        elif lead == "network" and self.congested:
            ev = self.relieve_link(self.congested[0], takes, lead)
        elif lead == "lb" and self.ejecting:
            ev = inc.disable_checks(self.ejecting.pop(), takes=takes, lead=lead)
        elif lead == "lb":
            configs = [
                c for c in self.changes if c["kind"] == "config" and self._edge() in c["components"]
            ]
            if configs:
                ev = inc.rollback(configs[0]["id"], takes=takes, lead=lead)
            else:
                ev = inc.restart(self._edge(), takes=takes, lead=lead)
        else:
            ev = inc.wait(300.0, lead=lead)
        self.unverified = True
        self.seen_db = False
        if ev.ok or "already rolled back" in ev.summary:
            self.acted_on = self.fixed_by = lead
            self.acted_call = ev.call
        elif ev.end == ev.t:  # refused: nothing to do with this lead
            self.rule_out(lead)
        return ev

    def _leaks(self, component: str) -> bool:
        """Whether ``component``'s processes are being killed for memory: its own logs are read
        first (once) if they have not been — no one restarts a service without a look."""
        if component not in self.read_logs and self._runs_code(component):
            self.call("logs", component, None, None)
        return component in self.leaking

    def _own_code(self, component: str) -> bool:
        """Whether what is left is ``component``'s own code: it is the cause again after a restart
        or more capacity did not help, and no change to it is left to roll back (none, or each
        ruled out) — a bug no change brought, such as input the code cannot cope with."""
        return (
            component in self.tried
            and self._runs_code(component)
            and self._writer(component) is None
        )

    def _shard_out(self, component: str) -> bool:
        """Whether ``component`` is sharded and the last dependency view showed some of its
        instances out of rotation (a shard whose host is gone, not the whole store)."""
        seen = self.deps.get("components", {}).get(component)
        spec = self.inc.sim.scenario.components[component]
        return (
            spec.balancing == "shard"
            and seen is not None
            and 0 < seen["in_rotation"] < seen["replicas"]
        )

    def _runs_code(self, component: str) -> bool:
        """A web tier or a service: the shop's own code runs there (a database, a cache, a
        balancer or a third party is someone else's software)."""
        return self.inc.sim.scenario.components[component].kind in ("web", "service")

    def _writer(self, component: str) -> str | None:
        """The latest deploy or config change to ``component`` not ruled out: what started a
        disk filling or a leak (after months of room, something changed)."""
        went_out = [
            c
            for c in self.changes
            if c["kind"] in ("deploy", "config")
            and component in c["components"]
            and c["at"] <= self.inc.now
            and f"change:{c['id']}" not in self.ruled_out
        ]
        return max(went_out, key=lambda c: c["at"])["id"] if went_out else None

    def rest_replicas(self, database: str, takes: float | None) -> Evidence:
        """Replicas that fall over each time they come back: take them all out of the read
        rotation, let them recover and warm (watching the database), add them back at once —
        and if they fall over again, the load is still more than they take: rest them longer
        before the next try."""
        inc = self.inc
        lead = f"component:{database}"
        ev = inc.drain(database, takes=takes, lead=lead)
        for attempt in range(REST_ATTEMPTS):
            if not ev.ok:
                return ev
            extra = attempt * REST_LONGER
            for _ in range(MAX_LOOPS):
                inc.wait(60.0)
                view = inc.db(database, lead=lead)
                replicas = [r for r in view.facts.get("replication", []) if r["role"] == "replica"]
                ready = replicas and all(
                    r["state"] == "drained" and r["cache_warmth"] >= 0.95 for r in replicas
                )
                if ready and extra <= 0:
                    break
                extra -= 60.0
            ev = inc.add_back(database, lead=lead)
            back = ev.end
            inc.wait(SETTLE)
            view = inc.db(database, lead=lead)
            replicas = [r for r in view.facts.get("replication", []) if r["role"] == "replica"]
            if not any((r["last_restart"] or 0.0) >= back for r in replicas):
                return ev  # none fell over since they came back
            ev = inc.drain(database, lead=lead)
        return ev

    def verify(self) -> Evidence:
        """Wait for things to settle, then look: judge the last action by what changed."""
        inc = self.inc
        before = max(self.endpoints.values(), default=0.0)  # the worst failed share last seen
        inc.wait(SETTLE)
        ev = inc.dashboard(span=SETTLE)
        self.learn(ev)
        if not self.failing and not self.slow:  # neither failing nor still crawling
            self.recovered = True
        elif self.acted_on is not None and not self._helped(before):
            if self.acted_on.startswith("component:") and self.acted_call in (
                "restart",
                "scale_out",
            ):
                self.tried.add(lead_target(self.acted_on))  # not the process, not the capacity
            self.rule_out(self.acted_on)
        self.acted_on = None
        self.unverified = False
        return ev

    def _helped(self, before: float) -> bool:
        """Whether added capacity helped without being enough: the worst failed share at least
        halved. Then the lead stands and the next remedy adds more; any other action that left
        the shop failing is ruled out."""
        after = max(self.endpoints.values(), default=0.0)
        return self.acted_call == "scale_out" and 0.0 < after <= before / 2

    def rule_out(self, lead: str) -> None:
        self.ruled_out.add(lead)
        self.beliefs.scale(lead, 0.05)
        if self.inc.cause is not None and self._lead_for(self.inc.cause) == lead:
            self.inc.cause = None

    # -- learning ------------------------------------------------------------------------------
    def reads_right(self, bonus: float = 0.0) -> bool:
        return self.rng.random() < min(1.0, self.profile.skill + bonus)

    def learn(self, ev: Evidence) -> None:
        f = ev.facts
        if not ev.ok or not f:
            return
        if "onset" in f and f["onset"] is not None and self.onset is None:
            self.onset = f["onset"]
        if "failing" in f and ev.call in ("status", "dashboard"):
            # dark graphs or failing outside checks are not "fine": only what can be seen is
            self.failing = (
                bool(f["failing"]) or bool(f.get("no_data")) or f.get("scope", "none") != "none"
            )
            self.endpoints = dict(f["failing"])
            if "cold_caches" in f:  # the dashboard's hit-ratio panels
                self.cold_caches = dict(f["cold_caches"])
            if "slow" in f:  # the dashboard's latency graphs
                self.slow = dict(f["slow"])
        if "edge_latency_ratio" in f:
            self.edge_ratio = max(self.edge_ratio, f["edge_latency_ratio"])
        handler = getattr(self, f"_learn_{ev.call}", None)
        if handler is not None:
            handler(f)

    def _learn_alerts(self, f: dict[str, Any]) -> None:
        """An alert that quotes a line saying in words what is wrong and with what (an error
        tracker's: :meth:`_names_broken`) is read as that log line would be, the deepest
        component's first; a quoted symptom is left for the logs look, which shows it among
        the others."""
        plain = [
            a
            for a in f["firing"]
            if a.get("message")
            and a["id"] not in self.quotes_read
            and self._names_broken({"component": a["target"], "example": a["message"]})
        ]
        if not plain:
            return
        # the deepest first (a database's own words before its callers' echoes), then loudest
        graph = self.inc.sim.world.topology.graph
        quoted_at = {a["target"] for a in plain}
        plain.sort(
            key=lambda a: (
                bool(quoted_at & nx.descendants(graph, a["target"]))
                if a["target"] in graph
                else False,
                -a["value"],
            )
        )
        self.quotes_read.update(a["id"] for a in plain)
        quoted = [
            {"component": a["target"], "level": "ERROR", "example": a["message"]} for a in plain
        ]
        tables = {m.group(1).lower() for a in plain for m in TABLE_IN_ERROR.finditer(a["message"])}
        self._learn_logs({"signatures": quoted, "tables": sorted(tables), "component": None})

    def _learn_status(self, f: dict[str, Any]) -> None:
        if f["scope"] == "regional":
            self.beliefs.scale("network", 2.0)
        for region in f.get("unreachable", ()):
            # its shoppers cannot even connect: the region is gone, not a part of the shop
            self.beliefs.add(f"region:{region}", 5.0)  # as telling as a provider's outage

    def _learn_changes(self, f: dict[str, Any]) -> None:
        # the change log replaces what it listed before; a component's history adds what was
        # made outside the log (and is kept when the log is read again)
        component = f.get("component")
        seen = {c["id"] for c in f["changes"]}
        kept = [c for c in self.changes if c["id"] not in seen]
        if component is None:
            kept = [c for c in kept if not c.get("logged", True)]
        else:
            self.histories.add(component)
        self.changes = sorted([*f["changes"], *kept], key=lambda c: -c["at"])
        if component is None:
            self._weigh_changes(f["changes"])
            return
        # in the history of the component under suspicion: as telling as a log line naming it
        found = [c for c in f["changes"] if f"change:{c['id']}" not in self.beliefs.weights]
        self._weigh_changes(found)
        for c in found:
            if f"change:{c['id']}" not in self.ruled_out:
                self.beliefs.scale(f"change:{c['id']}", 3.0)

    def _weigh_changes(self, changes: list[dict[str, Any]]) -> None:
        """Add each change as a lead, weighted by how close to the onset it went out."""
        onset = self.onset if self.onset is not None else self.inc.started_at or self.inc.now
        edge = self._edge()
        for c in changes:
            # a staged change changed things again at each stage: the last one before the
            # trouble began is what to compare with
            went_out = [t for t in c.get("stages_at", ()) if t <= onset + 60] or [c["at"]]
            delta = onset - went_out[-1]
            if delta < -60:
                prior = 0.05
            else:
                prior = KIND_PRIOR[c["kind"]] * math.exp(-max(delta, 0) / 1800.0)
                prior *= 2.0 if delta <= 600 else 1.0
            if self.tables & set(c["tables"]):
                prior *= 15.0
            elif self.told and not self.told & set(c["components"]):
                prior *= TOLD
            if c["kind"] == "notice":
                self.beliefs.add("network", prior)
                continue
            lead = f"change:{c['id']}"
            if lead not in self.beliefs.weights and lead not in self.ruled_out:
                self.beliefs.add(lead, prior)
            if c["kind"] == "config" and edge in c["components"]:
                self.beliefs.add("lb", prior)

    def _learn_logs(self, f: dict[str, Any]) -> None:
        errors = [s for s in f["signatures"] if s["level"] == "ERROR"]
        if f.get("component") is not None:
            self.read_logs.add(f["component"])
        for s in f["signatures"]:  # the OOM killer, on the host
            if any(word in s["example"] for word in OOM) and s["component"] not in self.leaking:
                self.leaking.add(s["component"])
                self._suspect_component(s["component"], 3.0)
        edge = self._edge()
        upstreams = {self._behind_edge(s) for s in errors if s["component"] == edge} - {edge}
        for upstream in sorted(upstreams):  # the edge says which upstream it cannot reach
            self._suspect_component(upstream, 2.0)
        shards = {self._named(SHARD, s) for s in errors} - {None}
        for store in sorted(str(s) for s in shards):  # the shard a caller could not reach
            self._suspect_component(store, 2.0)
        for s in errors:  # a full disk, an expired certificate, skewed clocks say so in words
            if "No space left on device" in s["example"] and s["component"] not in self.full_disks:
                self.full_disks.add(s["component"])
                self._suspect_component(s["component"], 3.0)
            if any(word in s["example"] for word in NEEDS_FIX):
                owner = self._called(s)  # a caller's line about its callee's: the callee's
                if owner not in self.needs_fix:
                    self.needs_fix.add(owner)
                    self._suspect_component(owner, 3.0)
        warns = [s for s in f["signatures"] if s["level"] == "WARN"]
        if errors and self.reads_right(0.15 if f["tables"] else 0.0):
            if f["tables"]:
                self.tables |= set(f["tables"])
                for c in self.changes:
                    if self.tables & set(c["tables"]):
                        self.beliefs.scale(f"change:{c['id']}", 15.0)
                top = errors[0]["component"]
                self.beliefs.add(self._lead_for(top), 0.5)
            else:  # the loudest error's component — or the upstream an edge says it cannot reach
                self._suspect_component(self._behind_edge(errors[0]), 3.0)
            told = self._says_itself(errors[0])
            if told is not None:
                self._told(told)
                if SEQUENCE_AT_MAX.search(errors[0]["example"]) and self._kind(told) == "database":
                    self.exhausted.add(told)  # the database says so itself
        elif errors:
            services = [s["component"] for s in errors if self._kind(s["component"]) == "service"]
            if services:
                self._suspect_component(services[0], 2.5)
        for w in warns:
            for c in self.changes:
                lead = f"change:{c['id']}"
                on_it = c["kind"] == "deploy" and w["component"] in c["components"]
                if on_it and lead not in self.ruled_out:
                    self.beliefs.scale(lead, 1.5)

    def _names_broken(self, signature: dict[str, Any]) -> bool:
        """Whether the line names the broken thing as well as what is wrong with it: its own
        component (:meth:`_says_itself`), or the peer whose certificate expired or whose clock
        is off. A name that did not resolve, a quota, a permission say what is wrong but not
        where: the resolver, the quota's owner are for the logs and the changes to show."""
        line = signature["example"]
        return self._says_itself(signature) is not None or any(w in line for w in NEEDS_FIX)

    def _says_itself(self, signature: dict[str, Any]) -> str | None:
        """The component whose own line says in words what is wrong with it — a database's
        error about its own data, objects or limits, a host's full disk or its OOM killer —
        else None. A line about something else (a name that did not resolve, a peer's
        certificate, a quota) says what is wrong but not with the one that logged it."""
        line, component = signature["example"], str(signature["component"])
        if self._kind(component) == "database" and DATABASE_SAYS.search(line):
            return component
        if "No space left on device" in line or any(word in line for word in OOM):
            return component
        return None

    def _told(self, component: str) -> None:
        """The loudest error says in words what is wrong on ``component``: a change to
        another component that touches no table the errors name, the network and the load
        balancer become far less likely (:data:`TOLD`), now and as changes are read."""
        if component in self.told:
            return
        self.told.add(component)
        for lead in list(self.beliefs.weights):
            if lead in ("network", "lb") or (
                lead.startswith("change:") and not self._about_told(lead_target(lead))
            ):
                self.beliefs.scale(lead, TOLD)

    def _about_told(self, change: str) -> bool:
        """Whether a change (by id) is on a component an error said was broken, or touches a
        table the errors named."""
        c = next((c for c in self.changes if c["id"] == change), None)
        if c is None:
            return False
        return bool(self.told & set(c["components"]) or self.tables & set(c["tables"]))

    def _named(self, pattern: re.Pattern[str], signature: dict[str, Any]) -> str | None:
        """The first component of the scenario that ``pattern`` finds named in the line."""
        components = self.inc.sim.scenario.components
        return next(
            (
                m.group(1)
                for m in pattern.finditer(signature["example"])
                if m.group(1) in components
            ),
            None,
        )

    def _called(self, signature: dict[str, Any]) -> str:
        """The component an error line is about: the callee it names ("call to payments
        failed: …"), else the component that logged it."""
        return self._named(CALL_TO, signature) or str(signature["component"])

    def _behind_edge(self, signature: dict[str, Any]) -> str:
        """The component an error signature points at: its own, unless it is the edge's and
        names the upstream the edge could not reach (then the edge is only the messenger)."""
        upstream = None
        if signature["component"] == self._edge():
            upstream = self._named(UPSTREAM, signature)
        return upstream or str(signature["component"])

    def _suspect_component(self, component: str, factor: float) -> None:
        lead = self._lead_for(component)
        if lead not in self.ruled_out:
            self.beliefs.add(lead, 0.3)
            self.beliefs.scale(lead, factor)
        for c in self.changes:
            change = f"change:{c['id']}"
            on_it = component in c["components"] and c["kind"] != "notice"
            if on_it and change not in self.ruled_out:
                self.beliefs.scale(change, factor)

    def _learn_deps(self, f: dict[str, Any]) -> None:
        self.deps = f
        deepest = f["deepest"]
        if deepest and self.reads_right(0.2):
            self._suspect_component(deepest[0], 3.0)
        elif f["failing"]:
            services = [n for n in f["failing"] if self._kind(n) == "service"]
            if services:
                worst = max(services, key=lambda n: f["components"][n]["error_ratio"])
                self._suspect_component(worst, 2.0)
        for slow in f["slow"]:
            lead = self._lead_for(slow)
            if lead not in self.ruled_out:
                self.beliefs.add(lead, 0.2)
        # A hole in the graphs below a failing or slow caller: what cannot be seen there may
        # be what is wrong (read right, it is a strong lead).
        troubled = set(f["failing"]) | set(f["slow"])
        graph = self.inc.sim.world.topology.graph
        for name in f.get("no_data", ()):
            if troubled & set(graph.predecessors(name)) and self.reads_right(0.1):
                self._suspect_component(name, 3.0)

    def _learn_net(self, f: dict[str, Any]) -> None:
        congested = [
            n
            for n, link in f.get("links", {}).items()
            if link["loss"] >= 0.01 and n not in self.escalated
        ]
        if congested and self.reads_right(0.1):
            self.congested = congested  # a link dropping packets: the network it is
            self.beliefs.add("network", 1.0)
            return
        if f["loss"] == 0 and f["edge_error_ratio"] <= self.inc.view.threshold:
            if self.reads_right(0.3):
                self.rule_out("network")
            else:
                self.beliefs.scale("network", 0.7)

    def _learn_lb(self, f: dict[str, Any]) -> None:
        for name, b in f["backends"].items():
            # instances that are up but out of rotation: the checks, not the instances
            live_out = b["up"] > b["healthy"] and b["healthy"] * 2 < b["up"]
            if live_out and not b["checks_off"] and self.reads_right(0.2):
                self.ejecting.add(name)
                self.beliefs.add("lb", 1.0)
        if not f["out_of_rotation"]:
            if self.reads_right(0.3):
                self.rule_out("lb")
                for c in f["configs"]:
                    self.beliefs.scale(f"change:{c['id']}", 0.3)
            else:
                self.beliefs.scale("lb", 0.7)

    def _learn_db(self, f: dict[str, Any]) -> None:
        """A blocking chain points at what waits (a migration queued for its lock) and at what
        it waits behind (a long query); read right, both become strong leads."""
        self.running = {a["id"] for a in f["activity"]}
        self.seen_db = True
        if any(s["exhausted"] for s in f["sequences"]) and self.reads_right(0.1):
            self.exhausted.add(f["database"])
            self._suspect_component(f["database"], 10.0)
        if f["stale_statistics"] and self.reads_right(0.1):
            self.stale.add(f["database"])  # every query on those tables planned blind
            self._suspect_component(f["database"], 10.0)
        primary_lost = any(
            r["state"] == "data lost" and r["role"] == "primary" for r in f["replication"]
        )
        if primary_lost and self.reads_right(0.1):
            self.lost.add(f["database"])
            self._suspect_component(f["database"], 10.0)
            if any(r["role"] == "replica" and r["state"] == "streaming" for r in f["replication"]):
                self.promotable.add(f["database"])
        replicas = [r for r in f["replication"] if r["role"] == "replica"]
        fallen = [
            r for r in replicas if r["state"] in ("down", "recovering") or r["restarts_10m"] >= 2
        ]
        if fallen and self.reads_right(0.1):
            self.relapsing.add(f["database"])
            self._suspect_component(f["database"], 10.0)
        waiting = f.get("waiting") or []
        if not (f["blocking"] or waiting) or not self.reads_right(0.1):
            return
        holders = {a["pid"]: a for a in f["activity"]}
        changes = self.inc.sim.world.changes

        def lead_of(work: str) -> str:
            return f"change:{work}" if work in changes else f"query:{work}"

        def suspect_holders(pids: list[int], weight: float, scale: float = 1.0) -> None:
            """The statements running under ``pids`` become leads (``weight``, × ``scale``)."""
            for pid in pids:
                holder = holders.get(pid)
                if holder is not None and holder["state"] == "active":
                    lead = lead_of(holder["id"])
                    if lead not in self.ruled_out:
                        self.beliefs.add(lead, weight)
                        self.beliefs.scale(lead, scale)

        queued = {link["table"] for link in f["blocking"]}
        for w in waiting:  # the shop's queries wait behind a holder itself: it is the lead
            if w["table"] not in queued:  # behind a queued statement: the chain says who
                suspect_holders(w["blocked_by"], 2.0, 5.0)
        for link in f["blocking"]:
            lead = lead_of(link["id"])
            if lead not in self.ruled_out:
                self.beliefs.add(lead, 2.0)
                self.beliefs.scale(lead, 5.0)
            suspect_holders(link["blocked_by"], 1.0)

    def _learn_thirdparty(self, f: dict[str, Any]) -> None:
        for name, state in f["providers"].items():
            lead = f"thirdparty:{name}"
            if state == "major outage":
                self.beliefs.add(lead, 5.0)
            elif state == "operational":
                self.beliefs.scale(lead, 0.2)

    def _kind(self, component: str) -> str:
        spec = self.inc.sim.scenario.components.get(component)
        return spec.kind if spec is not None else ""
