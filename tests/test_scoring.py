"""Scoring on hand-built journals with known answers, and on a real run."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.journal import Journal
from sim.response.outcomes import HORIZON_REACHED
from sim.scenario.durations import format_duration
from sim.scoring import DEFAULT_WEIGHTS, Phase, Scorecard, conduct, impact, phases, score
from sim.scoring.score import DEFAULT_WINDOWS, HINT_PENALTY

DOCS = Path(__file__).resolve().parents[1] / "docs" / "scoring.md"
CLOCK = "2026-03-14T08:00:00+00:00"
FAULT = "users-orders-schema-break"
KINDS = {
    "diagnose": "declare",
    "mitigated": "declare",
    "resolved": "declare",
    "notify": "communicate",
    "update": "communicate",
    "wait": "wait",
    **dict.fromkeys(
        ("restart", "rollback", "isolate", "restore", "failover", "scale_out", "fix"), "act"
    ),
}


def step(
    t: float,
    call: str,
    *,
    end: float | None = None,
    target: str | None = None,
    ok: bool = True,
    herring: str | None = None,
    remedied: Iterable[str] = (),
    harmful: bool = False,
) -> dict[str, Any]:
    """A response step; ``i`` is filled in by :func:`journal`."""
    return {
        "t": t,
        "end": t if end is None else end,
        "call": call,
        "kind": KINDS.get(call, "observe"),
        "target": target,
        "ok": ok,
        "evidence": f"{call} {target or ''}".strip(),
        "lead": None,
        "herring": herring,
        "remedied": list(remedied),
        "harmful": harmful,
        "harm": "took it down" if harmful else None,
    }


def fault(ended: float | None = 2100.0, fault_id: str = FAULT) -> dict[str, Any]:
    return {
        "id": fault_id,
        "type": "schema_migration",
        "start": 600.0,
        "ended": ended,
        "targets": ["mig-2041", "db"],
        "remedies": {"rollback": 360.0},
    }


def journal(
    steps: Iterable[dict[str, Any]] = (),
    *,
    start: float | None = 600.0,
    detected: float | None = 660.0,
    acked: float | None = 780.0,
    stopped: float | None = 2160.0,
    faults: Iterable[dict[str, Any]] | None = None,
    notified: float | None = None,
    stakeholders: float | None = None,
    requests: int = 1_000_000,
    failed: int = 36_000,
    lost: float = 8000.0,
    horizon: float = 7200.0,
    counterfactuals: dict[str, Any] | None = None,
    weights: dict[str, float] | None = None,
    windows: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A minimal valid journal of format 2: summary, response and, optionally, the rest."""
    numbered = [{"i": i, **s} for i, s in enumerate(steps)]
    doc: dict[str, Any] = {
        "format": "chaosdrill.journal/2",
        "seed": 1,
        "horizon": horizon,
        "window": 10.0,
        "clock_start": CLOCK,
        "currency": "USD",
        "summary": {
            "errors_started": start,
            "errors_stopped": stopped,
            "detected_at": detected,
            "detection_channel": "alert" if detected is not None else None,
            "acknowledged_at": acked,
            "requests": requests,
            "failed_requests": failed,
            "failed_checkouts": 120,
            "failed_sessions": 900,
            "lost_revenue": lost,
            "error_threshold": 0.05,
            "slo": {"objective": 0.999, "window": 2592000.0},
            "faults": [fault()] if faults is None else list(faults),
        },
        "response": {
            "responder": "scripted",
            "description": "hand-built",
            "started_at": acked,
            "steps": numbered,
            "diagnosis": None,
            "notified_at": notified,
            "stakeholders_at": stakeholders,
            "mitigated_at": None,
            "resolved_at": next((s["t"] for s in numbered if s["call"] == "resolved"), None),
        },
        "counterfactuals": counterfactuals or {},
    }
    if weights is not None:
        doc.setdefault("scoring", {})["weights"] = weights
    if windows is not None:
        doc.setdefault("scoring", {})["windows"] = windows
    return doc


def clean_steps() -> list[dict[str, Any]]:
    """Look, diagnose, tell users, roll back, tell stakeholders, declare resolved."""
    return [
        step(780.0, "dashboard", end=840.0),
        step(900.0, "notify", target="status-page"),
        step(1200.0, "diagnose", target="mig-2041"),
        step(1200.0, "update", target="stakeholders"),
        step(1300.0, "rollback", end=2100.0, target="mig-2041", remedied=[FAULT]),
        step(3300.0, "resolved"),
    ]


def clean() -> dict[str, Any]:
    return journal(clean_steps(), notified=900.0, stakeholders=1200.0)


def test_clean_resolved_run_every_phase_and_the_exact_score() -> None:
    """Every milestone reached; the score is the weighted mean worked out by hand."""
    card = score(clean())
    got = {name: (p.at, p.since_impact, p.status) for name, p in card.phases.items()}
    assert list(got) == [
        "impact",
        "detection",
        "acknowledgement",
        "diagnosis",
        "mitigation",
        "resolution",
    ]
    assert got == {
        "impact": (600.0, 0.0, "ok"),
        "detection": (660.0, 60.0, "ok"),
        "acknowledgement": (780.0, 180.0, "ok"),
        "diagnosis": (1200.0, 600.0, "ok"),
        "mitigation": (2160.0, 1560.0, "ok"),
        "resolution": (3300.0, 2700.0, "ok"),
    }
    # detection 60 s ≤ 2 min → 1; mitigation 1560 s: (3600 − 1560) / (3600 − 600) = 0.68;
    # resolution 2700 s: (7200 − 2700) / (7200 − 1200) = 0.75; budget = 0.001 × 10⁶ × 30 d / 2 h
    # = 360 000 requests, 36 000 failed → 0.1 spent → 0.9; conduct clean → 1.
    assert card.parts == pytest.approx(
        {"detection": 1.0, "mitigation": 0.68, "resolution": 0.75, "impact": 0.9, "conduct": 1.0}
    )
    assert card.impact == {
        "failed_requests": 36000.0,
        "failed_checkouts": 120.0,
        "affected_users": 900.0,
        "lost_revenue": 8000.0,
        "error_budget_spent": 0.1,
    }
    # (15 × 1 + 25 × 0.68 + 20 × 0.75 + 20 × 0.9 + 20 × 1) / 100 × 100 = 15 + 17 + 15 + 18 + 20
    assert card.score == 85.0
    assert card.windows == DEFAULT_WINDOWS
    assert card.responder == "scripted"
    assert card.currency == "USD"
    assert card.counterfactual is None
    assert card.conduct["notify_delay"] == 120.0
    assert card.conduct["stakeholder_delay"] == 420.0
    assert card.phases["resolution"].note == (
        "declared resolved at 08:55, 45.0 min after impact, every fault over"
    )


def test_unresolved_run_is_never_zero_minutes() -> None:
    """Faults that never end leave mitigation and resolution unresolved: None, part 0."""
    doc = journal(
        [step(1000.0, "restart", end=1090.0, target="auth"), step(1200.0, "resolved")],
        stopped=None,
        faults=[fault(ended=None)],
    )
    card = score(doc)
    for name in ("mitigation", "resolution"):
        phase = card.phases[name]
        assert (phase.at, phase.since_impact, phase.status) == (None, None, "unresolved")
        assert card.parts[name] == 0.0
    assert "still active at the horizon" in card.phases["resolution"].note
    assert "only premature declarations" in card.phases["resolution"].note
    assert card.conduct["premature_resolutions"] == 1


def test_cause_removed_but_never_declared_resolved() -> None:
    """Faults that all ended without a declaration leave the run unresolved, not resolved."""
    steps = [s for s in clean_steps() if s["call"] != "resolved"]
    resolution = score(journal(steps)).phases["resolution"]
    assert resolution.status == "unresolved"
    assert resolution.at is None
    assert "cause removed but never verified" in resolution.note


def test_premature_declaration_then_a_proper_one() -> None:
    """A declaration while the fault is active is premature; the later one resolves the run."""
    steps = [*clean_steps()[:4], step(1250.0, "resolved"), *clean_steps()[4:]]
    card = score(journal(steps, notified=900.0, stakeholders=1200.0))
    assert card.phases["resolution"].at == 3300.0
    assert card.conduct["premature_resolutions"] == 1
    assert card.parts["conduct"] == pytest.approx(0.9)
    assert (
        f"declared resolved at 08:20 while {FAULT} was still active (premature)"
        in card.phases["resolution"].note
    )
    # the clean run's 85.0 less 20 × 0.1 for the premature declaration
    assert card.score == 83.0


def test_wrong_diagnosis_does_not_count() -> None:
    """Only a diagnosis naming one of the faults' targets ends the diagnosis phase."""
    steps = [
        step(900.0, "diagnose", target="lb"),
        step(1000.0, "diagnose", target="db", ok=False),
        step(1100.0, "diagnose", target="db"),
    ]
    diagnosis = phases(journal(steps))["diagnosis"]
    assert (diagnosis.at, diagnosis.since_impact) == (1100.0, 500.0)
    assert "wrong diagnosis lb at 08:15" in diagnosis.note

    only_wrong = phases(journal(steps[:1]))["diagnosis"]
    assert (only_wrong.at, only_wrong.status) == (None, "unresolved")
    assert "never correctly diagnosed" in only_wrong.note


def test_red_herrings_wrong_and_harmful_actions() -> None:
    """Herring time adds up per step; harmful actions are not also counted as wrong."""
    steps = [
        step(800.0, "lb", end=1100.0, herring="lb-config-change"),
        step(1100.0, "net", end=1400.0, herring="isp-latency-blip"),
        step(1400.0, "changes", end=1500.0, herring="lb-config-change"),
        step(1500.0, "restart", end=1590.0, target="auth"),
        step(1600.0, "isolate", end=1660.0, target="db", harmful=True),
        step(1700.0, "failover", end=1760.0, target="db", ok=False),
        step(1800.0, "rollback", end=2100.0, target="mig-2041", remedied=[FAULT]),
    ]
    record = conduct(journal(steps, notified=900.0, stakeholders=900.0))
    assert record == {
        "herring_seconds": 700.0,
        "herrings": ["isp-latency-blip", "lb-config-change"],
        "wrong_actions": [3, 5],
        "harmful_actions": [4],
        "notify_delay": 120.0,
        "stakeholder_delay": 120.0,
        "since": "acknowledgement",
        "premature_resolutions": 0,
        "hints_used": 0,
    }
    card = score(journal(steps, notified=900.0, stakeholders=900.0))
    assert card.parts["conduct"] == pytest.approx(1 - 0.15 - 2 * 0.05 - 0.10 * 700 / 600)


def test_an_action_the_horizon_cut_short_is_not_judged() -> None:
    """A rollback still running at the horizon is neither right nor wrong; a finished miss is."""
    cut = step(1800.0, "rollback", end=2100.0, target="mig-2041", ok=False)
    cut["evidence"] = HORIZON_REACHED
    steps = [step(1500.0, "restart", end=1590.0, target="auth"), cut]
    record = conduct(journal(steps, notified=900.0, stakeholders=900.0))
    assert record["wrong_actions"] == [0]


def test_silence_costs_conduct() -> None:
    """Users never told (0.4 off) and stakeholders told late (0.2 off)."""
    record = score(journal(clean_steps(), stakeholders=780.0 + 1801.0))
    assert record.conduct["notify_delay"] is None
    assert record.parts["conduct"] == pytest.approx(0.4)
    assert "−8.0 users never told" in record.explain()["conduct"]
    assert (
        "−4.0 stakeholders told 30m1s after the acknowledgement (on time: within 30m)"
        in record.explain()["conduct"]
    )


@pytest.mark.parametrize(
    ("acked", "detected", "words", "reference"),
    [
        (780.0, 660.0, "after the acknowledgement", 780.0),
        (None, 660.0, "after the detection", 660.0),
        (None, None, "after the impact began", 600.0),
    ],
)
def test_a_late_message_says_what_its_delay_counts_from(
    acked: float | None, detected: float | None, words: str, reference: float
) -> None:
    """The delay counts from the acknowledgement (the detection without one, the impact
    without either), and the penalty says so: a page left waiting 40 minutes and users told
    five minutes after the acknowledgement are not "told five minutes after the page"."""
    told = 2400.0
    record = score(journal(clean_steps(), acked=acked, detected=detected, notified=told))
    assert record.conduct["notify_delay"] == pytest.approx(told - reference)
    late = format_duration(round(told - reference))
    assert f"users told {late} {words} (on time" in str(record.explain()["conduct"])


def test_never_telling_anyone_costs_clearly_more_than_a_hint() -> None:
    """Issue 16: silence towards users, or towards stakeholders, each costs more points than
    a hint does — by at least half a hint again."""
    told = score(journal(clean_steps(), notified=800.0, stakeholders=900.0))
    users_never = score(journal(clean_steps(), stakeholders=900.0))
    stakeholders_never = score(journal(clean_steps(), notified=800.0))
    assert told.score - users_never.score >= 1.5 * HINT_PENALTY
    assert told.score - stakeholders_never.score >= 1.5 * HINT_PENALTY


def test_no_impact_run_scores_full_marks() -> None:
    """No user-facing impact: every phase n/a, the timed parts 1, nothing to notify about."""
    doc = journal(
        start=None, detected=None, acked=None, stopped=None, failed=0, faults=[fault(ended=None)]
    )
    card = score(doc)
    assert {p.status for p in card.phases.values()} == {"n/a"}
    assert {p.note for p in card.phases.values()} == {"no user-facing impact"}
    assert card.parts == dict.fromkeys(DEFAULT_WEIGHTS, 1.0)
    assert card.score == 100.0

    harmful = journal(
        [step(100.0, "isolate", target="db", harmful=True)],
        start=None,
        detected=None,
        acked=None,
        stopped=None,
        failed=0,
    )
    assert score(harmful).parts["conduct"] == pytest.approx(0.85)


def test_weights_come_from_argument_then_journal_then_defaults() -> None:
    """The argument beats the scenario's weights, missing keys take defaults, all normalised."""
    assert score(clean()).weights == DEFAULT_WEIGHTS
    from_journal = journal(
        clean_steps(), notified=900.0, stakeholders=1200.0, weights={"impact": 0, "conduct": 5}
    )
    assert score(from_journal).weights["impact"] == 0.0
    # (15 × 1 + 25 × 0.68 + 20 × 0.75 + 5 × 1) / 65 = 52 / 65
    assert score(from_journal).score == 80.0
    only_detection = {"mitigation": 0, "resolution": 0, "impact": 0, "conduct": 0}
    assert score(from_journal, weights=only_detection).score == 100.0


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"speed": 10}, r"'speed'.*allowed are detection, mitigation"),
        ({"detection": -1}, r"'detection'.*>= 0"),
        (dict.fromkeys(DEFAULT_WEIGHTS, 0), "sum to zero"),
    ],
)
def test_bad_weights_are_refused(weights: dict[str, float], message: str) -> None:
    """Unknown keys, negative weights and all-zero weights fail, as argument or in the journal."""
    with pytest.raises(ValueError, match=message):
        score(clean(), weights=weights)
    with pytest.raises(ValueError, match=message):
        score(journal(weights=weights))


def timed_run(part: str, since: float) -> dict[str, Any]:
    """A run whose ``part`` milestone happens ``since`` seconds after impact (at 600 s)."""
    at = 600.0 + since
    if part == "detection":
        return journal(detected=at, acked=None, horizon=14400.0)
    if part == "mitigation":
        return journal(stopped=at, faults=[fault(ended=at - 30.0)], horizon=14400.0)
    return journal(
        [step(at, "resolved")], stopped=730.0, faults=[fault(ended=700.0)], horizon=14400.0
    )


@pytest.mark.parametrize(
    ("part", "since", "expected"),
    [
        ("detection", 120.0, 1.0),
        ("detection", 510.0, 0.5),
        ("detection", 900.0, 0.0),
        ("mitigation", 600.0, 1.0),
        ("mitigation", 2100.0, 0.5),
        ("mitigation", 3600.0, 0.0),
        ("resolution", 1200.0, 1.0),
        ("resolution", 4200.0, 0.5),
        ("resolution", 7200.0, 0.0),
    ],
)
def test_default_windows(part: str, since: float, expected: float) -> None:
    """Detection 2–15 min, mitigation 10–60 min, resolution 20–120 min: 1 at or under, 0 at or over."""
    card = score(timed_run(part, since))
    assert card.phases[part].since_impact == since
    assert card.parts[part] == pytest.approx(expected)


def test_a_long_outage_with_wrong_actions_scores_low() -> None:
    """A 47-minute outage with two wrong actions is not a good run (the old windows gave 85.4)."""
    steps = [
        step(900.0, "restart", end=990.0, target="auth"),
        step(1000.0, "notify", target="status-page"),
        step(1200.0, "restart", end=1290.0, target="checkout"),
        step(1500.0, "update", target="stakeholders"),
        step(2400.0, "diagnose", target="mig-2041"),
        step(3000.0, "rollback", end=3390.0, target="mig-2041", remedied=[FAULT]),
        step(3720.0, "resolved"),
    ]
    doc = journal(
        steps,
        detected=720.0,
        acked=900.0,
        stopped=600.0 + 47 * 60.0,
        faults=[fault(ended=3390.0)],
        notified=1000.0,
        stakeholders=1500.0,
    )
    card = score(doc)
    assert card.conduct["wrong_actions"] == [0, 2]
    # mitigation 2820 s: (3600 − 2820) / 3000 = 0.26; resolution 3120 s: (7200 − 3120) / 6000
    # = 0.68; impact 0.9; conduct 1 − 2 × 0.05 = 0.9
    assert card.parts == pytest.approx(
        {"detection": 1.0, "mitigation": 0.26, "resolution": 0.68, "impact": 0.9, "conduct": 0.9}
    )
    # 15 + 25 × 0.26 + 20 × 0.68 + 20 × 0.9 + 20 × 0.9 = 15 + 6.5 + 13.6 + 18 + 18
    assert card.score == 71.1


def test_a_scenario_can_override_the_windows() -> None:
    """scoring.windows replaces the windows it names; the others keep their defaults."""
    doc = journal(
        clean_steps(), notified=900.0, stakeholders=1200.0, windows={"resolution": [600, 3600]}
    )
    card = score(doc, weights={"impact": 20})
    assert card.windows == {**DEFAULT_WINDOWS, "resolution": (600.0, 3600.0)}
    assert card.to_dict()["windows"]["resolution"] == [600.0, 3600.0]
    # resolution 2700 s: (3600 − 2700) / (3600 − 600) = 0.3, the rest as in the clean run
    assert card.parts["resolution"] == pytest.approx(0.3)
    assert card.parts["mitigation"] == pytest.approx(0.68)
    # 15 + 17 + 20 × 0.3 + 18 + 20
    assert card.score == 76.0
    assert score(journal(clean_steps(), windows={})).windows == DEFAULT_WINDOWS


@pytest.mark.parametrize(
    ("windows", "message"),
    [
        ({"detection": [900, 120]}, r"'detection'.*0 <= lo < hi"),
        ({"mitigation": [600, 600]}, r"'mitigation'.*0 <= lo < hi"),
        ({"resolution": [-60, 600]}, r"'resolution'.*0 <= lo < hi"),
        ({"resolution": [600]}, r"'resolution'.*two finite numbers"),
        ({"detection": "fast"}, r"'detection'.*two finite numbers"),
        ({"detection": [60, "900"]}, r"'detection'.*two finite numbers"),
        ({"detection": [True, 900]}, r"'detection'.*two finite numbers"),
        ({"mitigation": [60, float("inf")]}, r"'mitigation'.*two finite numbers"),
        ({"mitigation": [float("nan"), 600]}, r"'mitigation'.*two finite numbers"),
        ({"speed": [60, 600]}, r"'speed'.*allowed are detection, mitigation, resolution"),
        ([[60, 600]], r"scoring windows must be a mapping"),
    ],
)
def test_bad_windows_are_refused(windows: Any, message: str) -> None:
    """A window must be two finite numbers with 0 <= lo < hi; the error names the key."""
    with pytest.raises(ValueError, match=message):
        score(journal(clean_steps(), windows=windows))


def test_counterfactual_savings_and_oracle_gap() -> None:
    """Minutes and money saved against doing nothing, and left on the table against the oracle."""
    counterfactuals = {
        "none": {
            "responder": "none",
            "seed": 1,
            "mitigated_at": None,
            "resolved_at": None,
            "errors_stopped": None,
            "lost_revenue": 20000.0,
            "failed_checkouts": 400,
            "failed_requests": 90000,
        },
        "oracle": {
            "responder": "oracle",
            "seed": 1,
            "mitigated_at": 1150.0,
            "resolved_at": 1500.0,
            "errors_stopped": 1200.0,
            "lost_revenue": 2000.0,
            "failed_checkouts": 30,
            "failed_requests": 9000,
        },
    }
    doc = journal(
        clean_steps(), notified=900.0, stakeholders=1200.0, counterfactuals=counterfactuals
    )
    card = score(doc)
    assert card.counterfactual == {
        "impact_minutes": 26.0,
        "none_impact_minutes": 110.0,
        "none_lost_revenue": 20000.0,
        "oracle_impact_minutes": 10.0,
        "oracle_lost_revenue": 2000.0,
        "saved_minutes": 84.0,
        "saved_revenue": 12000.0,
        "oracle_gap_minutes": 16.0,
        "oracle_gap_revenue": 6000.0,
        "resolve_gap_minutes": 30.0,
    }
    assert card.parts["impact"] == pytest.approx(1 - 8000 / 20000)

    unresolved = copy.deepcopy(doc)
    unresolved["response"]["steps"] = unresolved["response"]["steps"][:-1]
    none_only = copy.deepcopy(unresolved)
    del none_only["counterfactuals"]["oracle"]
    assert score(unresolved).counterfactual["resolve_gap_minutes"] is None  # type: ignore[index]
    assert score(none_only).counterfactual["oracle_gap_minutes"] is None  # type: ignore[index]
    assert score(none_only).counterfactual["saved_minutes"] == 84.0  # type: ignore[index]


def test_journal_object_plain_dict_and_old_journal_all_score() -> None:
    """A Journal and its dict score alike; a journal without a response scores as responder "none"."""
    doc = clean()
    assert score(Journal(doc)) == score(doc)
    assert phases(Journal(doc)) == phases(doc)
    assert impact(Journal(doc)) == impact(doc)
    old = copy.deepcopy(doc)
    del old["response"], old["counterfactuals"]
    card = score(old)
    assert card.responder == "none"
    assert card.conduct["wrong_actions"] == []
    assert card.phases["resolution"].status == "unresolved"
    with pytest.raises(TypeError, match="Journal"):
        score([])  # type: ignore[arg-type]


def test_to_dict_is_json_ready_in_a_stable_order() -> None:
    """to_dict survives strict JSON (no NaN, no tuples) and keeps its key order."""
    card = score(clean())
    out = card.to_dict()
    assert list(out) == [
        "responder",
        "score",
        "parts",
        "weights",
        "windows",
        "phases",
        "impact",
        "conduct",
        "currency",
        "counterfactual",
    ]
    assert json.loads(json.dumps(out, allow_nan=False)) == out
    assert out["windows"] == {
        "detection": [120.0, 900.0],
        "mitigation": [600.0, 3600.0],
        "resolution": [1200.0, 7200.0],
    }
    assert isinstance(card, Scorecard)
    assert isinstance(card.phases["impact"], Phase)


def test_worked_example_in_the_docs_is_what_the_code_computes() -> None:
    """docs/scoring.md publishes a journal and its scorecard: they must agree with the code."""
    section = DOCS.read_text(encoding="utf-8").split("## Worked example", 1)[1]
    given_journal, published = (
        json.loads(b) for b in re.findall(r"```json\n(.*?)```", section, re.S)[:2]
    )
    assert score(given_journal).to_dict() == published


def test_a_real_run_scores_from_its_own_numbers(seed_journal: Journal) -> None:
    """The seed run scores, and its figures are the journal's, not recomputed ones."""
    card = score(seed_journal)
    summary = seed_journal.summary
    assert card.impact["lost_revenue"] == summary["lost_revenue"]
    assert card.impact["failed_requests"] == summary["failed_requests"]
    assert card.impact["affected_users"] == summary["failed_sessions"]
    assert card.phases["impact"].at == summary["errors_started"]
    assert card.phases["detection"].at == summary["detected_at"]
    assert card.phases["acknowledgement"].at == summary["acknowledged_at"]
    assert card.phases["mitigation"].at == summary["errors_stopped"]
    assert card.currency == seed_journal.data["currency"]
    assert 0.0 <= card.score <= 100.0
    if "response" not in seed_journal.data:
        assert card.responder == "none"
        assert card.phases["resolution"].status == "unresolved"
    json.dumps(card.to_dict(), allow_nan=False)


# -- property: a slower responder never scores higher -------------------------------------


def responder_run(plan: dict[str, Any], delay: float) -> dict[str, Any]:
    """A run whose responder follows ``plan`` ``delay`` seconds late, with its consequences.

    The fault ends when the remedy finishes, users stop failing 30 s later, and failures and
    lost revenue grow with the length of the episode, as they would in the simulator.
    """
    horizon, start = 14400.0, 600.0
    cursor = 780.0 + delay
    steps = []

    def add(duration: float, call: str, **kw: Any) -> dict[str, Any]:
        nonlocal cursor
        s = step(cursor, call, end=cursor + duration, **kw)
        steps.append(s)
        cursor += duration
        return s

    for duration in plan["herrings"]:
        add(duration, "lb", herring="lb-config-change")
    for duration in plan["wrong"]:
        add(duration, "restart", target="auth")
    if plan["harmful"]:
        add(60.0, "isolate", target="db", harmful=True)
    add(0.0, "diagnose", target="mig-2041")
    notified = cursor + plan["notify"] if plan["notify"] is not None else None
    stakeholders = cursor + plan["update"] if plan["update"] is not None else None
    if plan["premature"]:
        add(0.0, "resolved")
    ended = None
    if plan["remedy"] is not None:
        ended = add(plan["remedy"], "rollback", target="mig-2041", remedied=[FAULT])["end"]
        if plan["declare"] is not None:
            cursor += plan["declare"]
            add(0.0, "resolved")
    stopped = None if ended is None else ended + 30.0
    episode = (horizon if stopped is None else stopped) - start
    counterfactuals = None
    if plan["counterfactual"]:
        counterfactuals = {"none": {"errors_stopped": None, "lost_revenue": 10 * (horizon - start)}}
    return journal(
        steps,
        stopped=stopped,
        faults=[fault(ended=ended)],
        notified=notified,
        stakeholders=stakeholders,
        failed=int(100 * episode),
        lost=10 * episode,
        horizon=horizon,
        counterfactuals=counterfactuals,
    )


durations = st.floats(min_value=0.0, max_value=600.0)
plans = st.fixed_dictionaries(
    {
        "herrings": st.lists(durations, max_size=3),
        "wrong": st.lists(st.floats(min_value=0.0, max_value=300.0), max_size=2),
        "harmful": st.booleans(),
        "notify": st.none() | st.floats(min_value=0.0, max_value=1800.0),
        "update": st.none() | st.floats(min_value=0.0, max_value=3600.0),
        "premature": st.booleans(),
        "remedy": st.none() | st.floats(min_value=60.0, max_value=900.0),
        "declare": st.none() | st.floats(min_value=0.0, max_value=1800.0),
        "counterfactual": st.booleans(),
    }
)


@settings(max_examples=200, deadline=None)
@given(plan=plans, delay=st.floats(min_value=0.0, max_value=3600.0))
def test_a_slower_responder_never_scores_higher(plan: dict[str, Any], delay: float) -> None:
    """The same response, started later, with later consequences, scores no better."""
    assert score(responder_run(plan, delay)).score <= score(responder_run(plan, 0.0)).score


def test_each_drill_hint_costs_five_points() -> None:
    base = journal([])
    plain = score(base).score
    hinted = copy.deepcopy(base)
    hinted["response"]["hints_used"] = 2
    card = score(hinted)
    assert card.conduct["hints_used"] == 2
    assert card.score == pytest.approx(max(0.0, plain - 10.0))


def test_the_console_says_earlier_when_the_responder_beat_the_oracle() -> None:
    from sim.report.console import _resolve_gap

    assert _resolve_gap(3.5) == "; resolved 3.5 min later"
    assert _resolve_gap(-3.5) == "; resolved 3.5 min earlier"
    assert _resolve_gap(None) == ""
