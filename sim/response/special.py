"""The responders that follow no runbook: the oracle (the counterfactual that knows the cause),
the scenario's script at its fixed times, and nobody at all."""

from __future__ import annotations

from sim.response.api import HorizonReached, Incident
from sim.response.responders import SETTLE
from sim.scenario.schema import ScriptedAction


class OracleResponder:
    """Knows the cause (reads the fault list: it is the counterfactual, not a responder).

    Starts at the page, names each active fault's target, applies its quickest remedy, tells
    users and stakeholders while it runs, and declares the incident over once a check is clean.
    """

    name = "oracle"
    description = "Knows the cause from the page on and applies its quickest remedy."

    def respond(self, incident: Incident) -> None:
        incident.pace = 0.5
        tried: set[str] = set()
        while incident.wait_for_page(ack=False) is not None:
            self.told = False
            try:
                self._answer(incident, tried)
            except HorizonReached:
                return
            if not incident.more_incidents():
                return
            incident.next_incident()  # on call for the shift's next incident

    def _answer(self, incident: Incident, tried: set[str]) -> None:
        """Remedy every active fault not dealt with yet, check, and declare it over."""
        faults = incident.sim.faults
        # Faults can appear while it works (an action's declared consequence): each pass
        # takes the ones active now that it has not dealt with yet.
        while incident.remaining > 0:
            todo = sorted(fid for fid in faults.active if fid not in tried)
            if not todo:
                break
            for fid in todo:
                tried.add(fid)
                self._remedy(incident, fid)
        incident.update()
        while incident.remaining > 0:
            incident.wait(SETTLE)
            if not incident.dashboard(span=SETTLE).facts.get("failing"):
                break
        incident.mitigated()
        incident.resolved()

    def _remedy(self, incident: Incident, fid: str) -> None:
        """Apply the quickest remedy of fault ``fid`` that sets off no declared consequence
        (the quickest of all when every one does)."""
        faults = incident.sim.faults
        fault = faults.faults[fid]
        if fault.type == "replica_outage":
            self._tell(incident)
            self._replicas(incident, fid, next(iter(fault.components)))
            return
        if not fault.remedies:  # nothing ends it but the world (a cache refilling): wait
            changes = sorted(t for t in fault.targets if t in incident.sim.world.changes)
            incident.diagnose(changes[0] if changes else sorted(fault.targets)[0])
            self._tell(incident)
            while fid in faults.active and incident.remaining > 0:
                incident.wait(SETTLE)
            return
        ranked = sorted(sorted(fault.remedies), key=lambda a: fault.remedies[a])
        action = next(
            (a for a in ranked if not self._sets_off(incident, a, fault.targets)), ranked[0]
        )
        if action == "promote" and not self._promotable(incident, fault.targets):
            action = "restore"  # no replica to take over: copy the data back
        target = self._target(incident, action, fault.targets)
        changes = sorted(t for t in fault.targets if t in incident.sim.world.changes)
        # a flag is how to stop it, not what broke: name the change behind it
        incident.diagnose(changes[0] if action == "toggle_flag" and changes else target)
        self._tell(incident)
        call = {
            "rollback_deploy": "rollback",
            "rollback_migration": "rollback",
            "rollback_config": "rollback",
            "deploy_fix": "fix",
            "cancel_query": "cancel",
        }.get(action, action)
        while fid in faults.active and incident.remaining > 0:
            if call == "rollback" and any(
                s["call"] == "rollback" and s["target"] == target and s["ok"]
                for s in incident.steps
            ):
                break
            ev = getattr(incident, call)(target)
            if not ev.ok and ev.end == ev.t:
                break  # refused: nothing this remedy can do now

    def _tell(self, incident: Incident) -> None:
        """Tell users once, as soon as it knows what it will do."""
        if not self.told:
            incident.notify()
            self.told = True

    def _sets_off(self, incident: Incident, action: str, targets: frozenset[str]) -> bool:
        """Whether ``action`` on the fault's target would set off a declared consequence now."""
        target = self._target(incident, action, targets)
        actions = incident.actions
        return any(
            (c.when.action, c.when.target) == (action, target)
            and c.id not in actions.fired
            and (c.while_config is None or actions.in_effect(c.while_config))
            for c in incident.sim.scenario.consequences
        )

    def _replicas(self, incident: Incident, fid: str, db_name: str) -> None:
        """A relapse from load: drain the replicas, let them recover and warm out of the
        rotation and the surge pass (it knows the traffic), add them back all at once, and do
        it again if they fall over again (the load was still too much for them)."""
        faults = incident.sim.faults
        replicas = [m for m in incident.sim.world.data[db_name].members if m.role == "replica"]
        incident.diagnose(db_name)
        while fid in faults.active and incident.remaining > 0:
            incident.drain(db_name)
            surge_over = self._surge_over(incident)
            while incident.remaining > 0 and (
                incident.now < surge_over
                or not all(m.serving and m.warmth >= 1.0 for m in replicas)
            ):
                incident.wait(30.0)
            incident.add_back(db_name)
            incident.wait(SETTLE)
            while (
                fid in faults.active and incident.remaining > 0 and all(m.serving for m in replicas)
            ):
                incident.wait(60.0)

    @staticmethod
    def _surge_over(incident: Incident) -> float:
        """When the traffic surges on now end (now, if none is on): replicas added back
        before that get the surge's load again."""
        now = incident.now
        ends = [
            s.start + s.duration
            for s in incident.sim.scenario.traffic.surges
            if s.start <= now < s.start + s.duration
        ]
        return max(ends, default=now)

    def _promotable(self, incident: Incident, targets: frozenset[str]) -> bool:
        data = incident.sim.world.data
        return any(t in data and data[t].candidate() is not None for t in targets)

    def _target(self, incident: Incident, action: str, targets: frozenset[str]) -> str:
        changes = sorted(t for t in targets if t in incident.sim.world.changes)
        comps = sorted(t for t in targets if t in incident.sim.scenario.components)
        if action == "cancel_query":  # the migration in the queue if there is one, else a query
            running = [t for t in sorted(targets) if incident.actions.database_of(t)]
            return next((t for t in running if t in changes), running[0] if running else "")
        if action == "toggle_flag":
            flags = {c.flag for c in incident.sim.scenario.changes if c.flag is not None}
            return next(t for t in sorted(targets) if t in flags)
        if action == "failover_region":  # the dark region, not the edge it is dark at
            return next(t for t in sorted(targets) if t in incident.sim.scenario.traffic.regions)
        if action.startswith("rollback") and not changes:
            # the latest change of that kind applied to the fault's component
            kind = action.removeprefix("rollback_")
            applied = [
                c.id
                for _, c in incident.sim.world.applied
                if c.kind == kind and set(c.components) & set(comps)
            ]
            return applied[-1] if applied else ""
        if action.startswith("rollback") or (action == "deploy_fix" and changes):
            return changes[0]
        return comps[0]


class ScriptedResponder:
    """The scenario's ``actions:`` block, at its times; then checks and declares it over."""

    name = "scripted"
    description = "The scenario's scripted actions at their fixed times."

    def __init__(self, actions: tuple[ScriptedAction, ...]) -> None:
        self.actions = sorted(actions, key=lambda a: a.at)

    def respond(self, incident: Incident) -> None:
        if not self.actions or not incident.sim.faults_enabled:
            return  # the script answers the scenario's faults; a baseline has none
        incident.failures = False
        incident.start()
        try:
            for a in self.actions:
                if a.at > incident.now:
                    incident.wait(a.at - incident.now)
                if a.action.startswith("rollback"):
                    incident.rollback(a.target, takes=0.0)
                elif a.action == "deploy_fix":
                    incident.diagnose(a.target, takes=0.0)
                    incident.fix(a.target, takes=0.0)
                else:
                    call = {"cancel_query": "cancel"}.get(a.action, a.action)
                    getattr(incident, call)(a.target, takes=0.0)
            incident.wait(SETTLE)
            if not incident.dashboard(span=SETTLE).facts.get("failing"):
                incident.mitigated()
                incident.resolved()
        except HorizonReached:
            return


class NoResponder:
    """Nobody answers the page: the do-nothing counterfactual."""

    name = "none"
    description = "Nobody responds."

    def respond(self, incident: Incident) -> None:
        return None
