"""Game days without the web: roles, privacy, the shared clock, the scorecards, replay and resume.

One short scenario (a payment provider's outage), paged about 22 minutes in. Ending a game
day runs the comparison runs the journal is scored with, so only two tests here end one.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from sim.cli.main import main as cli
from sim.web.gameday import GameDay, GameDayError
from sim.web.games import Games
from sim.web.roles import DEFAULT_ROLES, FACILITATOR, parse_roles
from sim.web.scorecard import duplicates

SCENARIO = "payment-provider-outage"


class Wall:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def wall() -> Wall:
    return Wall()


@pytest.fixture
def games(tmp_path: Path, wall: Wall) -> Games:
    return Games(tmp_path / "gamedays", wall=wall)


def visible(game: GameDay, who: str) -> str:
    """Everything ``who`` is sent, as one string (feed and the page's state)."""
    return json.dumps(game.state(who))


def test_the_game_day_starts_paused_at_the_page_and_waits_for_an_ack(
    games: Games, wall: Wall
) -> None:
    game = games.create(SCENARIO, 1)
    paged = game.drill.session.paged_at
    assert paged is not None
    assert game.now == paged
    assert [e.kind for e in game.entries] == ["page"]
    assert "PAGE INC-001" in game.entries[0].text
    assert "PAGE" in game.entries[0].output
    wall.t += 60
    assert game.tick() is False
    assert game.now == paged
    game.set_clock(speed=10.0, paused=False)
    wall.t += 30
    game.tick()
    assert game.now == pytest.approx(paged + 300)
    # nobody acknowledged: the manual pager escalates after its escalate_after, as on call
    escalate = game.loaded.scenario.paging.escalate_after
    wall.t += escalate / 10
    game.tick()
    page = game.live["pages"][0]
    assert page["acknowledged_by"] is None
    assert page["escalated"] is True
    entry = game.command("scribe", "ack")
    assert entry.text == "acknowledged the page"
    assert game.live["pages"][0]["acknowledged_by"] == "scribe"
    assert "no page waiting" in game.command("scribe", "ack").output


def test_the_alerts_panel_shows_what_the_error_tracker_quotes(games: Games) -> None:
    """At the page, the error tracker's warnings are on the team's alerts panel with the line
    each quotes, as its notification shows it — not its rule's summary."""
    game = games.create(SCENARIO, 1)
    records = {a["id"]: a for a in game.drill.incident.sim.monitors.records}
    tracked = [a for a in game.live["alerts"] if a["id"].startswith("new-errors/")]
    assert tracked, "the provider's errors are new and loud at the page"
    for shown in tracked:
        record = records[shown["id"]]
        assert shown["summary"] == f"{record['target']}: {record['message']}"
        assert shown["severity"] == "warning"


def test_each_role_may_only_do_what_its_rights_allow(games: Games) -> None:
    game = games.create(SCENARIO, 1)
    refused = game.command("scribe", "restart payments")
    assert refused.kind == "refused"
    assert refused.steps == (0, 0)
    assert "needs the right to act" in refused.text
    assert "operations" in refused.text
    assert not game.drill.incident.steps  # nothing ran, no time passed
    for line in ("wait 5m", "quit", "pause", "inject-fault {id: x, type: crash, target: cart}"):
        assert game.command("operations", line).kind == "refused", line
    notified = game.command("communications", "notify payments are failing; we are on it")
    assert notified.kind == "command"
    assert "notify" in notified.text
    assert game.drill.incident.notified_at is not None
    assert game.command("operations", "notify x").kind == "refused"
    helped = game.command("scribe", "help")
    assert "note MESSAGE" in helped.output
    assert "restart" not in helped.output
    with pytest.raises(GameDayError, match="type a command"):
        game.command("scribe", "   ")


def test_roles_are_checked_when_a_game_day_is_created(games: Games) -> None:
    assert parse_roles({"ic": ["declare", "look"]}) == {"ic": frozenset({"declare", "look"})}
    for spec, message in (
        ({}, "at least one role"),
        ({"Bad Name": ["look"]}, "not a role name"),
        ({"facilitator": ["look"]}, "not a role name"),
        ({"ops": ["fly"]}, "unknown right 'fly'"),
        ({"ops": "look"}, "expected a list of rights"),
    ):
        with pytest.raises(ValueError, match=message):
            parse_roles(spec)
    with pytest.raises(GameDayError, match="unknown right"):
        games.create(SCENARIO, 1, {"ops": ["fly"]})
    with pytest.raises(GameDayError, match="scenario"):
        games.create("no-such-incident", 1)


def test_private_injections_and_hints_never_reach_the_others(games: Games) -> None:
    game = games.create(SCENARIO, 1)
    game.command("operations", "logs payments")
    game.inject("herring", "{id: noisy-cart, kind: log_noise, target: cart, message: 'miss storm'}")
    game.hint("operations", "the secret nudge: look at the vendors")
    with pytest.raises(GameDayError, match="fault"):
        game.inject("fault", "{id: broken, type: no_such_type, target: cart}")
    # the facilitator sees everything, outputs included
    facilitator = visible(game, FACILITATOR)
    assert "noisy-cart" in facilitator
    assert "secret nudge" in facilitator
    assert game.state(FACILITATOR)["scenario"] == SCENARIO
    # operations gets its hint, and nobody else's view holds the hint or any injection
    assert "secret nudge" in visible(game, "operations")
    for role in DEFAULT_ROLES:
        seen = visible(game, role)
        assert "noisy-cart" not in seen
        assert "inject" not in seen
        assert SCENARIO not in seen
        if role != "operations":
            assert "secret nudge" not in seen
    # a command's output is for whoever typed it; the others see the channel's line
    logs = next(e for e in game.feed("commander") if e["by"] == "operations")
    assert logs["text"] == "logs payments"
    assert logs["output"] == ""
    assert logs["line"] == ""
    mine = next(e for e in game.feed("operations") if e["by"] == "operations")
    assert mine["output"]


def test_the_same_command_by_two_roles_is_duplicated_work(games: Games) -> None:
    game = games.create(SCENARIO, 1, {"a": ["look"], "b": ["look"]})
    game.command("a", "status")
    game.command("b", "status")
    game.command("a", "say status looks bad")
    game.command("b", "say status looks bad")  # messages cost nothing: not duplicated work
    steps = game.drill.incident.steps
    found = duplicates(game.entries, steps)
    assert [(d["command"], d["first"], d["again"]) for d in found] == [("status", "a", "b")]


def test_an_ended_game_day_replays_byte_for_byte_and_scores_the_team(
    games: Games, wall: Wall, tmp_path: Path
) -> None:
    game = games.create(SCENARIO, 2)
    game.command("operations", "ack")
    game.set_clock(speed=30.0, paused=False)
    wall.t += 7.3  # the running clock lands between the commands at odd times
    game.command("commander", "declare payments down; I have command")
    game.command("operations", "thirdparty")
    game.command("commander", "thirdparty")
    wall.t += 3.1
    game.command("operations", "say <script>alert('x')</script>")
    game.inject("herring", "{id: noisy-cart, kind: log_noise, target: cart, message: 'miss'}")
    game.command("commander", "diagnose payment-provider")
    game.command("operations", "failover payment-provider")
    game.command("communications", "notify card payments fail; we are routing around it")
    wall.t += 20
    game.tick()
    card = game.end()
    assert game.ended == "quit"
    assert game.entries[-1].kind == "ended"
    # the team is scored as any run; coordination is measured from the feed
    assert 0 < card["team"]["score"] <= 100
    assert "scorecard" in card["team"]["text"]
    co = card["coordination"]
    assert co["ack_after"] is not None
    assert co["commander_after"] > co["ack_after"]
    assert [(d["first"], d["again"]) for d in co["duplicates"]] == [("operations", "commander")]
    ops = card["roles"]["operations"]
    assert ops["acts"] == 1
    assert ops["remedied"]
    assert ops["messages"] == 1
    assert card["roles"]["communications"]["updates"] == 1
    # the journal holds the channel; the post-mortem shows it
    folder = games.store.folder_of(game.id)
    journal = json.loads((folder / "journal.json").read_text())
    kinds = [c["kind"] for c in journal["response"]["channel"]]
    assert kinds == ["declare", "say"]
    assert "incident declared" in (folder / "report.md").read_text()
    # chaosdrill replay reproduces the journal from session.json, byte for byte
    out = tmp_path / "replay"
    assert cli(["replay", str(folder / "session.json"), "--out", str(out), "--quiet"]) == 0
    digest = hashlib.sha256((out / "journal.json").read_bytes()).hexdigest()
    assert digest == game.journal_sha256
    assert (folder / "journal.json").read_bytes() == (out / "journal.json").read_bytes()
    with pytest.raises(GameDayError, match="ended"):
        game.command("operations", "status")


def test_a_restarted_server_resumes_a_running_game_day_where_it_was(
    tmp_path: Path, wall: Wall
) -> None:
    folder = tmp_path / "gamedays"
    first = Games(folder, wall=wall)
    game = first.create(SCENARIO, 3)
    game.command("operations", "ack")
    game.set_clock(speed=10.0, paused=False)
    wall.t += 12.7
    game.command("operations", "logs payments")
    game.hint("commander", "check the vendors")
    game.inject("herring", "{id: noisy-cart, kind: log_noise, target: cart, message: 'miss'}")
    game.command("commander", "say restarting nothing yet")
    wall.t += 4.0
    first.tick()
    first.store.save_clock(game)  # the server dies here (no orderly close)

    second = Games(folder, wall=wall)
    assert second.resume() == 1
    again = second.games[game.id]
    assert isinstance(again, GameDay)
    assert again.now == game.now
    assert again.speed == 10.0
    assert again.paused is False
    assert [e.to_record() for e in again.entries] == [e.to_record() for e in game.entries]
    assert again.drill.session.to_json() == game.drill.session.to_json()
    assert again.drill.simulation.timeline == game.drill.simulation.timeline
    assert again.drill.incident.steps == game.drill.incident.steps
    # and it goes on: both carry on alike
    for g in (game, again):
        g.command("operations", "status")
    assert again.drill.incident.steps == game.drill.incident.steps
    assert again.live == game.live


def test_a_second_incident_pages_the_team_as_the_clock_brings_it(games: Games, wall: Wall) -> None:
    """A shift of two incidents: after the commander declares the first resolved the game
    day goes on, and the second page comes into everyone's feed as the clock reaches it."""
    game = games.create("two-incidents-in-a-shift", 1)
    game.command("operations", "rollback dep-orders-7.3.0")
    game.set_clock(speed=60.0, paused=False)
    wall.t += 10  # ten simulated minutes: the errors stop, the alerts resolve
    game.tick()
    entry = game.command("commander", "resolve")
    assert "You stay on call until the shift ends" in entry.output
    assert game.ended is None
    wall.t += 80  # eighty more: the provider has hung since 10:50
    game.tick()
    pages = [e for e in game.entries if e.kind == "page"]
    assert [p.text.split(":")[0] for p in pages] == ["PAGE INC-001", "PAGE INC-002"]
    assert "PAGE INC-002" in visible(game, "scribe")
