"""What the incident cost: failed requests and checkouts, affected users, revenue, error budget."""

from __future__ import annotations

from sim.scoring._journal import JournalLike, document, horizon, summary

DEFAULT_OBJECTIVE = 0.999
DEFAULT_SLO_WINDOW = 30 * 86400.0


def error_budget_spent(
    failed_requests: float, requests: float, run_length: float, objective: float, window: float
) -> float:
    """Failed requests as a fraction of the SLO window's error budget (may exceed 1).

    The budget is what the objective allows over ``window`` at this run's request rate:
    ``(1 - objective) * requests * window / run_length``. A run with no budget at all (no
    requests, a zero-length run or a 100 % objective) has spent nothing when nothing failed
    and all of it (1.0) otherwise, so the figure stays finite.
    """
    budget = (1.0 - objective) * requests * window / run_length if run_length > 0 else 0.0
    if budget <= 0:
        return 0.0 if failed_requests <= 0 else 1.0
    return round(failed_requests / budget, 6)


def impact(journal: JournalLike) -> dict[str, float]:
    """The run's cost to users and the business, from the journal's summary.

    Keys: ``failed_requests``, ``failed_checkouts``, ``affected_users`` (the summary's
    ``failed_sessions``), ``lost_revenue`` and ``error_budget_spent`` (a fraction of the
    ``summary.slo`` window's budget, 0.999 over 30 days when the journal names none).
    """
    doc = document(journal)
    summ = summary(doc)
    slo = summ.get("slo") or {}
    failed = float(summ.get("failed_requests") or 0)
    return {
        "failed_requests": failed,
        "failed_checkouts": float(summ.get("failed_checkouts") or 0),
        "affected_users": float(summ.get("failed_sessions") or 0),
        "lost_revenue": float(summ.get("lost_revenue") or 0.0),
        "error_budget_spent": error_budget_spent(
            failed,
            float(summ.get("requests") or 0),
            horizon(doc),
            float(slo.get("objective", DEFAULT_OBJECTIVE)),
            float(slo.get("window", DEFAULT_SLO_WINDOW)),
        ),
    }
