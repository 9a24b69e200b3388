"""The interactive drill, driven in-process: commands, mistakes, hints, injections, replay."""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pytest
from rich.console import Console

from sim.drill import Drill, Session, SessionError, load
from sim.drill.compare import Comparisons, oracle_counterfactual
from sim.drill.terminal import candidates
from sim.journal import Journal
from sim.scenario import LoadedScenario
from sim.scenario import load as load_scenario
from sim.scoring import score
from tests.conftest import SEED_SCENARIO

SEED = 7
INVESTIGATE_AND_ROLL_BACK = [
    "status",
    "dashboard",
    "logs",
    "changes",
    "deps",
    "diagnose mig-2041",
    "notify",
    "rollback mig-2041",
    "update",
    "wait 3m",
    "dashboard",
    "mitigated",
    "resolve",
]
RESTARTS_ONLY = ["status", "restart auth", "restart web", "restart orders", "wait 10m", "resolve"]


@pytest.fixture(scope="module")
def loaded() -> LoadedScenario:
    return load_scenario(SEED_SCENARIO)


@pytest.fixture(scope="module")
def comparisons(loaded: LoadedScenario) -> Comparisons:
    """The experienced, oracle and do-nothing runs of seed 7, computed once for the module."""
    scenario = loaded.scenario
    found = Comparisons(scenario, SEED, scenario.horizon).start()
    found.results()
    return found


def play(
    loaded: LoadedScenario,
    lines: Iterable[str],
    comparisons: Comparisons | None = None,
    **options: object,
) -> tuple[Drill, str]:
    """A drill on the seed scenario, fed ``lines``; returns it and what it printed."""
    buffer = io.StringIO()
    drill = Drill(
        loaded,
        SEED,
        console=Console(file=buffer, width=140),
        comparisons=comparisons,
        **options,  # type: ignore[arg-type]
    )
    drill.begin()
    for line in lines:
        drill.issue(line)
    return drill, buffer.getvalue()


def replay(loaded: LoadedScenario, drill: Drill, comparisons: Comparisons) -> Journal:
    """Re-run ``drill``'s recorded session through a fresh drill, as `chaosdrill replay` does."""
    session = load_session(drill)
    again = Drill(
        loaded,
        session.seed,
        console=Console(file=io.StringIO()),
        responder=session.responder,
        hints=session.hints,
        facilitator=session.facilitator,
        realtime=session.realtime,
        comparisons=comparisons,
        source=session.scenario_path,
    )
    again.begin()
    for command in session.commands:
        again.issue(command["line"], at=command["t"])
    again.stop("quit")
    return again.finish()


def load_session(drill: Drill) -> Session:
    """The drill's session, through its file format."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "session.json"
        drill.session.write(path)
        return load(path)


def test_drill_starts_quiet_and_shows_the_page(loaded: LoadedScenario) -> None:
    """Nothing but the intro before the page; then the page's time and alerts; clock at the page."""
    drill, text = play(loaded, [])
    before, _, after = text.partition("PAGE")
    assert "Waiting for the pager" in before
    for secret in ("login", "checkout", "migration", "mig-2041", loaded.scenario.name):
        assert secret not in before
    assert "08:41:40" in after
    assert "login: more than 5 % of requests to an endpoint fail" in after
    assert drill.now == drill.session.paged_at == 2510.0
    assert drill.incident.steps == []


def test_the_alerts_look_shows_what_the_error_tracker_quotes(loaded: LoadedScenario) -> None:
    """The trainee's `alerts` lists the error tracker's warnings with the line each quotes —
    the database's own words about the missing column among them — and the page does not."""
    _, text = play(loaded, ["alerts"])
    page, _, shown = text.partition("Acknowledge it with `ack`")
    assert "PAGE" in page
    assert "new-errors" not in page  # a warning, not a page
    quoted = next(line for line in shown.splitlines() if "new-errors/db" in line)
    assert "ERROR: column users.password_hash does not exist (SQLSTATE 42703)" in quoted


def test_investigating_and_rolling_back_resolves_the_seed_incident(
    loaded: LoadedScenario, comparisons: Comparisons, capsys: pytest.CaptureFixture[str]
) -> None:
    """The acceptance script: look, diagnose, roll back mig-2041, declare → resolved, scored."""
    drill, text = play(loaded, INVESTIGATE_AND_ROLL_BACK, comparisons)
    assert drill.ended == "resolved"
    journal = drill.finish()
    summary = journal.summary
    assert summary["faults"][0]["ended"] is not None  # the migration fault is over
    sc = score(journal)
    assert sc.phases["resolution"].status == "ok"
    assert sc.phases["mitigation"].status == "ok"
    assert sc.responder == "trainee"
    assert sc.score > 60
    response = journal.data["response"]
    assert response["hints_used"] == 0
    assert [s["call"] for s in response["steps"]][:5] == [
        "status",
        "dashboard",
        "logs",
        "changes",
        "deps",
    ]
    rollback = next(s for s in response["steps"] if s["call"] == "rollback")
    assert rollback["remedied"] == ["users-orders-schema-break"]
    # the same journal shape as sim.run writes, with the same counterfactuals
    assert set(journal.data["counterfactuals"]) == {"none", "oracle"}
    assert "failed checkouts" in text
    assert "lost revenue" in text
    from sim.report.console import print_scorecard

    print_scorecard(journal)
    assert "scorecard — responder trainee" in capsys.readouterr().out


def test_restarting_things_does_not_resolve_it(
    loaded: LoadedScenario, comparisons: Comparisons
) -> None:
    """Restarts never end a schema-migration fault: the declaration is premature, unresolved."""
    drill, _ = play(loaded, RESTARTS_ONLY, comparisons)
    journal = drill.finish()
    assert journal.summary["faults"][0]["ended"] is None
    sc = score(journal)
    assert sc.phases["resolution"].status == "unresolved"
    assert sc.phases["mitigation"].status == "unresolved"
    assert sc.conduct["premature_resolutions"] == 1
    assert len(sc.conduct["wrong_actions"]) == 3


def test_every_command_costs_time_and_mistakes_cost_nothing(loaded: LoadedScenario) -> None:
    """API commands move the clock; unknown commands, names and usage errors do not (nor crash)."""
    drill, _ = play(loaded, [])
    before = drill.now
    mistakes = [
        "",
        "   ",
        "# a comment",
        "stauts",
        "restart dbb",
        "restart",
        "rollback mig-2014",
        "logs --grep",
        "logs nosuch",
        "deps a b",
        "wait soon",
        "wait 0s",
        "help nope",
        "fix db",  # refused by the API: no cause declared (recorded, no time)
        "rollback notice-isp-0314",  # refused: a notice cannot be rolled back
        "pause",
        "inject-fault {id: x, type: crash, target: db}",  # not a facilitator drill
        "\x1b[A\x00garbage ; rm -rf /",
        "status 'unbalanced",
    ]
    out = io.StringIO()
    drill.out = Console(file=out, width=140)
    for line in mistakes:
        drill.issue(line)
    text = out.getvalue()
    assert drill.now == before
    assert drill.ended is None
    assert "unknown command 'stauts'; did you mean 'status'? — type `help`" in text
    assert "no component named 'dbb'; did you mean 'db'?" in text
    assert "usage: restart COMPONENT" in text
    assert "no change in the change log named 'mig-2014'; did you mean 'mig-2041'?" in text
    assert "diagnose first" in text
    assert "not something that can be rolled back" in text
    assert "facilitator command" in text
    calls = [(s["call"], s["ok"], s["t"] == s["end"]) for s in drill.incident.steps]
    assert calls == [("fix", False, True), ("rollback", False, True)]
    for line in ("status", "alerts", "net", "lb", "thirdparty", "deps db", "logs auth", "wait 90s"):
        t = drill.now
        drill.issue(line)
        assert drill.now > t, line
    assert len(drill.session.commands) == len(mistakes) - 3 + 8  # blank lines and comments are not


def test_hints_come_from_telemetry_within_the_budget(
    loaded: LoadedScenario, comparisons: Comparisons
) -> None:
    """Each hint is a recorded step at no time cost; the budget runs out; the journal counts them."""
    drill, text = play(loaded, ["status", "hint", "hint", "hint"], comparisons, hints=2)
    hints = [s for s in drill.incident.steps if s["call"] == "hint"]
    assert len(hints) == 2
    assert all(s["t"] == s["end"] and s["kind"] == "hint" for s in hints)
    assert "the deepest failing dependency is db" in hints[0]["evidence"]
    assert "mig-2041" in hints[1]["evidence"]
    assert "no hints left" in text
    assert "users-orders-schema-break" not in text
    journal = drill.finish()
    assert journal.data["response"]["hints_used"] == 2


def test_after_a_rollback_that_made_it_worse_the_hints_follow_what_the_trainee_did() -> None:
    """rollback-makes-it-worse, seed 2: rolling the bad deploy back starves the web tier's
    CPU. The hints then point at the new error that began as the rollback finished, and at the
    change still in effect on the failing tier — not again at the deploy already rolled back
    (nor at another tier's deploy that happens to be nearer the onset)."""
    from tests.conftest import SCENARIOS

    loaded = load_scenario(SCENARIOS / "rollback-makes-it-worse.yaml")
    buffer = io.StringIO()
    drill = Drill(loaded, 2, console=Console(file=buffer, width=200), hints=3)
    drill.begin()
    for line in ("ack", "rollback dep-web-5.13.0", "hint", "hint", "hint"):
        drill.issue(line)
    hints = [s["evidence"] for s in drill.incident.steps if s["call"] == "hint"]
    assert hints[0].startswith("a new error began on web as your rollback of dep-web-5.13.0")
    assert "worker pool exhausted" in hints[0]
    assert "cfg-price-cache-off" in hints[2]
    assert not any("dep-web-5.13.0) landed" in h or "dep-search" in h for h in hints)


def test_help_covers_every_command_without_spoilers(loaded: LoadedScenario) -> None:
    """`help` lists every command; `help CMD` explains one with its cost; nothing names the fault."""
    drill, _ = play(loaded, [])
    out = io.StringIO()
    drill.out = Console(file=out, width=160)
    drill.issue("help")
    for command in drill.commands.values():
        drill.issue(f"help {command.name}")
    text = out.getvalue()
    for command in drill.commands.values():
        assert command.usage in text
    assert "about 120s of simulated time" in text  # changes
    for secret in ("users-orders-schema-break", "schema_migration", loaded.scenario.name):
        assert secret not in text
        for words in ([], ["rollback"], ["diagnose"], ["fix"], ["restart"], ["help"]):
            assert secret not in candidates(drill, words)
    assert "inject-fault" not in text


def test_completion_offers_commands_and_the_names_they_take(loaded: LoadedScenario) -> None:
    drill, _ = play(loaded, [], facilitator=True)
    assert {"status", "rollback", "resolve", "inject-fault"} <= set(candidates(drill, []))
    assert candidates(drill, ["rollback"]) == [
        "chg-lb-412",
        "notice-isp-0314",
        "dep-auth-3.8.0",
        "mig-2041",
    ]
    assert "--grep" in candidates(drill, ["logs"])
    assert "network" in candidates(drill, ["diagnose"])
    assert "5m" in candidates(drill, ["wait"])
    assert candidates(drill, ["restart", "db"]) == []
    assert candidates(drill, ["nosuch"]) == []


@pytest.mark.slow
def test_the_page_waits_for_an_ack_and_escalates_without_one(loaded: LoadedScenario) -> None:
    """A person acknowledges the page (`ack`); nobody doing so escalates it as on call. A
    session recorded before `ack` existed keeps the rotation's own acknowledgement."""
    drill, text = play(loaded, ["status"])
    assert "Acknowledge it with `ack`" in text
    page = drill.simulation.pager.incidents[0]
    assert page["acknowledged_at"] is None
    drill.issue("ack")
    assert page["acknowledged_at"] == round(drill.now, 6)
    assert page["acknowledged_by"] == page["paged"][-1]
    assert load_session(drill).manual_ack is True
    nobody, _ = play(loaded, ["wait 11m", "ack"])
    late = nobody.simulation.pager.incidents[0]
    assert late["escalated_at"] == pytest.approx(late["paged_at"] + 600)
    assert late["acknowledged_by"] == late["paged"][-1] == late["paged"][1]  # the secondary
    old, _ = play(loaded, ["wait 11m"], manual_ack=False)
    assert old.simulation.pager.incidents[0]["acknowledged_at"] is not None
    assert load_session(old).manual_ack is False


def test_the_dashboard_says_no_traffic_rather_than_a_share_of_nothing(
    loaded: LoadedScenario,
) -> None:
    """Twenty minutes after the logins fail, nobody reaches checkout or pay: their rows say
    "no traffic" (and 0 requests), never the failed share of an earlier minute."""
    _, text = play(loaded, ["wait 20m", "dashboard"])
    rows = {line.split()[0]: line for line in text.splitlines() if line.startswith("/")}
    for path in ("/checkout", "/pay"):
        assert "no traffic" in rows[path]
        assert rows[path].split()[-1] == "0"
        assert "%" not in rows[path].split("no traffic")[1]
    assert "100%" in rows["/login"]


def test_replay_gives_a_byte_identical_journal(
    loaded: LoadedScenario, comparisons: Comparisons
) -> None:
    """Commands fed back at their recorded simulated times rebuild the same journal bytes."""
    drill, _ = play(loaded, [*INVESTIGATE_AND_ROLL_BACK[:6], "hint", "restart dbb", "quit"])
    drill.comparisons = comparisons
    original = drill.finish().to_json()
    assert replay(loaded, drill, comparisons).to_json() == original


@pytest.mark.slow
def test_realtime_clock_pause_and_replay(loaded: LoadedScenario, comparisons: Comparisons) -> None:
    """At 10× the clock moves with wall time between commands, not while paused; replay agrees."""
    wall = [1000.0]
    drill, _ = play(loaded, [], comparisons, realtime=10.0, wallclock=lambda: wall[0])
    start = drill.now
    wall[0] += 30.0  # half a wall minute of thinking: five simulated minutes
    drill.issue("alerts")
    first = drill.session.commands[0]["t"]
    assert first == pytest.approx(start + 300.0)
    assert drill.now > first  # plus what `alerts` cost
    drill.issue("pause")
    paused_at = drill.now
    wall[0] += 600.0  # a long discussion while paused
    drill.issue("status")
    assert drill.session.commands[-1]["t"] == paused_at
    drill.issue("resume")
    resumed_at = drill.now
    wall[0] += 6.0
    drill.issue("quit")
    assert drill.session.commands[-1]["t"] == pytest.approx(resumed_at + 60)
    assert drill.session.pauses == [{"paused_at": paused_at, "resumed_at": resumed_at}]
    original = drill.finish().to_json()
    assert replay(loaded, drill, comparisons).to_json() == original


@pytest.mark.slow
def test_facilitator_injections_are_checked_started_and_replayed(
    loaded: LoadedScenario, comparisons: Comparisons
) -> None:
    lines = [
        "inject-fault {id: cache-down, type: crash, target: cachee}",
        "inject-fault {id: cache-down, type: crash}",
        "inject-fault not yaml: [",
        "inject-fault {id: users-orders-schema-break, type: crash, target: cache}",
        "inject-fault {id: cache-down, type: crash, target: cache, duration: 10m}",
        "inject-herring {id: noisy-cart, kind: log_noise, target: cart, message: cache miss storm, rate: 30}",
        "inject-herring {id: noisy-cart2, kind: log_noise, target: cart}",
        "deps",
    ]
    drill, text = play(loaded, lines, comparisons, facilitator=True)
    assert "did you mean 'cache'" in text
    assert "already exists" in text
    assert "needs the message" in text
    assert [i["kind"] for i in drill.session.injections] == ["fault", "herring"]
    assert "cache-down" in drill.simulation.faults.active
    journal = drill.finish()
    injected = next(f for f in journal.summary["faults"] if f["id"] == "cache-down")
    assert injected["start"] == drill.session.injections[0]["t"]
    assert injected["ended"] == pytest.approx(injected["start"] + 600)
    assert any(h["id"] == "noisy-cart" for h in journal.data["red_herrings"])
    assert replay(loaded, drill, comparisons).to_json() == journal.to_json()


def test_the_horizon_ends_the_drill(loaded: LoadedScenario, comparisons: Comparisons) -> None:
    drill, text = play(loaded, ["wait 3h", "status"], comparisons)
    assert drill.ended == "horizon"
    assert "horizon" in text
    journal = drill.finish()
    assert journal.data["horizon"] == loaded.scenario.horizon


def test_the_oracle_counterfactual_matches_sim_run(
    loaded: LoadedScenario, comparisons: Comparisons
) -> None:
    """The drill's journal carries the counterfactuals `chaosdrill run` computes, exactly."""
    from sim.runner import counterfactual

    scenario = loaded.scenario
    document = scenario.model_dump(mode="json", by_alias=True)
    cf, journals = comparisons.results()
    expected = counterfactual(document, SEED, scenario.horizon, True, "oracle")
    assert oracle_counterfactual(journals["oracle"].data) == expected == cf["oracle"]
    assert score(journals["experienced"]).responder == "experienced"


def test_session_file_problems_name_the_line(tmp_path: Path, loaded: LoadedScenario) -> None:
    drill, _ = play(loaded, ["status", "deps", "wait 5m"])
    good = drill.session.to_json()
    path = tmp_path / "session.json"
    path.write_text(good, encoding="utf-8")
    assert load(path).commands == drill.session.commands

    def problem(text: str) -> str:
        path.write_text(text, encoding="utf-8")
        with pytest.raises(SessionError) as info:
            load(path)
        return str(info.value)

    lines = good.splitlines()
    line_of_deps = next(i for i, line in enumerate(lines, 1) if '"deps"' in line)
    bad = good.replace('"line": "deps", "t": ', '"line": "deps", "t": "later", "x": ')
    assert problem(bad).startswith(f"{path}:{line_of_deps}: commands[1].t: expected")
    data = json.loads(good)
    data["commands"][2]["t"] = 1.0
    assert "time goes backwards" in problem(json.dumps(data, indent=1))
    assert problem(good[:-10]).startswith(f"{path}:")
    assert "not valid JSON" in problem(good[:-10])
    assert "not a chaosdrill session" in problem('{"format": "x"}')
    del data["commands"]
    assert "missing 'commands'" in problem(json.dumps(data))
    with pytest.raises(SessionError, match="cannot read"):
        load(tmp_path / "nope.json")
