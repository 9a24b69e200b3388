"""The population of real teams: the dataset, the stored fit, and a runbook that draws from it."""

from __future__ import annotations

import math
import random
import statistics
import sys
from pathlib import Path
from typing import Any

import pytest

import sim
from sim.engine.common.streams import stream
from sim.expect.calibration import with_profile
from sim.report import render_markdown
from sim.response import people
from sim.response.evidence import SAYS_WHAT_IS_WRONG
from sim.runner import run
from sim.scenario.catalogue import entries

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import people as fit_people  # noqa: E402  (benchmarks/people.py)

# Incidents kept out of every model, calibration and dataset here: an independent check.
RESERVED = [
    ("github", "2021-11-27"),
    ("basecamp", "2018-11-08"),
    ("heroku", "2023-06-08"),
    ("gocardless", "2015"),
    ("stripe", "2019-07-10"),
    ("slack", "2021-01-04"),
    ("allegro", "2018-07-18"),
]


@pytest.fixture(scope="module")
def dataset() -> list[dict]:
    return fit_people.read_dataset()


def test_no_incident_a_scenario_is_calibrated_against_is_in_the_dataset(dataset) -> None:
    """The tempo is fitted on other incidents than those it is checked against."""
    calibrated = []
    for path in entries().values():
        s = sim.load_scenario(path)
        if s.source is not None:
            calibrated.append((s.source.company.split()[0].lower(), s.source.date.isoformat()))
    assert len(calibrated) >= 8
    for row in dataset:
        company, date = row["company"].lower(), row["date"]
        for name, day in [*calibrated, *RESERVED]:
            assert not (name in company and date.startswith(day)), (row["company"], date)


def test_every_row_is_sourced_and_in_order(dataset) -> None:
    assert len(dataset) >= 40
    for row in dataset:
        assert row["url"].startswith("http"), row
        # as published: an alert may fire a minute or two before the published impact start
        times = [row[k] for k in ("detect", "diagnosis", "mitigation") if row[k] is not None]
        assert all(t >= -5 for t in times), row
        if row["detect"] is not None and row["mitigation"] is not None:
            assert row["mitigation"] >= row["detect"], row


def test_the_stored_fit_came_from_this_dataset(dataset) -> None:
    stored = people.fitted()
    rows = fit_people.collected(dataset)  # not the plain-evidence sample
    assert stored["dataset"]["incidents"] == len(rows) < len(dataset)
    assert stored["dataset"]["plain_evidence_sample"] == len(dataset) - len(rows)
    assert stored["dataset"]["page_to_cause"] == fit_people.quantiles(
        fit_people.spans(rows, "diagnosis")
    )
    assert stored["dataset"]["page_to_mitigation"] == fit_people.quantiles(
        fit_people.spans(rows, "mitigation")
    )
    for kind in fit_people.KINDS:
        assert stored["dataset"]["page_to_cause_by_evidence"][kind] == fit_people.quantiles(
            fit_people.spans(fit_people.of_kind(dataset, kind), "diagnosis")
        )
    # fitted on the incidents whose teams saw symptoms, against the runs whose teams did
    kind = stored["dataset"]["fitted_on"]
    assert kind == fit_people.FIT_ON == "opaque"
    # the check it stored: the fitted quantity lands within 5 % of the data it was fitted to
    check = stored["check"]["page_to_cause_by_evidence"][kind]
    data = stored["dataset"]["page_to_cause_by_evidence"][kind]
    assert abs(math.log(check["median"] / data["median"])) < 0.05


def test_every_incident_with_a_page_to_cause_says_what_its_team_saw_first(dataset) -> None:
    """The fit sorts incidents by their first evidence: none it could use is unclassified."""
    for row in dataset:
        if row["detect"] is not None and row["diagnosis"] is not None:
            assert row["evidence"] in ("plain", "opaque", "operator", "unknown"), row["company"]
    assert len(fit_people.of_kind(dataset, "plain")) >= 5


@pytest.mark.parametrize(
    "line",
    [
        'ERROR: nextval: reached maximum value of sequence "orders_id_seq" (2147483647)',
        "ERROR: column users.password_hash does not exist (SQLSTATE 42703)",
        "OSError: [Errno 28] No space left on device",
        "SSLError: certificate verify failed: certificate has expired (payments.internal)",
        "InvalidToken: token used before issued (iat in the future): clock skew 60s",
        "getaddrinfo EAI_AGAIN db.svc.cluster.local: Temporary failure in name resolution",
        "RESOURCE_EXHAUSTED: Quota exceeded for quota metric 'Requests'",
        "ERROR: integer out of range for type integer (SQLSTATE 22003)",
    ],
)
def test_an_error_that_says_what_is_wrong_reads_plain(line: str) -> None:
    assert SAYS_WHAT_IS_WRONG.search(line)


@pytest.mark.parametrize(
    "line",
    [
        "upstream timeout calling db after 2s",
        "FATAL:  sorry, too many clients already",
        "ERROR: canceling statement due to lock timeout (SQLSTATE 55P03)",
        '"GET /cart HTTP/1.1" 500 upstream=web',
        "no healthy upstream for db: every instance failing health checks",
        'circuit breaker "payments → payment-provider" is OPEN; not calling payment-provider',
        "unhandled exception in request handler: InternalError: internal server error",
        'connection to server at "10.0.194.10", port 5432 failed: Connection refused',
    ],
)
def test_a_symptom_reads_opaque(line: str) -> None:
    assert not SAYS_WHAT_IS_WRONG.search(line)


@pytest.mark.parametrize(
    ("diagnosis", "evidence", "expected"),
    [
        ("ten", "opaque", r"rt.csv:2: diagnosis: expected minutes .*'ten'"),
        ("10", "obvious", r"rt.csv:2: evidence: expected one of .*'obvious'"),
    ],
)
def test_a_bad_value_names_its_line_and_column(
    tmp_path: Path, diagnosis: str, evidence: str, expected: str
) -> None:
    bad = tmp_path / "rt.csv"
    bad.write_text(
        "company,date,class,url,detect,ack,diagnosis,mitigation,resolution,evidence,notes\n"
        f"X,2020-01-01,other,https://x,3,,{diagnosis},40,,{evidence},\n"
    )
    with pytest.raises(ValueError, match=expected):
        fit_people.read_dataset(bad)


def test_draws_follow_the_stored_lognormal() -> None:
    median, sigma = people.tempo()
    rng = random.Random(7)
    logs = [math.log(people.draw(rng)) for _ in range(20_000)]
    assert math.exp(statistics.median(logs)) == pytest.approx(median, rel=0.04)
    assert statistics.pstdev(logs) == pytest.approx(sigma, rel=0.04, abs=0.01)


def test_the_fit_recovers_a_known_tempo() -> None:
    """Runs whose search takes 10 min, acknowledged after 2: data made with T ~ LN(3, 0.8)
    gives back about 3 and 0.8."""
    rng = random.Random(1)
    truth = [2 + 10 * math.exp(rng.gauss(math.log(3), 0.8)) for _ in range(4000)]
    target = fit_people.quantiles(truth)
    ack = [2.0] * 200
    search = [10.0] * 200
    import numpy as np

    median, sigma, got = fit_people.fit(np.array(ack), np.array(search), target)
    assert median == pytest.approx(3, rel=0.08)
    assert sigma == pytest.approx(0.8, abs=0.06)
    assert got["median"] == pytest.approx(target["median"], rel=0.05)


SEED = 2


@pytest.fixture(scope="module")
def journals() -> dict[str, Any]:
    """bad-schema-migration, seed 2, with the same engineer and with a drawn team."""
    scenario = sim.load_scenario("bad-schema-migration")
    return {
        tempo: run(with_profile(scenario, tempo=tempo), SEED, responder="experienced")
        for tempo in ("fixed", "population")
    }


def test_every_look_takes_this_runs_tempo_times_as_long(journals: dict[str, Any]) -> None:
    """Same scenario, same seed: the first looks (before anything the team does changes the
    run) take the drawn tempo × what they take at a fixed tempo — the draw has its own stream,
    so the look's own spread is the same draw in both runs."""
    tempo = people.draw(stream(SEED, "response/tempo"))
    fixed = journals["fixed"].data["response"]["steps"]
    drawn = journals["population"].data["response"]["steps"]
    assert fixed[0]["t"] == drawn[0]["t"]  # the page is the same: the team has not acted yet
    for a, b in zip(fixed[:2], drawn[:2], strict=True):
        assert a["call"] == b["call"]
        took_fixed, took_drawn = a["end"] - a["t"], b["end"] - b["t"]
        assert took_drawn == pytest.approx(tempo * took_fixed, rel=0.02, abs=0.2)


def test_the_journal_and_the_report_say_which_team_was_drawn(journals: dict[str, Any]) -> None:
    # the column that does not exist is in the logs at the page: a plain-evidence team
    assert journals["fixed"].data["response"]["evidence"] == "plain"
    assert journals["population"].data["response"]["evidence"] == "plain"
    tempo = people.draw(stream(SEED, "response/tempo"))
    journal = journals["population"]
    assert journal.data["response"]["tempo"] == pytest.approx(tempo, abs=1e-4)
    team = f"team tempo × {tempo:.2f}, evidence plain"
    assert f"experienced ({team})" in journal._repr_html_()
    assert f"experienced, {team}" in render_markdown(journal)  # the report
    assert "tempo" not in journals["fixed"].data["response"]  # the same engineer: nothing drawn


def test_the_same_seed_draws_the_same_team_and_seeds_differ() -> None:
    draws = [people.draw(stream(seed, "response/tempo")) for seed in range(1, 41)]
    assert draws[:5] == [people.draw(stream(seed, "response/tempo")) for seed in range(1, 6)]
    assert max(draws) / min(draws) > 10  # σ 1.26: forty teams span more than tenfold
