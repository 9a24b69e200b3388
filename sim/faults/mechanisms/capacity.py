"""Managed capacity for one run: scaling policies, the provisioning service, the quota.

A scaling policy (a component's ``autoscaling:``) is a control loop that reads what a cloud
metric would show — the share of worker time spent computing (CPU), the share of worker
slots held (in flight) or calls per second per instance — and launches or terminates
instances to bring it to its target. CPU is compute only: a call waiting on a dependency holds
its slot and computes nothing, so a CPU-tracking policy sees an idle fleet while requests pile
up behind a stuck dependency, and scales it in. Launches go through the account's
provisioning service (``capacity.launches`` at a time, each until its instance is in service)
and its quota: a launch beyond it is refused with the provider's error, until someone raises
the quota (a support case that takes ``capacity.quota_raise``).

Faults and actions change state; the engine reads it. Here the state is the number of
instances in service (:meth:`ComponentState.resize`): the engine adds instances to the
rotation, or takes them out and lets them finish what they hold.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import simpy

from sim.model.world import World
from sim.scenario.schema import Autoscaling
from sim.scenario.schema import Capacity as CapacitySpec

SAMPLE = 5.0  # seconds between samples of the slots held (an in-flight datapoint averages them)
SCALE_OUT_FACTOR = 1.5  # a responder's scale-out: half as many instances again


def quota_message(quota: int, running: int, wanted: int) -> str:
    """The provider's refusal, as EC2 words it."""
    return (
        f"InstanceLimitExceeded: Your quota allows for {max(0, quota - running)} more running "
        f"instance(s). You requested at least {wanted}."
    )


class Capacity:
    """The scaling policies of every component that has one, and the account they launch into."""

    def __init__(self, env: simpy.Environment, world: World) -> None:
        self.env = env
        self.world = world
        scenario = world.scenario
        self.spec = scenario.capacity or CapacitySpec()
        self.quota = self.spec.quota
        self.provisioner = simpy.Resource(env, self.spec.launches)
        self.pending: dict[str, int] = dict.fromkeys(scenario.components, 0)
        self.warm_at: dict[str, float] = {}  # component → when its latest launch is warm
        self.suspended: set[str] = set()
        self.datapoints: dict[str, list[tuple[float, float]]] = {}  # component → (t, metric)
        self.refused: dict[str, str] = {}  # component → the last refusal, while it stands
        self.activity: list[dict[str, Any]] = []  # the scaling activity, as a console lists it
        self.policies = {
            name: spec.autoscaling
            for name, spec in scenario.components.items()
            if spec.autoscaling is not None
        }
        for name in self.policies:
            self.datapoints[name] = []
            env.process(self._policy(name))

    # -- what the world has --------------------------------------------------------------
    def managed(self, component: str) -> bool:
        """Whether a scale-out of ``component`` launches instances (through the account)."""
        return component in self.policies or (
            self.world.scenario.capacity is not None
            and self.world.scenario.components[component].kind != "third_party"
        )

    def running(self) -> int:
        """Instances the account runs or is launching (third parties are not the account's)."""
        kinds = self.world.scenario.components
        return sum(
            s.replicas + self.pending[name]
            for name, s in self.world.states.items()
            if kinds[name].kind != "third_party"
        )

    def boot(self, component: str) -> float:
        policy = self.policies.get(component)
        return policy.boot if policy is not None else Autoscaling.model_fields["boot"].default

    def launch_seconds(self, component: str, n: int) -> float:
        """How long ``n`` launches of ``component`` take from now, at most: boots in waves of
        what the provisioning service takes at once, behind the launches already under way."""
        ahead = sum(self.pending.values())
        return math.ceil((ahead + n) / self.spec.launches) * self.boot(component)

    # -- launching and terminating -------------------------------------------------------
    def launch(self, component: str, n: int, by: str) -> list[simpy.Process]:
        """Ask for ``n`` instances of ``component``; return the launches the quota let
        through, each done when its instance serves (the others are refused now, with the
        provider's error)."""
        accepted = n
        if self.quota is not None:
            accepted = max(0, min(n, self.quota - self.running()))
        now = self.env.now
        if accepted:
            self._emit(now, "scale.launch", component=component, instances=accepted, by=by)
            self.pending[component] += accepted
        if accepted < n:
            assert self.quota is not None
            # the launches past the quota fail, each with the provider's error
            message = quota_message(self.quota, self.running(), n - accepted)
            self.refused[component] = message
            self._emit(
                now,
                "scale.refused",
                component=component,
                wanted=n - accepted,
                by=by,
                message=message,
            )
        else:
            self.refused.pop(component, None)
        return [self.env.process(self._launch_one(component)) for _ in range(accepted)]

    def _launch_one(self, component: str) -> Generator[simpy.Event, Any, None]:
        with self.provisioner.request() as slot:
            yield slot
            yield self.env.timeout(self.boot(component))
        self.pending[component] -= 1
        state = self.world.states[component]
        state.resize(state.replicas + 1)
        policy = self.policies.get(component)
        if policy is not None:
            self.warm_at[component] = self.env.now + policy.warmup
        self._emit(
            self.env.now,
            "scale.in_service",
            component=component,
            instance=state.replicas - 1,
            instances=state.replicas,
        )

    def _emit(self, t: float, kind: str, **data: Any) -> None:
        self.activity.append({"t": round(t, 6), "kind": kind, **data})
        self.world.emit(t, kind, **data)

    def terminate(self, component: str, n: int, by: str) -> None:
        """Take the last ``n`` instances of ``component`` out of service now."""
        state = self.world.states[component]
        n = min(n, state.replicas - 1)
        if n <= 0:
            return
        state.resize(state.replicas - n)
        self._emit(
            self.env.now,
            "scale.terminate",
            component=component,
            instances=n,
            remaining=state.replicas,
            by=by,
        )

    def scale_out_size(self, component: str) -> int:
        """How many instances a responder's scale-out asks for: half as many again (within
        the policy's max)."""
        have = self.world.states[component].replicas + self.pending[component]
        want = max(1, math.ceil(have * (SCALE_OUT_FACTOR - 1)))
        policy = self.policies.get(component)
        return want if policy is None else max(0, min(want, policy.max - have))

    def change_policy(self, component: str, **fields: float) -> None:
        """An operator changes ``component``'s scaling policy (its ``min``, ``max`` or
        ``target``): from the policy's next datapoint on, it tracks the new one (what runs
        already stays until the policy itself launches or terminates)."""
        old = self.policies[component]
        self.policies[component] = old.model_copy(update=fields)
        was = {k: getattr(old, k) for k in fields}
        self._emit(self.env.now, "scaling.changed", component=component, old=was, new=fields)

    def raise_quota(self) -> None:
        """The provider granted a quota increase (the quota × ``quota_step``)."""
        if self.quota is None:
            return
        old = self.quota
        self.quota = math.ceil(old * self.spec.quota_step)
        self.world.emit(self.env.now, "quota.raised", old=old, new=self.quota)

    def suspend(self, component: str, suspended: bool) -> None:
        """Suspend or resume a component's scaling policy."""
        if suspended:
            self.suspended.add(component)
        else:
            self.suspended.discard(component)
        kind = "scaling.suspended" if suspended else "scaling.resumed"
        self.world.emit(self.env.now, kind, component=component)

    # -- the policies --------------------------------------------------------------------
    def _policy(self, name: str) -> Generator[simpy.Event, Any, None]:
        """Target tracking: one datapoint every ``interval``; ``out_after`` datapoints in a row
        above the target launch what brings the metric to it (once the last launch is in
        service and warm), ``in_after`` in a row under target × ``in_below`` terminate the
        surplus (not within ``cooldown`` of a scale-out)."""
        state = self.world.states[name]
        concurrency = self.world.scenario.components[name].concurrency
        above = below = 0
        last_out = -math.inf
        represents = self.world.scenario.traffic.represents
        while True:
            p = self.policies[name]  # afresh each round: an operator may change it
            cpu0, _, calls0 = state.meter()
            start = self.env.now
            held = 0.0
            samples = max(1, round(p.interval / SAMPLE))
            for _ in range(samples):
                yield self.env.timeout(p.interval / samples)
                held += state.meter()[1]
            cpu1, _, calls1 = state.meter()
            n = state.replicas
            slots = n * concurrency * (self.env.now - start)
            if p.metric == "cpu":
                value = (cpu1 - cpu0) / slots
            elif p.metric == "inflight":
                value = held / samples / (n * concurrency)
            else:
                value = (calls1 - calls0) * represents / (self.env.now - start) / n
            self.datapoints[name].append((self.env.now, value))
            if value > p.target:
                above, below = above + 1, 0
            elif value < p.target * p.in_below:
                above, below = 0, below + 1
            else:
                above = below = 0
            if name in self.suspended:
                continue
            desired = min(p.max, max(p.min, math.ceil(n * value / p.target)))
            now = self.env.now
            if above >= p.out_after and desired > n + self.pending[name]:
                if self.pending[name] == 0 and now >= self.warm_at.get(name, -math.inf):
                    if self.launch(name, desired - n - self.pending[name], "autoscaling"):
                        last_out = now
                    above = 0
            elif below >= p.in_after and desired < n and now - last_out >= p.cooldown:
                self.terminate(name, n - desired, "autoscaling")
                below = 0
