"""Customer complaints: tickets after a lag, escalation to engineering, text, determinism."""

from __future__ import annotations

import json
import random
from collections.abc import Generator, Sequence
from typing import Any

import pytest
import simpy

from sim.engine.common.shoppers import Persona, Session
from sim.engine.common.streams import stream
from sim.engine.request.engine import RequestEngine
from sim.faults.schedule import FaultSchedule
from sim.model.world import Event, World
from sim.scenario import Scenario
from sim.scenario.schema import Complaints as ComplaintsSpec
from sim.scenario.schema import Escalation, TimeDistribution
from sim.telemetry.complaints import FILED_PER_SHOPPER, KEEP, Complaints, binomial
from tests.conftest import SCENARIOS

PERSONA = Persona("Ada Lovelace", "ada.lovelace@example.com")
FAULT_AT = 2400.0  # the seed scenario's migration


def constant_lag(seconds: float, tickets: int = 5, within: float = 600.0) -> ComplaintsSpec:
    """Every real shopper who gave up complains, exactly ``seconds`` later."""
    return ComplaintsSpec(
        probability=1.0,
        lag=TimeDistribution(dist="constant", mean=seconds),
        escalation=Escalation(tickets=tickets, within=within),
    )


class Desk:
    """A small world with a complaints desk; failures are injected at chosen times."""

    def __init__(
        self,
        scenario: Scenario,
        spec: ComplaintsSpec | None = None,
        seed: int = 1,
        represents: int = 1,
    ) -> None:
        self.env = simpy.Environment()
        self.world = World(scenario)
        self.events: list[Event] = []
        self.world.subscribe(self.events.append)
        self.complaints = Complaints(
            self.env,
            self.world,
            spec if spec is not None else scenario.complaints,
            stream(seed, "complaints"),
            represents,
        )
        self.sessions = 0

    def fail(
        self,
        times: Sequence[float],
        step: str = "login",
        error_class: str | None = "UndefinedColumn",
        message: str | None = "ERROR: column users.password_hash does not exist",
        device: str = "mobile",
    ) -> None:
        """Shoppers give up at ``times`` (seconds) at funnel ``step`` after ``error_class``."""

        def shoppers() -> Generator[simpy.Event, Any, None]:
            for t in times:
                yield self.env.timeout(t - self.env.now)
                session = Session(self.sessions, 0, "eu-west", device, 6, 64.0, self.env.now)
                self.sessions += 1
                self.complaints.gave_up(self.env.now, session, PERSONA, step, error_class, message)

        self.env.process(shoppers())

    def run(self, until: float | None = None) -> dict[str, Any]:
        self.env.run(until)
        return self.complaints.to_journal()

    def timeline(self) -> list[tuple[float, str]]:
        return [(e.t, e.kind) for e in self.events]

    def escalated_at(self) -> list[float]:
        return [e.t for e in self.events if e.kind == "complaints.escalated"]


# -- tickets ----------------------------------------------------------------------------


def test_tickets_are_filed_after_their_lag(seed_scenario: Scenario) -> None:
    """A shopper who gives up at t files a ticket at t + lag, and it lands on the timeline."""
    desk = Desk(seed_scenario, constant_lag(120.0))
    desk.fail([100.0, 400.0])
    journal = desk.run()
    assert desk.timeline() == [(220.0, "ticket"), (520.0, "ticket")]
    first = journal["tickets"][0]
    assert (first["failed_at"], first["lag"], first["t"]) == (100.0, 120.0, 220.0)
    assert desk.events[0].data == {
        "id": first["id"],
        "subject": first["subject"],
        "step": "login",
        "channel": first["channel"],
    }
    assert journal["total"] == 2
    assert journal["pending"] == 0


def test_no_failures_no_tickets(seed_scenario: Scenario) -> None:
    """Without shoppers giving up there are no tickets and no escalation, however long it runs."""
    desk = Desk(seed_scenario, constant_lag(1.0, tickets=1))
    journal = desk.run(7200.0)
    assert journal == {"tickets": [], "total": 0, "pending": 0, "escalations": []}
    assert desk.timeline() == []


def test_zero_probability_means_no_tickets(seed_scenario: Scenario) -> None:
    """With a complaint probability of zero, failures stay silent."""
    spec = ComplaintsSpec(probability=0.0)
    desk = Desk(seed_scenario, spec, represents=1000)
    desk.fail([float(t) for t in range(0, 3600, 10)])
    assert desk.run()["total"] == 0


def test_tickets_not_yet_filed_are_pending(seed_scenario: Scenario) -> None:
    """A ticket whose lag runs past the end of the run is counted as pending, not filed."""
    desk = Desk(seed_scenario, constant_lag(600.0))
    desk.fail([100.0, 3500.0])
    journal = desk.run(3600.0)
    assert (journal["total"], journal["pending"]) == (1, 1)


def test_each_simulated_shopper_speaks_for_many(seed_scenario: Scenario) -> None:
    """A simulated shopper standing for five real ones yields five tickets: its own persona, then faker-made customers."""
    desk = Desk(seed_scenario, constant_lag(60.0, tickets=100), represents=5)
    desk.fail([0.0])
    tickets = desk.run()["tickets"]
    assert len(tickets) == 5
    assert (tickets[0]["customer"], tickets[0]["email"]) == (PERSONA.name, PERSONA.email)
    others = [t["customer"] for t in tickets[1:]]
    assert PERSONA.name not in others
    assert all("@" in t["email"] for t in tickets)
    assert len({t["id"] for t in tickets}) == 5


def test_counts_grow_with_failed_sessions(seed_scenario: Scenario) -> None:
    """Ten times as many failed sessions file about ten times as many tickets (default spec)."""
    for seed in range(1, 6):
        totals = []
        for failed in (50, 500):
            desk = Desk(seed_scenario, seed=seed, represents=12)
            desk.fail([3600.0 * i / failed for i in range(failed)])
            totals.append(desk.run()["total"])
        few, many = totals
        assert 0 < few < many
        assert 80 <= many <= 170  # 500 × 12 × 0.02 = 120 expected


def test_binomial_draws_have_the_right_mean() -> None:
    """The per-session draw of complainants is Binomial(represents, probability)."""
    rng = random.Random(3)
    draws = [binomial(rng, 12, 0.02) for _ in range(20000)]
    assert sum(draws) / len(draws) == pytest.approx(0.24, abs=0.02)
    assert max(draws) <= 12
    assert binomial(rng, 12, 0.0) == 0
    assert binomial(rng, 12, 1.0) == 12
    assert binomial(rng, 0, 0.5) == 0


# -- text -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "error_class", "message", "words"),
    [
        (
            "login",
            "UndefinedColumn",
            "column users.password_hash",
            ("log in", "login", "sign in", "password"),
        ),
        ("pay", "UndefinedColumn", "column orders.total_cents", ("charged", "payment", "money")),
        ("checkout", "UndefinedColumn", "column orders.total_cents", ("order", "checkout")),
        ("search", "Timeout", "search timed out after 3s", ("slow", "spinning", "timing out")),
        ("browse", "QueueFull", "web-2 queue full", ("down", "503", "reach")),
        ("browse", "InternalError", "internal server error", ("down", "error", "wrong")),
    ],
)
def test_subjects_match_the_step_and_the_error(
    seed_scenario: Scenario, step: str, error_class: str, message: str, words: tuple[str, ...]
) -> None:
    """What customers write about follows where they failed and what they saw."""
    desk = Desk(seed_scenario, constant_lag(30.0, tickets=1000))
    desk.fail([float(t) for t in range(100)], step, error_class, message)
    tickets = desk.run()["tickets"]
    assert len(tickets) == 100
    for ticket in tickets:
        assert any(w in ticket["subject"].lower() for w in words), ticket["subject"]
        assert ticket["step"] == step
        assert ticket["error_class"] == error_class
        assert "42703" not in ticket["body"]
        assert "password_hash" not in ticket["body"]


def test_texts_and_channels_vary(seed_scenario: Scenario) -> None:
    """Tickets about the same failure differ in subject, body, customer and channel."""
    desk = Desk(seed_scenario, constant_lag(30.0, tickets=1000), represents=3)
    desk.fail([float(t) for t in range(100)])
    tickets = desk.run()["tickets"]
    assert len({t["subject"] for t in tickets}) >= 3
    assert len({t["body"] for t in tickets}) >= 50
    assert len({t["customer"] for t in tickets}) >= 50
    assert {t["channel"] for t in tickets} == {"email", "chat", "phone", "social"}


def test_payment_complaints_are_high_priority(seed_scenario: Scenario) -> None:
    """A customer who may have been charged without an order is triaged first."""
    desk = Desk(seed_scenario, constant_lag(30.0, tickets=1000))
    desk.fail([0.0, 1.0], step="pay")
    desk.fail([2.0, 3.0], step="login")
    priorities = {(t["step"], t["priority"]) for t in desk.run()["tickets"]}
    assert priorities == {("pay", "high"), ("login", "normal")}


# -- escalation -------------------------------------------------------------------------


def test_escalates_once_when_tickets_bunch_up(seed_scenario: Scenario) -> None:
    """Three tickets within ten minutes escalate to engineering at the third; a fourth does not re-escalate."""
    desk = Desk(seed_scenario, constant_lag(60.0, tickets=3, within=600.0))
    desk.fail([0.0, 60.0, 120.0, 180.0])
    journal = desk.run()
    assert desk.timeline() == [
        (60.0, "ticket"),
        (120.0, "ticket"),
        (180.0, "ticket"),
        (180.0, "complaints.escalated"),
        (240.0, "ticket"),
    ]
    ids = [t["id"] for t in journal["tickets"]]
    (escalation,) = journal["escalations"]
    assert escalation == {
        "t": 180.0,
        "tickets": 3,
        "window": 600.0,
        "sample": ids[:3],
        "topics": {"login": 3},
    }
    assert desk.events[3].data["sample"] == ids[:3]


def test_spread_out_tickets_do_not_escalate(seed_scenario: Scenario) -> None:
    """Tickets that never number three within ten minutes stay with customer service."""
    desk = Desk(seed_scenario, constant_lag(60.0, tickets=3, within=600.0))
    desk.fail([301.0 * i for i in range(20)])
    journal = desk.run()
    assert journal["total"] == 20
    assert journal["escalations"] == []


def test_a_sustained_storm_escalates_once(seed_scenario: Scenario) -> None:
    """A steady stream of tickets for an hour is one escalation, not one per window."""
    desk = Desk(seed_scenario, constant_lag(60.0, tickets=3, within=600.0))
    desk.fail([60.0 * i for i in range(60)])
    desk.run()
    assert desk.escalated_at() == [180.0]


def test_rearms_only_after_a_quiet_window(seed_scenario: Scenario) -> None:
    """A second burst escalates again only if a full window with few tickets passed since the first escalation."""
    desk = Desk(seed_scenario, constant_lag(60.0, tickets=3, within=600.0))
    first = [0.0, 60.0, 120.0]  # tickets at 60, 120, 180: escalation at 180
    # tickets at 700, 730, 760: the first burst has aged out of the window, but no full
    # window has passed since the escalation
    too_soon = [640.0, 670.0, 700.0]
    after_quiet = [1440.0, 1500.0, 1560.0]  # tickets at 1500, 1560, 1620: a quiet window before
    desk.fail(first + too_soon + after_quiet)
    desk.run()
    assert desk.escalated_at() == [180.0, 1620.0]


# -- the journal ------------------------------------------------------------------------


def test_journal_keeps_the_first_tickets_and_counts_all(seed_scenario: Scenario) -> None:
    """Past the cap the journal keeps the first tickets filed but still counts every one."""
    desk = Desk(seed_scenario, constant_lag(1.0, tickets=1000))
    desk.fail([float(t) for t in range(KEEP + 100)])
    journal = desk.run()
    assert journal["total"] == KEEP + 100
    assert len(journal["tickets"]) == KEEP
    assert journal["tickets"][-1]["failed_at"] == float(KEEP - 1)


def test_same_seed_same_tickets(seed_scenario: Scenario) -> None:
    """The same seed files byte-identical tickets; another seed files different ones."""

    def journal(seed: int) -> str:
        desk = Desk(seed_scenario, seed=seed, represents=12)
        desk.fail([7.3 * i for i in range(400)])
        desk.fail([5.1 * i for i in range(100)], step="pay", error_class="Timeout", message=None)
        return json.dumps(desk.run(), sort_keys=True)

    assert journal(11) == journal(11)
    assert journal(11) != journal(12)


def test_journal_floats_are_rounded(seed_scenario: Scenario) -> None:
    """Times and lags in the journal carry at most six decimals."""
    desk = Desk(seed_scenario, seed=2, represents=12)
    desk.fail([3.3 * i for i in range(300)])
    tickets = desk.run()["tickets"]
    assert tickets
    for ticket in tickets:
        for key in ("t", "failed_at", "lag"):
            assert ticket[key] == round(ticket[key], 6)


# -- the seed incident, end to end ------------------------------------------------------


def run_seed(scenario: Scenario, seed: int, faults: bool) -> tuple[Complaints, list[Event]]:
    """The seed scenario for an hour, wired the way the runner wires complaints."""
    env = simpy.Environment()
    world = World(scenario)
    events: list[Event] = []
    world.subscribe(events.append)
    FaultSchedule(env, world, enabled=faults)
    engine = RequestEngine(env, world, seed)
    complaints = Complaints(
        env, world, scenario.complaints, stream(seed, "complaints"), scenario.traffic.represents
    )
    engine.shoppers.on_gave_up = complaints.gave_up
    engine.run(3600)
    engine.finish()
    return complaints, events


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_seed_incident_complaints_follow_the_migration(seed_scenario: Scenario, seed: int) -> None:
    """Tickets start only after the migration breaks logins, and customer service escalates within 15 minutes."""
    complaints, events = run_seed(seed_scenario, seed, faults=True)
    tickets = [e for e in events if e.kind == "ticket"]
    assert len(tickets) >= 10
    assert min(e.t for e in tickets) > FAULT_AT
    escalations = complaints.escalations
    assert escalations
    assert FAULT_AT < escalations[0]["t"] <= FAULT_AT + 15 * 60
    assert max(escalations[0]["topics"], key=escalations[0]["topics"].get) == "login"


def test_seed_scenario_without_faults_has_no_complaints(seed_scenario: Scenario) -> None:
    """With the fault schedule disabled no shopper gives up, so nobody complains."""
    complaints, events = run_seed(seed_scenario, 1, faults=False)
    assert complaints.to_journal()["total"] == 0
    assert not [e for e in events if e.kind in ("ticket", "complaints.escalated")]


def test_a_shopper_who_stands_for_a_million_files_fifty_and_counts_the_rest(
    seed_scenario: Scenario,
) -> None:
    """With every real shopper complaining, one simulated shopper standing for 1,000,000
    files 50 tickets one by one and counts the other 999,950: the total is right and the run
    stays fast (a run at the largest `represents` would otherwise draft a million tickets)."""
    desk = Desk(seed_scenario, constant_lag(60.0, tickets=10**6), represents=1_000_000)
    desk.fail([100.0])
    journal = desk.run()
    assert journal["total"] == 1_000_000
    assert len([e for e in desk.events if e.kind == "ticket"]) == FILED_PER_SHOPPER == 50


@pytest.mark.slow
def test_an_outage_no_rule_sees_reaches_the_on_call_through_support() -> None:
    """scenarios/release-skips-its-migration.yaml: carts fail, the only rule watches the home
    page and stays green; the customers' tickets escalate, support pages the on-call (one
    group wait later), and the experienced responder, acknowledging that page, ends it."""
    import sim

    scenario = sim.load_scenario(SCENARIOS / "release-skips-its-migration.yaml")
    journal = sim.run(scenario, 1, compact=True)
    (escalation, *_) = journal.events("complaints.escalated")
    (page,) = journal.events("page")
    assert journal.summary["detection_channel"] == "customer escalation"
    assert journal.data.get("alerts") in (None, [])  # no rule fired
    assert page["t"] == pytest.approx(escalation["t"] + scenario.paging.group_wait)
    assert page["alerts"] == ["customer-escalation"]
    assert journal.data["response"]["resolved_at"] is not None


def test_the_drill_shows_supports_page_as_support_says_it() -> None:
    """The trainee's page names support's escalation (tickets, window, topics), not a rule."""
    from tests.conftest import drill_transcript

    _, shown = drill_transcript(SCENARIOS / "release-skips-its-migration.yaml", 1, ("quit",))
    assert "SUPPORT  customer support escalates 5 tickets in 10m, about: cart (5)" in shown
    assert "customer-escalation" not in shown
