"""``chaosdrill serve``'s web app: game days in the browser (FastAPI, server-sent events).

Pages are rendered on the server (Jinja2, autoescaped) with one small script; live updates
come over server-sent events. Who someone is comes from the token in their link:

- the server's **key** (printed at start, like a notebook server's) opens the front page,
  which creates game days and lists them;
- a game day's **facilitator token** opens its control room;
- each **role token** opens that role's console, and nothing of any other game day.

Every game-day route checks that the token belongs to that game day (403 otherwise), and the
facilitator's routes refuse role tokens. Commands are rate-limited per token. Responses carry
a content security policy that allows no inline script, so text shown on a page can only
ever be text. The simulation runs in worker threads, one game day at a time under its lock.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Header, HTTPException, Query, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from sim._version import __version__
from sim.scenario import catalogue
from sim.web.gameday import SPEEDS, GameDay, GameDayError
from sim.web.games import Ended, Games
from sim.web.roles import DEFAULT_ROLES, FACILITATOR, RIGHTS

HERE = Path(__file__).parent
TICK = 1.0  # wall seconds between clock ticks
RATE = (10, 10.0)  # at most 10 commands per token in any 10 s
KEEPALIVE = 15  # seconds between SSE keep-alive comments
FILES = ("report.html", "report.md", "journal.json", "session.json")
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class Create(BaseModel):
    """A new game day (the front page's form)."""

    model_config = ConfigDict(extra="forbid")
    scenario: str | None = Field(None, max_length=200)
    random: bool = False
    difficulty: Literal["easy", "medium", "hard"] | None = None  # with random
    seed: int = Field(1, ge=0, le=2**31 - 1)
    roles: dict[str, list[str]] | None = None
    speed: float = 1.0


class Line(BaseModel):
    model_config = ConfigDict(extra="forbid")
    line: str = Field(min_length=1, max_length=500)


class Clock(BaseModel):
    model_config = ConfigDict(extra="forbid")
    speed: float | None = None
    paused: bool | None = None


class Inject(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(pattern="^(fault|herring)$")
    entry: str = Field(min_length=1, max_length=500)


class Hint(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str = Field(min_length=1, max_length=24)
    text: str = Field(min_length=1, max_length=500)


class Limiter:
    """At most ``n`` calls per ``per`` seconds for each key (a sliding window)."""

    def __init__(self, n: int, per: float) -> None:
        self.n, self.per = n, per
        self.calls: dict[str, deque[float]] = {}

    def allow(self, key: str) -> float | None:
        """``None`` when the call may go ahead, else the seconds to wait."""
        now = time.monotonic()
        calls = self.calls.setdefault(key, deque())
        while calls and now - calls[0] > self.per:
            calls.popleft()
        if len(calls) >= self.n:
            return self.per - (now - calls[0])
        calls.append(now)
        return None


class Hub:
    """Wakes the event streams of a game day when it changes (from any thread)."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.waiting: dict[str, set[asyncio.Event]] = {}

    def watch(self, game: GameDay | Ended) -> None:
        game.listeners.append(self.changed)

    def changed(self, game: GameDay | Ended) -> None:
        if self.loop is None:
            return
        for event in list(self.waiting.get(game.id, ())):
            self.loop.call_soon_threadsafe(event.set)

    def subscribe(self, gid: str) -> asyncio.Event:
        event = asyncio.Event()
        self.waiting.setdefault(gid, set()).add(event)
        return event

    def unsubscribe(self, gid: str, event: asyncio.Event) -> None:
        self.waiting.get(gid, set()).discard(event)


def create_app(folder: Path, key: str | None = None, *, tick: float = TICK) -> FastAPI:
    """The app over the game days kept in ``folder``. ``key`` opens the front page (default:
    the one stored in the folder, made on first use)."""
    hub = Hub()
    limiter = Limiter(*RATE)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        games = Games(folder)
        state["games"] = games
        state["key"] = key or games.store.setting("key", secrets.token_urlsafe(16))
        hub.loop = asyncio.get_running_loop()
        await run_in_threadpool(games.resume)
        for game in games.games.values():
            hub.watch(game)
        ticker = asyncio.create_task(_ticker(games, tick))
        try:
            yield
        finally:
            ticker.cancel()
            await run_in_threadpool(games.close)

    app = FastAPI(
        title="chaosdrill game day",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.shared = state
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    def games() -> Games:
        found: Games = state["games"]
        return found

    def check_key(given: str | None) -> None:
        if not given or not secrets.compare_digest(given.encode(), str(state["key"]).encode()):
            raise HTTPException(
                403,
                "the server's key is missing or wrong (it is in the URL "
                "`chaosdrill serve` printed)",
            )

    def member(gid: str, token: str | None) -> tuple[GameDay | Ended, str]:
        if gid not in games().games:
            raise HTTPException(404, f"no game day {gid[:16]!r} on this server")
        found = games().find(gid, token or "")
        if found is None:
            raise HTTPException(403, "this link's token does not open this game day")
        return found

    def facilitator(gid: str, token: str | None) -> GameDay:
        game, role = member(gid, token)
        if role != FACILITATOR:
            raise HTTPException(403, "only the facilitator may do that")
        if not isinstance(game, GameDay) or game.ended is not None:
            raise HTTPException(409, "the game day has ended")
        return game

    def running(game: GameDay | Ended) -> GameDay:
        if not isinstance(game, GameDay) or game.ended is not None:
            raise HTTPException(409, "the game day has ended")
        return game

    async def call(fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        try:
            return await run_in_threadpool(fn, *args, **kw)
        except GameDayError as exc:
            raise HTTPException(422, str(exc)) from None

    # -- the front page ----------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse)
    async def home(request: Request, key: str | None = None) -> Response:
        given = key or request.cookies.get("chaosdrill_key")
        check_key(given)
        scenarios = sorted(catalogue.entries())
        response = templates.TemplateResponse(
            request,
            "home.html",
            {
                "games": games().listing(),
                "scenarios": scenarios,
                "levels": ("easy", "medium", "hard"),
                "roles": {r: sorted(v) for r, v in DEFAULT_ROLES.items()},
                "rights": RIGHTS,
                "speeds": SPEEDS,
                "version": __version__,
            },
        )
        if key:
            response.set_cookie("chaosdrill_key", key, httponly=True, samesite="strict")
        return response

    @app.post("/api/gamedays")
    async def create(
        request: Request, body: Create, x_key: Annotated[str | None, Header()] = None
    ) -> JSONResponse:
        check_key(x_key or request.cookies.get("chaosdrill_key"))
        if body.speed not in SPEEDS:
            raise HTTPException(
                422, f"speed: expected one of {', '.join(f'{s:g}' for s in SPEEDS)}"
            )
        game: GameDay = await call(
            games().create,
            body.scenario,
            body.seed,
            body.roles,
            speed=body.speed,
            random_pick=body.random,
            difficulty=body.difficulty,
        )
        hub.watch(game)
        base = str(request.base_url).rstrip("/")
        c = game.config
        return JSONResponse(
            {
                "id": c.id,
                "facilitator": f"{base}/g/{c.id}?token={c.facilitator_token}",
                "join": {r: f"{base}/g/{c.id}?token={t}" for r, t in c.tokens.items()},
            },
            status_code=201,
        )

    # -- a game day's pages ------------------------------------------------------------------
    @app.get("/g/{gid}", response_class=HTMLResponse)
    async def page(request: Request, gid: str, token: str = Query("")) -> Response:
        game, role = member(gid, token)
        links = {}
        if role == FACILITATOR:
            base = str(request.base_url).rstrip("/")
            links = {r: f"{base}/g/{gid}?token={t}" for r, t in game.config.tokens.items()}
        return templates.TemplateResponse(
            request,
            "facilitator.html" if role == FACILITATOR else "participant.html",
            {"gid": gid, "role": role, "token": token, "links": links, "version": __version__},
        )

    @app.get("/g/{gid}/api/state")
    async def get_state(
        gid: str, x_token: Annotated[str | None, Header()] = None, token: str | None = None
    ) -> dict[str, Any]:
        game, role = member(gid, x_token or token)
        result: dict[str, Any] = await run_in_threadpool(game.state, role)
        return result

    @app.get("/g/{gid}/api/events")
    async def events(gid: str, token: str = Query(""), after: int = Query(-1, ge=-1)) -> Response:
        game, role = member(gid, token)

        async def stream() -> AsyncIterator[dict[str, str]]:
            wake = hub.subscribe(gid)
            seen, version = after, -1
            try:
                while True:
                    wake.clear()
                    new = game.feed(role, seen)
                    for entry in new:
                        seen = max(seen, int(entry["seq"]))
                        yield {"event": "entry", "data": json.dumps(entry)}
                    if game.version != version:
                        version = game.version
                        live = {"live": game.live, "version": version, "sent": time.time()}
                        yield {"event": "live", "data": json.dumps(live)}
                    if game.scorecard is not None and not isinstance(game, Ended):
                        # (scored: ``ended`` is set while the end is still being computed)
                        yield {"event": "ended", "data": json.dumps(game.scorecard)}
                        return
                    if isinstance(game, Ended):
                        return
                    try:
                        await asyncio.wait_for(wake.wait(), KEEPALIVE)
                    except TimeoutError:
                        yield {"comment": "keep-alive"}
            finally:
                hub.unsubscribe(gid, wake)

        return EventSourceResponse(stream(), headers=HEADERS, ping=KEEPALIVE)

    @app.post("/g/{gid}/api/command")
    async def command(
        gid: str, body: Line, x_token: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        game, role = member(gid, x_token)
        if role == FACILITATOR:
            raise HTTPException(403, "the facilitator injects and hints; commands are the team's")
        wait = limiter.allow(x_token or "")
        if wait is not None:
            raise HTTPException(
                429,
                f"too many commands: wait {wait:.0f}s",
                headers={"Retry-After": str(max(1, round(wait)))},
            )
        live = running(game)
        entry = await call(live.command, role, body.line)
        result: dict[str, Any] = entry.view(role, live.clock)
        return result

    # -- the facilitator ---------------------------------------------------------------------
    @app.post("/g/{gid}/api/facilitator/clock")
    async def set_clock(
        gid: str, body: Clock, x_token: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        game = facilitator(gid, x_token)
        await call(game.set_clock, speed=body.speed, paused=body.paused)
        return {"speed": game.speed, "paused": game.paused}

    @app.post("/g/{gid}/api/facilitator/inject")
    async def inject(
        gid: str, body: Inject, x_token: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        game = facilitator(gid, x_token)
        entry = await call(game.inject, body.kind, body.entry)
        result: dict[str, Any] = entry.view(FACILITATOR, game.clock)
        return result

    @app.post("/g/{gid}/api/facilitator/hint")
    async def hint(
        gid: str, body: Hint, x_token: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        game = facilitator(gid, x_token)
        entry = await call(game.hint, body.to, body.text)
        result: dict[str, Any] = entry.view(FACILITATOR, game.clock)
        return result

    @app.get("/g/{gid}/api/facilitator/suggestion")
    async def suggestion(
        gid: str, x_token: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        game = facilitator(gid, x_token)
        return {"hint": await call(game.suggestion)}

    @app.post("/g/{gid}/api/facilitator/end")
    async def end(gid: str, x_token: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        game = facilitator(gid, x_token)
        scorecard: dict[str, Any] = await call(game.end, "quit")
        return scorecard

    # -- the end -----------------------------------------------------------------------------
    @app.get("/g/{gid}/files/{token}/{name}")
    async def files(gid: str, token: str, name: str) -> Response:
        game, _ = member(gid, token)
        if game.ended is None:
            raise HTTPException(409, "the post-mortem is written when the game day ends")
        folder = games().store.folder_of(gid).resolve()
        path = (folder / name).resolve()
        allowed = name in FILES or (name.endswith(".png") and "/" not in name)
        if not allowed or path.parent != folder or not path.is_file():
            raise HTTPException(404, f"no file {name[:40]!r} in this game day's post-mortem")
        # the report's own stylesheet is inline; it has no script, and may run none
        csp = "default-src 'none'; img-src 'self'; style-src 'self' 'unsafe-inline'"
        return FileResponse(path, headers={"Content-Security-Policy": csp})

    @app.get("/g/{gid}/graph.png")
    async def graph(gid: str, token: str = Query("")) -> Response:
        """The system's dependency graph, as on-call knows it (no fault, no scenario name)."""
        game, _ = member(gid, token)
        path = games().store.folder_of(gid) / "graph.png"
        if not path.is_file():
            await run_in_threadpool(_draw_graph, game.config.scenario_file, path)
        return FileResponse(path, media_type="image/png")

    @app.get("/g/{gid}/report")
    async def report(gid: str, token: str = Query("")) -> Response:
        member(gid, token)
        return RedirectResponse(f"/g/{gid}/files/{token}/report.html")

    return app


def _draw_graph(scenario_file: str, path: Path) -> None:
    from sim.model.topology import Topology
    from sim.report import plot_graph
    from sim.scenario import load

    path.parent.mkdir(parents=True, exist_ok=True)
    plot_graph(Topology(load(scenario_file).scenario), path, title="our system: who calls whom")


async def _ticker(games: Games, every: float) -> None:
    """Move every running game day's clock, once every ``every`` wall seconds."""
    while True:
        await asyncio.sleep(every)
        try:
            await run_in_threadpool(games.tick)
        except Exception as exc:  # a broken game day must not stop the others' clocks
            print(f"chaosdrill serve: a clock tick failed: {type(exc).__name__}: {exc}")


__all__ = ["create_app"]
