"""The action items: follow-ups derived from the faults' kinds, the detection and the conduct."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.report.model import Bullets, Item, Paragraph, Section
from sim.report.sections.context import (
    LATE_STAKEHOLDERS,
    QUICK_NOTIFY,
    SLOW_ACK,
    SLOW_DETECTION,
    RunContext,
    codes,
    duration,
    join,
    pct,
)


def action_items_section(ctx: RunContext) -> Section:
    """The numbered follow-ups, or a line saying the run gave none."""
    items = _action_items(ctx)
    if not items:
        return Section("Action items", (Paragraph("None derived from this run."),))
    return Section("Action items", (Bullets(tuple(items), ordered=True),))


def _action_items(ctx: RunContext) -> list[Item]:
    """Follow-ups derived from the run: the faults' kinds, the detection, the conduct."""
    items: list[Item] = []
    for f in ctx.faults:
        items += _fault_items(ctx, f)
    s, conduct = ctx.summary, ctx.sc.conduct
    ttd = s.get("time_to_detect")
    if ctx.impact is not None and (ttd is None or float(ttd) > SLOW_DETECTION):
        monitors = sorted(
            {
                f"{a.get('monitor')} (threshold {a.get('threshold')})"
                for a in ctx.data.get("alerts") or []
                if a.get("severity") == "critical"
            }
        )
        why = (
            f"detection took {duration(float(ttd))} after errors began"
            if ttd is not None
            else "nothing detected the outage"
        )
        items.append(
            Item(
                "Alert sooner: lower the threshold or the `for` duration of the paging alerts",
                f"{why} (target: {duration(SLOW_DETECTION)})"
                + (
                    f"; candidates: {join(monitors)}."
                    if monitors
                    else "; add an alert on the failing endpoints."
                ),
            )
        )
    elif ctx.impact is not None and s.get("detection_channel") not in (None, "alert"):
        items.append(
            Item(
                "Page on the failing endpoints",
                f"{s.get('detection_channel')} found the outage before any alert paged.",
            )
        )
    for inc in ctx.incidents:
        if inc.get("paged_at") is None:
            continue
        ack = inc.get("acknowledged_at")
        if (
            ack is None
            or float(ack) - float(inc["paged_at"]) > SLOW_ACK
            or inc.get("escalated_at") is not None
        ):
            items.append(
                Item(
                    "Review the paging set-up",
                    f"{inc.get('id')} was "
                    + (
                        "never acknowledged"
                        if ack is None
                        else f"acknowledged {duration(float(ack) - float(inc['paged_at']))} after the page"
                    )
                    + "; check notification channels and the escalation delay.",
                )
            )
    if ctx.chased:
        herrings = [ctx.herrings.get(h, {"id": h}) for h in ctx.chased]
        changes = [str(h["change"]) for h in herrings if h.get("change")]
        items.append(
            Item(
                "Annotate benign changes and maintenance notices in the change feed",
                f"{join(codes(ctx.chased))} cost "
                f"{float(conduct.get('herring_seconds') or 0.0) / 60:.0f} minutes"
                + (
                    f"; mark {join(codes(changes))} in the feed with the expected effect (and “no action needed”)"
                    if changes
                    else ""
                )
                + ".",
            )
        )
        noisy = [h for h in herrings if h.get("kind") in ("log_noise", "slow_component")]
        for h in noisy:
            items.append(
                Item(
                    f"Quiet the known noise of {h.get('target')}",
                    f"`{h['id']}`: {h.get('note', '')}".rstrip(": "),
                )
            )
    if ctx.wrong:
        labels = [ctx.step_label(st) for i in sorted(ctx.wrong) if (st := ctx.step(i))]
        items.append(
            Item(
                "Check the first errors and recent changes before acting",
                f"{join(labels)} did not help; the shoppers' first errors pointed at the cause "
                "(add them to the alert's runbook link).",
            )
        )
    for i in sorted(ctx.harmful):
        st = ctx.step(i)
        if st is not None:
            items.append(
                Item(
                    f"Add a runbook guard to {ctx.step_label(st)}",
                    (st.get("harm") or "it made the outage worse")
                    + ": require a confirmation stating what still serves shoppers.",
                )
            )
    if ctx.response and ctx.impact is not None:
        notify = conduct.get("notify_delay")
        if notify is None or float(notify) > QUICK_NOTIFY:
            items.append(
                Item(
                    "Prepare a status-page template",
                    (
                        "users were never told"
                        if notify is None
                        else f"the first notice came {duration(float(notify))} after acknowledgement"
                    )
                    + f"; a template per shop function lets the first notice go out within {duration(QUICK_NOTIFY)}.",
                )
            )
        stake = conduct.get("stakeholder_delay")
        if stake is None or float(stake) > LATE_STAKEHOLDERS:
            items.append(
                Item(
                    "Set a stakeholder update cadence",
                    "no stakeholder update was sent."
                    if stake is None
                    else f"the first update came {duration(float(stake))} after acknowledgement.",
                )
            )
    if int(conduct.get("premature_resolutions") or 0):
        threshold = ctx.summary.get("error_threshold")
        level = f" under {pct(float(threshold), 0)}" if threshold is not None else ""
        items.append(
            Item(
                "Add a resolution checklist",
                f"resolved was declared while a fault was active; confirm alerts resolved and errors{level} first.",
            )
        )
    if ctx.unresolved():
        active = [f for f in ctx.faults if f.get("ended") is None]
        for f in active:
            remedies = " or ".join(str(a) for a in (f.get("remedies") or {}))
            targets = " or ".join(str(t) for t in f.get("targets") or [])
            items.append(
                Item(
                    f"Finish remediating {f['id']}",
                    "still active at the end of the drill"
                    + (f"; known remedy: {remedies}" if remedies else "")
                    + (f" on {targets}" if targets else "")
                    + ". Write it into the runbook and rehearse it.",
                )
            )
        if not active:
            items.append(
                Item(
                    "Close the incident properly",
                    "the faults ended but mitigation or resolution was never declared.",
                )
            )
    return items


def _fault_items(ctx: RunContext, fault: Mapping[str, Any]) -> list[Item]:
    """The follow-ups a kind of fault calls for, naming its change or components."""
    kind = str(fault.get("type", ""))
    change = ctx.change_behind(fault)
    cid = f" ({change['id']})" if change is not None else ""
    components = _fault_components(ctx, fault)
    target = join(components) or "the failing component"
    if kind == "schema_migration":
        return [
            Item(
                "Use expand/contract migrations",
                f"the migration{cid} dropped or renamed columns the running code still used; add "
                "new columns first, switch the code, and contract only after no release reads the old ones.",
            ),
            Item(
                "Add a migration compatibility check in CI",
                "run the current release's queries (or its test suite) against the migrated schema "
                "before a migration may deploy.",
            ),
        ]
    rules = {
        "crash": (
            f"Make {target} survive instance loss",
            "keep spare instances, restart crashed ones automatically and alert on healthy-instance count.",
        ),
        "latency": (
            f"Set timeouts and a latency alert for {target}",
            "callers waited on a slow component; bound the wait and page on p95 before shoppers notice.",
        ),
        "error_rate": (
            f"Canary releases with automatic rollback for {target}",
            f"an error-rate fault{cid} reached every shopper; a canary stage would have caught it.",
        ),
        "capacity_loss": (
            f"Keep capacity headroom on {target}",
            "alert on saturation (queueing, rejected requests) and scale out before requests fail.",
        ),
        "third_party_outage": (
            f"Add a circuit breaker and a fallback for {target}",
            "the provider's outage became the shop's; fail fast, degrade gracefully and watch the "
            "provider's status page.",
        ),
    }
    if kind in rules:
        title, why = rules[kind]
        return [Item(title, why)]
    return []


def _fault_components(ctx: RunContext, fault: Mapping[str, Any]) -> list[str]:
    """The components the fault hit (from its start event), else its non-change targets."""
    fid = str(fault["id"])
    for e in ctx.journal.events("fault.start"):
        if str(e["id"]) == fid and e.get("components"):
            return [str(c) for c in e["components"]]
    return [str(t) for t in fault.get("targets") or [] if str(t) not in ctx.changes]
