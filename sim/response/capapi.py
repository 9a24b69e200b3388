"""The action API's calls on managed capacity: read a component's scaling activity, raise the
account's quota, suspend and resume a scaling policy. :class:`~sim.response.api.Incident` has
them; they are apart only to keep each module readable."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.response.calls import IncidentCalls
from sim.scenario.messages import did_you_mean

if TYPE_CHECKING:
    from sim.faults.mechanisms.capacity import Capacity
    from sim.response.evidence import Evidence
    from sim.response.running import Running

RECENT_ACTIVITY = 10  # scaling activities the view lists, newest first


def capacity_view(sim: Running, fleet: Capacity, name: str | None) -> tuple[str, dict[str, Any]]:
    """What a cloud console shows: the account's quota and what runs in it, each scaling
    policy with its latest datapoints, and the scaling activity (launches, terminations,
    refusals with the provider's error) — of one component, or (``None``) of all."""
    names = [name] if name is not None else sorted(fleet.policies)
    groups = [_group(sim, fleet, n) for n in names]
    activity = [e for e in fleet.activity if name is None or e["component"] == name]
    facts: dict[str, Any] = {
        "quota": fleet.quota,
        "account_running": fleet.running(),
        "groups": groups,
        "activity": activity[-RECENT_ACTIVITY:][::-1],
    }
    parts = [_group_line(fleet, g) for g in groups]
    if fleet.quota is not None:
        parts.append(f"account {fleet.running()}/{fleet.quota} instances (quota)")
    refused = [f"{n}: {fleet.refused[n]}" for n in names if n in fleet.refused]
    if refused:
        parts.append("last launch refused — " + "; ".join(refused))
    if not parts:
        parts.append("no scaling policy and no quota: capacity is fixed")
    return "; ".join(parts), facts


def _group(sim: Running, fleet: Capacity, name: str) -> dict[str, Any]:
    policy = fleet.policies.get(name)
    return {
        "component": name,
        "in_service": sim.world.states[name].replicas,
        "launching": fleet.pending[name],
        "policy": None
        if policy is None
        else {
            "metric": policy.metric,
            "target": policy.target,
            "min": policy.min,
            "max": policy.max,
            "suspended": name in fleet.suspended,
        },
        "datapoints": [
            {"t": round(t, 3), "value": round(v, 4)} for t, v in fleet.datapoints.get(name, [])[-5:]
        ],
    }


def _group_line(fleet: Capacity, g: dict[str, Any]) -> str:
    line = f"{g['component']}: {g['in_service']} in service"
    if g["launching"]:
        line += f", {g['launching']} launching"
    policy = g["policy"]
    if policy is not None:
        points = g["datapoints"]
        latest = f" (latest {points[-1]['value']:.2f})" if points else ""
        paused = ", suspended" if policy["suspended"] else ""
        line += (
            f", policy {policy['metric']} → {policy['target']:g}{latest}, "
            f"{policy['min']}–{policy['max']} instances{paused}"
        )
    return line


class CapacityCalls(IncidentCalls):
    """Calls of the action API on managed capacity (scaling policies, the account's quota)."""

    def capacity(
        self, component: str | None = None, *, takes: float | None = None, lead: str | None = None
    ) -> Evidence:
        """Capacity as the cloud console shows it: the account's quota and what runs in it,
        each scaling policy with its latest datapoints, and the scaling activity (launches,
        terminations, refusals with the provider's error) — of ``component``, or of all."""
        fleet = self.actions.fleet
        known = sorted(self.sim.scenario.components)
        if fleet is None:
            return self._refuse("capacity", component, "capacity is not modelled here", lead)
        if component is not None and component not in known:
            why = f"no component named {component!r}{did_you_mean(component, known)}"
            return self._refuse("capacity", component, why, lead)
        return self._look(
            "capacity", component, lambda: capacity_view(self.sim, fleet, component), takes, lead
        )

    def raise_quota(self, component: str, **kw: Any) -> Evidence:
        """Ask the provider to raise the account's instance quota (a support case: it takes
        the provider's time), so that launches of ``component`` are no longer refused."""
        fleet = self.actions.fleet
        if fleet is None or fleet.quota is None:
            why = "this account has no instance quota to raise (scenario capacity.quota)"
            return self._refuse("raise_quota", component, why, kw.get("lead"))
        return self._act("raise_quota", "raise_quota", component, **kw)

    def suspend_scaling(self, component: str, **kw: Any) -> Evidence:
        """Suspend ``component``'s scaling policy: it launches and terminates nothing until
        resumed (the instances it has stay)."""
        return self._policy_call("suspend_scaling", component, **kw)

    def resume_scaling(self, component: str, **kw: Any) -> Evidence:
        """Resume a suspended scaling policy."""
        return self._policy_call("resume_scaling", component, **kw)

    def change_scaling(
        self,
        component: str,
        *,
        min: int | None = None,
        max: int | None = None,
        target: float | None = None,
        **kw: Any,
    ) -> Evidence:
        """Change ``component``'s scaling policy: its ``min`` and ``max`` instances or its
        ``target`` (a config change of 30 s; the policy tracks the new one from its next
        datapoint). Refused without a policy, with nothing to change, and with a min above
        the max or outside 1 to the limit."""
        from sim.scenario.limits import MAX_REPLICAS

        fleet = self.actions.fleet
        lead = kw.get("lead")
        if fleet is None or component not in fleet.policies:
            why = f"{component!r} has no scaling policy (scenario components.*.autoscaling)"
            return self._refuse("change_scaling", component, why, lead)
        asked = {k: v for k, v in (("min", min), ("max", max), ("target", target)) if v is not None}
        if not asked:
            why = "nothing to change: give the policy's new min, max or target"
            return self._refuse("change_scaling", component, why, lead)
        policy = fleet.policies[component]
        low, high = int(asked.get("min", policy.min)), int(asked.get("max", policy.max))
        if not 1 <= low <= high <= MAX_REPLICAS:
            why = f"min {low} and max {high}: expected 1 ≤ min ≤ max ≤ {MAX_REPLICAS}"
            return self._refuse("change_scaling", component, why, lead)
        if "target" in asked and not 0 < float(asked["target"]) <= 1e6:
            why = f"target {asked['target']:g}: expected above 0"
            return self._refuse("change_scaling", component, why, lead)
        self.actions.asked[("change_scaling", component)] = asked
        said = " ".join(f"{k}={v:g}" for k, v in asked.items())
        return self._act("change_scaling", "change_scaling", component, detail=f" {said}", **kw)

    def escalate(self, component: str, **kw: Any) -> Evidence:
        """Escalate a saturated link to its vendor: it doubles the link's capacity, in the
        vendor's time (``vendor.escalation``)."""
        spec = self.sim.scenario.components.get(component)
        if spec is None or spec.kind != "link" or spec.vendor is None:
            why = f"{component!r} is not a link with a vendor to escalate to (components.*.vendor)"
            return self._refuse("escalate", component, why, kw.get("lead"))
        return self._act("escalate", "escalate", component, **kw)

    def _policy_call(self, call: str, component: str, **kw: Any) -> Evidence:
        fleet = self.actions.fleet
        if fleet is None or component not in fleet.policies:
            why = f"{component!r} has no scaling policy (scenario components.*.autoscaling)"
            return self._refuse(call, component, why, kw.get("lead"))
        suspended = component in fleet.suspended
        if suspended == (call == "suspend_scaling"):
            state = "suspended" if suspended else "running"
            return self._refuse(call, component, f"its policy is {state} already", kw.get("lead"))
        return self._act(call, call, component, **kw)
