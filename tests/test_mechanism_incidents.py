"""More than one incident in a shift (scenarios/two-incidents-in-a-shift.yaml): each fault
names its incident, each incident gets its own page and its own milestones, the responders stay
on call for the next one, and the score times each from its own impact."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import sim
from sim.expect.overrides import apply_overrides
from sim.faults.incidents import incident_groups
from sim.journal import Journal
from sim.journal.summary import summarise
from sim.scenario import Scenario
from sim.scoring import score
from sim.scoring.phases import declarations
from sim.telemetry.metrics import SERIES_COLUMNS
from tests.conftest import SCENARIOS, drill_transcript

TWO = SCENARIOS / "two-incidents-in-a-shift.yaml"
SECOND = 110 * 60.0  # the card processor starts hanging


def variant(overrides: dict[str, Any]) -> Scenario:
    doc = sim.load_scenario(TWO).model_dump(mode="json", by_alias=True)
    return Scenario.model_validate(apply_overrides(doc, overrides))


@pytest.fixture(scope="module")
def experienced() -> Journal:
    return sim.run(sim.load_scenario(TWO), 1, responder="experienced", compact=True)


def test_each_incident_has_its_own_page_and_milestones_in_order(experienced: Journal) -> None:
    first, second = experienced.summary["incidents"]
    assert (first["name"], first["faults"]) == ("checkout-deploy", ["split-shipments-bug"])
    assert (second["name"], second["faults"]) == ("card-payments", ["card-processor-hang"])
    assert (first["page"], second["page"]) == ("INC-001", "INC-002")
    assert second["start"] == SECOND
    for inc in (first, second):
        begun = inc["start"]
        assert begun <= inc["errors_started"] < inc["detected_at"] <= inc["acknowledged_at"]
        assert inc["errors_started"] < inc["errors_stopped"]
    assert first["errors_stopped"] < SECOND  # the first was over before the second began
    card = score(experienced)
    for inc, ids in zip(
        card.incidents, (["split-shipments-bug"], ["card-processor-hang"]), strict=True
    ):
        phases = inc.phases
        ended = [f["ended"] for f in experienced.summary["faults"] if f["id"] in ids]
        assert phases["resolution"].at is not None
        assert all(e is not None and e <= phases["resolution"].at for e in ended)
        times = [phases[n].at for n in ("impact", "detection", "mitigation", "resolution")]
        assert times == sorted(times)
    assert card.incidents[0].phases["resolution"].at < SECOND


def test_the_engineer_answers_the_second_page_afresh(experienced: Journal) -> None:
    """What it declared of the first (the deploy) does not carry over: the second page gets
    its own diagnosis, naming the provider, and the provider is failed over."""
    steps = experienced.data["response"]["steps"]
    later = [s for s in steps if s["t"] >= SECOND]
    assert [s["target"] for s in later if s["call"] == "diagnose"][-1] == "payment-provider"
    assert any(s["call"] == "failover" and s["remedied"] for s in later)
    assert sum(s["call"] == "resolved" for s in steps) == 2


def test_each_incident_is_diagnosed_in_its_own_stretch_with_its_wrong_guesses(
    experienced: Journal,
) -> None:
    """An incident's diagnosis is the first in its stretch naming one of its faults' targets;
    a wrong one in its stretch is named in its note, one in another incident's stretch is not."""
    doc = copy.deepcopy(experienced.data)
    steps = doc["response"]["steps"]
    later = [s for s in steps if s["t"] >= SECOND and s["call"] == "diagnose"]
    right = next(s for s in later if s["target"] == "payment-provider")
    suspected = {s["target"] for s in later if s["t"] < right["t"]}  # at seed 1: the web tier
    guess = {"call": "diagnose", "target": "search", "ok": True}
    # a wrong guess late in the first incident's stretch, and one early in the second's
    steps += [{**guess, "t": SECOND - 60.0}, {**guess, "target": "cache", "t": SECOND + 30.0}]
    steps.sort(key=lambda s: s["t"])
    first, second = (i.phases["diagnosis"] for i in score(doc).incidents)
    assert first.at is not None
    assert first.at < SECOND
    assert "wrong diagnosis" not in first.note  # its own right answer came before the guess
    assert second.at == right["t"]
    assert "after wrong diagnosis cache at" in second.note
    assert all(f"{t} at" in second.note for t in suspected)
    assert "search" not in second.note


def test_resolving_the_first_is_not_premature_and_the_shift_resolves_with_the_last(
    experienced: Journal,
) -> None:
    decl = declarations(experienced)
    assert decl.premature == ()
    card = score(experienced)
    assert decl.valid == card.incidents[-1].phases["resolution"].at
    assert card.conduct["premature_resolutions"] == 0


def test_the_score_times_each_incident_from_its_own_impact(experienced: Journal) -> None:
    """Counterfactual on the scoring: the same faults as one incident (no names) are timed
    from the first impact, so the second incident's mitigation, an hour and a half later,
    earns nothing; named, each is timed from its own and the mitigation part is their
    average."""
    card = score(experienced)
    own = [i.phases["mitigation"].since_impact for i in card.incidents]
    assert all(m is not None and m < 3600 for m in own)
    assert card.phases["mitigation"].since_impact > 5400  # the whole shift's
    one = sim.run(
        variant({"faults.0.incident": None, "faults.1.incident": None}),
        1,
        responder="experienced",
        compact=True,
    )
    assert "incidents" not in one.summary
    as_one = score(one)
    assert as_one.incidents == ()
    assert as_one.parts["mitigation"] == 0.0
    assert card.parts["mitigation"] > 0.3
    # and, as one incident, the engineer goes off call once the deploy is rolled back
    assert not any(s["t"] >= SECOND for s in one.data["response"]["steps"])


def test_the_oracle_answers_both() -> None:
    journal = sim.run(sim.load_scenario(TWO), 2, responder="oracle", compact=True)
    card = score(journal)
    assert [i.phases["resolution"].status for i in card.incidents] == ["ok", "ok"]
    remedied = [f for s in journal.data["response"]["steps"] for f in s["remedied"]]
    assert set(remedied) == {"split-shipments-bug", "card-processor-hang"}


def test_in_the_drill_the_trainee_stays_on_call_and_is_paged_again() -> None:
    journal, text = drill_transcript(
        TWO,
        1,
        (
            "diagnose dep-orders-7.3.0",
            "rollback dep-orders-7.3.0",
            "wait 5m",
            "resolve",
            "wait 1h20m",
            "diagnose payment-provider",
            "failover payment-provider",
            "wait 5m",
            "resolve",
            "quit",
        ),
    )
    assert "You stay on call until the shift ends at 12:00 UTC" in text
    assert text.index("INC-002, you are on call") > text.index("You stay on call")
    card = score(journal)
    assert [i.phases["mitigation"].status for i in card.incidents] == ["ok", "ok"]
    assert "each incident, timed from its own impact" in _scorecard_text(journal)


def _scorecard_text(journal: Journal) -> str:
    import io

    from rich.console import Console

    from sim.report.console import print_scorecard

    buffer = io.StringIO()
    print_scorecard(journal, Console(file=buffer, width=100))
    return buffer.getvalue()


def test_every_fault_names_its_incident_once_one_does(tmp_path: Path) -> None:
    """Through the real entry point: the file, the fault and what is expected."""
    bad = tmp_path / "two.yaml"
    text = TWO.read_text(encoding="utf-8").replace("    incident: card-payments\n", "")
    bad.write_text(text.replace("extends: shops/", f"extends: {SCENARIOS}/shops/"), "utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "sim", "validate", str(bad)], capture_output=True, text=True
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    message = done.stdout + done.stderr
    assert "faults[1].incident" in message
    assert "'card-processor-hang' names no incident while others do (checkout-deploy)" in message


def test_episodes_and_consequences_join_the_incident_they_began_in() -> None:
    labels = {"a": "one", "b": "two"}
    starts = [("a", 100.0), ("lock-queue", 150.0), ("b", 900.0), ("relapse", 950.0)]
    groups = incident_groups(labels, starts)
    assert [(g.name, g.start, g.faults) for g in groups] == [
        ("one", 100.0, ("a", "lock-queue")),
        ("two", 900.0, ("b", "relapse")),
    ]
    assert incident_groups({"a": None, "b": None}, starts) == []
    assert incident_groups({"a": "one", "b": "one"}, starts) == []


ROW = dict.fromkeys(SERIES_COLUMNS, 0)


def _row(t: float, bad: int) -> list[Any]:
    row = {**ROW, "t": t, "scope": "endpoint", "name": "checkout", "requests": 100, "errors": bad}
    return [row[name] for name in SERIES_COLUMNS]


@given(
    failing=st.lists(st.booleans(), min_size=4, max_size=60),
    cut=st.integers(min_value=1, max_value=59),
)
def test_each_stretch_has_the_episode_of_its_own_windows(failing: list[bool], cut: int) -> None:
    """Split a run's failing windows at a cut: each side's episode starts at its own first
    failing window, and a side whose failures run into the next (or the end) has not stopped."""
    window = 60.0
    rows = [_row(i * window, 50 if bad else 0) for i, bad in enumerate(failing)]
    at = cut * window
    summary = summarise(rows, [], 0.02, window, cuts=[at])
    whole = summarise(rows, [], 0.02, window)
    (a_start, a_stop), (b_start, b_stop) = summary.pop("episodes")
    assert summary == whole  # the cut changes nothing else
    before = [i * window for i, bad in enumerate(failing) if bad and i * window < at]
    after = [i * window for i, bad in enumerate(failing) if bad and i * window >= at]
    assert a_start == (before[0] if before else None)
    assert b_start == (after[0] if after else None)
    last = (len(failing) - 1) * window
    if before and before[-1] != last and before[-1] + window < at:
        assert a_stop == before[-1] + window
    else:
        assert a_stop is None
    assert b_stop == (None if not after or after[-1] == last else after[-1] + window)


def test_a_time_bound_of_expect_holds_for_each_incident(experienced: Journal) -> None:
    """``mitigated_within`` in a shift of two incidents is met by the slower of the two, each
    timed from its own impact — not by the shift's first impact to its last mitigation."""
    from sim.expect.checks import CHECKS, measure, meets

    mitigated = next(c for c in CHECKS if c.key == "mitigated_within")
    card = score(experienced)
    own = [i.phases["mitigation"].since_impact for i in card.incidents]
    m = measure(mitigated, experienced, card)
    assert m.value == max(own)
    assert meets(mitigated, max(own), m)
    assert not meets(mitigated, min(own), m)
    assert m.value < card.phases["mitigation"].since_impact


def test_the_drills_comparison_and_the_report_time_each_incident(experienced: Journal) -> None:
    """After a drill, the table against other responders gives the slowest incident's
    mitigation from its own impact; the report's impact row gives each incident's."""
    import io

    from rich.console import Console

    from sim.drill.outcome import comparison
    from sim.report.build import build_report
    from sim.report.render import markdown
    from sim.scenario import format_duration

    card = score(experienced)
    slowest = max(i.phases["mitigation"].since_impact or 0.0 for i in card.incidents)
    buffer = io.StringIO()
    Console(file=buffer, width=160).print(comparison({"x": experienced}, "USD", "x"))
    assert "the slowest incident" in buffer.getvalue()
    assert f"+{format_duration(round(slowest))}" in buffer.getvalue()
    text = markdown(build_report(experienced))
    row = next(line for line in text.splitlines() if "duration of impact" in line)
    assert "2 incidents" in row
    assert all(i.name in row for i in card.incidents)
