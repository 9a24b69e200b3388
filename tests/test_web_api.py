"""The game-day web app over HTTP (httpx through Starlette's test client): keys, tokens, roles,
isolation between game days, validation, rate limits, escaping and the end."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sim.expect.difficulty import at_level, drills
from sim.scenario import catalogue
from sim.web.app import RATE, create_app

KEY = "test-key-0123456789"
SCENARIO = "payment-provider-outage"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("gamedays")
    with TestClient(create_app(folder, KEY, tick=3600.0)) as c:
        yield c


def create(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post(
        "/api/gamedays", json={"scenario": SCENARIO, **body}, headers={"X-Key": KEY}
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def token(link: str) -> str:
    return link.split("token=", 1)[1]


def run(client: TestClient, gid: str, tok: str, line: str) -> Any:
    return client.post(f"/g/{gid}/api/command", json={"line": line}, headers={"X-Token": tok})


def test_the_front_page_needs_the_servers_key(client: TestClient) -> None:
    assert client.get("/").status_code == 403
    assert client.get("/?key=wrong").status_code == 403
    page = client.get(f"/?key={KEY}")
    assert page.status_code == 200
    assert SCENARIO in page.text
    assert "New game day" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"
    # the key is kept in a same-site cookie, so the page's own form can create game days
    made = client.post("/api/gamedays", json={"scenario": SCENARIO, "seed": 4})
    assert made.status_code == 201
    client.cookies.clear()
    assert client.post("/api/gamedays", json={"scenario": SCENARIO}).status_code == 403


def test_creating_a_game_day_checks_what_it_is_given(client: TestClient) -> None:
    def refused(body: dict[str, Any]) -> str:
        response = client.post("/api/gamedays", json=body, headers={"X-Key": KEY})
        assert response.status_code == 422, response.text
        return json.dumps(response.json()["detail"])

    assert "no-such" in refused({"scenario": "no-such-incident"})
    assert "unknown right" in refused({"scenario": SCENARIO, "roles": {"ops": ["fly"]}})
    assert "speed" in refused({"scenario": SCENARIO, "speed": 7})
    assert "seed" in refused({"scenario": SCENARIO, "seed": -1})
    assert "extra" in refused({"scenario": SCENARIO, "colour": "red"}).lower()
    # random: the participants' links do not say which incident it is
    data = create(client, scenario=None, random=True, seed=3)
    state = client.get(
        f"/g/{data['id']}/api/state", headers={"X-Token": token(data["join"]["operations"])}
    )
    facilitator = client.get(
        f"/g/{data['id']}/api/state", headers={"X-Token": token(data["facilitator"])}
    )
    assert facilitator.json()["scenario"] not in state.text
    # drawn, as the drill's --random, only among scenarios in which somebody is paged (seed 3
    # drew one that pages nobody before: the game day ended at its start, naming it)
    pageable = {p.stem for p in drills(catalogue.entries().values())}
    for seed in (2, 3, 4):
        drawn_at = create(client, scenario=None, random=True, seed=seed)
        picked = client.get(
            f"/g/{drawn_at['id']}/api/state", headers={"X-Token": token(drawn_at["facilitator"])}
        ).json()["scenario"]
        assert picked in pageable, (seed, picked)
    # random by difficulty: drawn among the scenarios measured at that level
    assert "difficulty" in refused({"scenario": SCENARIO, "difficulty": "hard"})
    assert "difficulty" in refused({"random": True, "difficulty": "brutal"})
    hard = create(client, scenario=None, random=True, difficulty="hard", seed=5)
    drawn = client.get(
        f"/g/{hard['id']}/api/state", headers={"X-Token": token(hard["facilitator"])}
    ).json()["scenario"]
    hard_ones = {p.stem for p in at_level(catalogue.entries().values(), "hard")}
    assert drawn in hard_ones, drawn


def test_tokens_open_only_their_own_game_day_and_role(client: TestClient) -> None:
    a, b = create(client, seed=1), create(client, seed=2)
    ops_a = token(a["join"]["operations"])
    # a role's token on the other game day, or no token, opens nothing
    assert client.get(f"/g/{b['id']}?token={ops_a}").status_code == 403
    assert client.get(f"/g/{b['id']}/api/state", headers={"X-Token": ops_a}).status_code == 403
    assert run(client, b["id"], ops_a, "status").status_code == 403
    assert client.get(f"/g/{a['id']}").status_code == 403
    assert client.get(f"/g/nope?token={ops_a}").status_code == 404
    # a participant token never reaches a facilitator endpoint
    for path, body in (
        ("clock", {"paused": False}),
        ("inject", {"kind": "fault", "entry": "{id: x, type: crash, target: cart}"}),
        ("hint", {"to": "commander", "text": "psst"}),
        ("end", {}),
    ):
        response = client.post(
            f"/g/{a['id']}/api/facilitator/{path}", json=body, headers={"X-Token": ops_a}
        )
        assert response.status_code == 403, path
    assert (
        client.get(
            f"/g/{a['id']}/api/facilitator/suggestion", headers={"X-Token": ops_a}
        ).status_code
        == 403
    )
    # the facilitator's token opens the control room, a role's its console
    control = client.get(a["facilitator"].replace("http://testserver", ""))
    assert control.status_code == 200
    assert "Join links" in control.text
    # the dependency graph, for any member of the game day
    graph = client.get(f"/g/{a['id']}/graph.png?token={ops_a}")
    assert graph.status_code == 200
    assert graph.headers["content-type"] == "image/png"
    assert graph.content[:4] == b"\x89PNG"
    assert client.get(f"/g/{b['id']}/graph.png?token={ops_a}").status_code == 403
    console = client.get(a["join"]["operations"].replace("http://testserver", ""))
    assert console.status_code == 200
    assert "Join links" not in console.text
    assert "Incident channel" in console.text


def test_commands_are_refused_by_role_validated_and_rate_limited(client: TestClient) -> None:
    data = create(client, seed=5)
    gid = data["id"]
    scribe = token(data["join"]["scribe"])
    refused = run(client, gid, scribe, "restart payments")
    assert refused.status_code == 200
    assert refused.json()["kind"] == "refused"
    assert "right to act" in refused.json()["text"]
    assert run(client, gid, scribe, "x" * 501).status_code == 422
    assert run(client, gid, scribe, "").status_code == 422
    sent = run(client, gid, scribe, "say <script>alert(1)</script><img src=x onerror=alert(2)>")
    assert sent.json()["text"] == "<script>alert(1)</script><img src=x onerror=alert(2)>"
    assert sent.headers["content-type"].startswith("application/json")
    # the facilitator does not type the team's commands
    assert run(client, gid, token(data["facilitator"]), "status").status_code == 403
    # a burst beyond the limit is told to wait
    limit, _ = RATE
    codes = [run(client, gid, scribe, "note keeping up").status_code for _ in range(limit + 2)]
    assert 429 in codes
    assert codes.index(429) >= limit - 3  # the earlier calls in this test count too


def test_the_facilitator_runs_the_clock_and_the_end_shows_everyone_the_scorecard(
    client: TestClient,
) -> None:
    data = create(client, seed=6)
    gid, fac = data["id"], token(data["facilitator"])
    ops = token(data["join"]["operations"])
    headers = {"X-Token": fac}
    bad = client.post(f"/g/{gid}/api/facilitator/clock", json={"speed": 3}, headers=headers)
    assert bad.status_code == 422
    assert "speed" in bad.text
    ok = client.post(
        f"/g/{gid}/api/facilitator/clock", json={"speed": 5, "paused": False}, headers=headers
    )
    assert ok.json() == {"speed": 5.0, "paused": False}
    wrong = client.post(
        f"/g/{gid}/api/facilitator/inject",
        json={"kind": "fault", "entry": "{id: y}"},
        headers=headers,
    )
    assert wrong.status_code == 422
    assert "type" in wrong.text
    hint = client.post(
        f"/g/{gid}/api/facilitator/hint", json={"to": "nobody", "text": "hi"}, headers=headers
    )
    assert hint.status_code == 422
    assert "no role" in hint.text
    assert run(client, gid, ops, "ack").status_code == 200
    # before the end, there is no post-mortem to fetch
    assert client.get(f"/g/{gid}/files/{ops}/report.html").status_code == 409
    card = client.post(f"/g/{gid}/api/facilitator/end", json={}, headers=headers).json()
    assert card["coordination"]["ack_after"] is not None
    assert "operations" in card["roles"]
    # after it: the scorecard in everyone's state, the report and its pictures for everyone
    state = client.get(f"/g/{gid}/api/state", headers={"X-Token": ops}).json()
    assert state["scorecard"]["team"]["score"] == card["team"]["score"]
    report = client.get(f"/g/{gid}/files/{ops}/report.html")
    assert report.status_code == 200
    assert "<html" in report.text.lower()
    assert client.get(f"/g/{gid}/files/{ops}/report-timeline.png").status_code == 200
    assert client.get(f"/g/{gid}/files/{ops}/../gamedays.sqlite").status_code == 404
    assert client.get(f"/g/{gid}/files/{ops}/nothing.png").status_code == 404
    assert run(client, gid, ops, "status").status_code == 409
    # the event stream of an ended game day sends the feed, the picture and the end, then stops
    with client.stream("GET", f"/g/{gid}/api/events?token={ops}") as stream:
        text = "".join(stream.iter_text())
    assert "event: entry" in text
    assert "event: live" in text
    assert "event: ended" in text
    assert text.index("event: ended") > text.index("event: entry")
