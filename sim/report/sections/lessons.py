"""The judgements of the response: "What went well" and "What did not go well"."""

from __future__ import annotations

from sim.report.model import Bullets, Item, Paragraph, Section
from sim.report.sections.context import (
    FAST_ACK,
    FAST_DETECTION,
    LATE_STAKEHOLDERS,
    QUICK_NOTIFY,
    SLOW_ACK,
    SLOW_DETECTION,
    RunContext,
    codes,
    duration,
    join,
)
from sim.scoring.conduct import since_words


def lessons_sections(ctx: RunContext) -> list[Section]:
    """The two sections of judgements, each "Nothing stood out." when its rules found nothing."""
    good, bad = _lessons(ctx)
    return [
        Section(
            "What went well",
            (Bullets(tuple(good), tone="good"),) if good else (Paragraph("Nothing stood out."),),
        ),
        Section(
            "What did not go well",
            (Bullets(tuple(bad), tone="bad"),) if bad else (Paragraph("Nothing stood out."),),
        ),
    ]


def _lessons(ctx: RunContext) -> tuple[list[Item], list[Item]]:
    """``(went well, did not)``: rules over the run's timings and the scorecard's conduct."""
    s, conduct = ctx.summary, ctx.sc.conduct
    good: list[Item] = []
    bad: list[Item] = []
    ttd = s.get("time_to_detect")
    if ctx.impact is not None:
        if ttd is None:
            bad.append(Item("No detection.", "Nothing alerted or escalated within the drill."))
        elif float(ttd) <= FAST_DETECTION:
            good.append(
                Item(
                    "Fast detection.",
                    f"Detected by {s.get('detection_channel')} {duration(float(ttd))} after "
                    f"errors began (within {duration(FAST_DETECTION)}).",
                )
            )
        elif float(ttd) > SLOW_DETECTION:
            bad.append(
                Item(
                    "Slow detection.",
                    f"Detection took {duration(float(ttd))} (by {s.get('detection_channel')}); "
                    f"more than {duration(SLOW_DETECTION)} of errors went unnoticed.",
                )
            )
    for inc in ctx.incidents:
        if inc.get("paged_at") is None:
            continue
        if inc.get("acknowledged_at") is None:
            bad.append(Item("Page never acknowledged.", f"{inc.get('id')} was not acknowledged."))
            continue
        ack = float(inc["acknowledged_at"]) - float(inc["paged_at"])
        if ack <= FAST_ACK and inc.get("escalated_at") is None:
            good.append(
                Item(
                    "Quick acknowledgement.",
                    f"{inc.get('id')} acknowledged {duration(ack)} after the page.",
                )
            )
        elif ack > SLOW_ACK or inc.get("escalated_at") is not None:
            esc = (
                ", after escalating to the secondary" if inc.get("escalated_at") is not None else ""
            )
            bad.append(
                Item(
                    "Slow acknowledgement.",
                    f"{inc.get('id')} took {duration(ack)} to acknowledge{esc}.",
                )
            )
    if ctx.response:
        notify = conduct.get("notify_delay")
        if ctx.impact is not None:
            if notify is None:
                bad.append(
                    Item("Users were never told.", "No status-page notice during the drill.")
                )
            elif float(notify) <= QUICK_NOTIFY:
                good.append(
                    Item(
                        "Quick notification.",
                        f"The status page went up {duration(float(notify))} "
                        f"{since_words(conduct)}.",
                    )
                )
            else:
                bad.append(
                    Item(
                        "Late notification.",
                        f"Users were told only {duration(float(notify))} {since_words(conduct)} "
                        f"(aim: within {duration(QUICK_NOTIFY)}).",
                    )
                )
            stake = conduct.get("stakeholder_delay")
            if stake is None:
                bad.append(Item("No stakeholder update.", "Nobody briefed the business."))
            elif float(stake) > LATE_STAKEHOLDERS:
                bad.append(
                    Item(
                        "Late stakeholder update.",
                        f"The first came {duration(float(stake))} after acknowledgement.",
                    )
                )
        diag, correct = ctx.diagnosis()
        if diag is not None and correct:
            good.append(
                Item(
                    "Right diagnosis.",
                    f"`{diag.get('cause')}` named as the cause at {ctx.at(float(diag['at']))}.",
                )
            )
        elif diag is not None:
            bad.append(
                Item(
                    "Wrong diagnosis.", f"`{diag.get('cause')}` was declared the cause; it was not."
                )
            )
        elif ctx.faults:
            bad.append(Item("No diagnosis declared.", "The responder never named a cause."))
        for fix in (st for st in ctx.steps if st.get("remedied")):
            good.append(
                Item(
                    "Effective remedy.",
                    f"{ctx.step_label(fix)} ended {join(codes(fix['remedied']))} at "
                    f"{ctx.clock(float(fix.get('end', fix['t'])))}.",
                )
            )
        if ctx.chased:
            minutes = float(conduct.get("herring_seconds") or 0.0) / 60
            bad.append(
                Item(
                    "Red herrings chased.",
                    f"{join(codes(ctx.chased))}: {minutes:.0f} minutes spent on leads that were not the cause.",
                )
            )
        elif ctx.herrings and ctx.steps:
            good.append(
                Item(
                    "No red herrings chased.",
                    f"None of the {len(ctx.herrings)} distractions ({join(codes(ctx.herrings))}) drew the responder off.",
                )
            )
        if ctx.wrong:
            labels = [ctx.step_label(w) for i in sorted(ctx.wrong) if (w := ctx.step(i))]
            bad.append(Item("Actions that did not help.", f"{join(labels)}."))
        for i in sorted(ctx.harmful):
            st = ctx.step(i)
            if st is not None:
                harm = f": {st['harm']}" if st.get("harm") else ""
                bad.append(
                    Item(
                        "Harmful action.",
                        f"{ctx.step_label(st)} at {ctx.clock(float(st['t']))}{harm}.",
                    )
                )
        failed = [st for st in ctx.steps if st.get("ok") is False]
        if failed:
            bad.append(
                Item(
                    "Failed steps.",
                    join([f"{ctx.step_label(st)} at {ctx.clock(float(st['t']))}" for st in failed])
                    + ".",
                )
            )
        premature = int(conduct.get("premature_resolutions") or 0)
        if premature:
            bad.append(
                Item(
                    "Premature resolution.",
                    f"Declared resolved {premature} time(s) while a fault was still active.",
                )
            )
    if ctx.unresolved():
        active = [str(f["id"]) for f in ctx.faults if f.get("ended") is None]
        bad.append(
            Item(
                "Unresolved.",
                (f"{join(codes(active))} still active when the drill ended." if active else "")
                or "The incident was never declared mitigated or resolved.",
            )
        )
    return good, bad
