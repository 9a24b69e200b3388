"""The game days one server runs: created, found by token, ticked, resumed after a restart.

:class:`Games` is the server's state without HTTP: :mod:`sim.web.app` calls it from its
routes (in worker threads: a game day's simulation is ordinary blocking Python) and runs
:meth:`Games.tick` once a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sim.scenario import ScenarioError, catalogue
from sim.scenario.durations import wall_clock
from sim.web.feed import Entry
from sim.web.gameday import Config, GameDay, GameDayError, new_config
from sim.web.roles import DEFAULT_ROLES, FACILITATOR, parse_roles
from sim.web.store import Store

SAVE_CLOCK_EVERY = 5.0  # wall seconds between writes of a running clock


class Ended:
    """A game day that ended before this server started: its final pages, read-only."""

    def __init__(self, config: Config, entries: list[Entry], view: Mapping[str, Any]) -> None:
        from sim.drill.shift import drill_scenario
        from sim.scenario import load

        self.config = config
        try:
            scenario = drill_scenario(load(config.scenario_file).scenario, config.random)
            self.start = scenario.clock_start
        except ScenarioError:  # the file changed or went away: times on the simulated day
            self.start = datetime(2000, 1, 1)
        self.id = config.id
        self.entries = entries
        self.live = dict(view.get("live") or {})
        self.scorecard = view.get("scorecard")
        self.ended = str(self.live.get("ended") or "ended")
        self.roles = {r: frozenset(v) for r, v in config.roles.items()}
        self.version = 0
        self.listeners: list[Callable[[Any], None]] = []

    def clock(self, t: float) -> str:
        return wall_clock(self.start, t)

    def feed(self, who: str, after: int = -1) -> list[dict[str, Any]]:
        return [e.view(who, self.clock) for e in self.entries[after + 1 :] if e.visible_to(who)]

    def state(self, who: str) -> dict[str, Any]:
        return {
            "gameday": self.id,
            "you": who,
            "roles": {r: sorted(v) for r, v in self.roles.items()},
            "commands": [],
            "live": self.live,
            "feed": self.feed(who),
            "version": self.version,
            "scorecard": self.scorecard,
            **({"scenario": self.config.scenario_label} if who == FACILITATOR else {}),
        }


class Games:
    """Every game day of one server, kept in ``folder``."""

    def __init__(self, folder: Path, *, wall: Callable[[], float] = time.time) -> None:
        self.store = Store(folder)
        self.wall = wall
        self.games: dict[str, GameDay | Ended] = {}
        self.saved_at: dict[str, float] = {}

    # -- creating ----------------------------------------------------------------------------
    def create(
        self,
        scenario: str | None,
        seed: int,
        roles: Mapping[str, Any] | None = None,
        *,
        speed: float = 1.0,
        random_pick: bool = False,
        difficulty: str | None = None,
    ) -> GameDay:
        """A new game day, started (run to its page) and paused until the facilitator starts
        the clock. ``scenario`` a catalogue name or a file; ``None`` with ``random_pick``
        (among the scenarios measured at ``difficulty``, if given)."""
        from sim.engine.common.streams import stream

        if difficulty is not None and not random_pick:
            raise GameDayError("difficulty: chooses among random scenarios; pick random")
        if random_pick:
            files = sorted(catalogue.entries().items())
            from sim.expect.difficulty import at_level, drills

            # as the drill's --random: only scenarios in which somebody is paged (a game day
            # that pages nobody ends at its start, and names the scenario as it does)
            paths = [path for _, path in files]
            chosen = set(drills(paths) if difficulty is None else at_level(paths, difficulty))
            files = [(n, p) for n, p in files if p in chosen]
            if not files:
                level = f" measured as {difficulty}" if difficulty else ""
                raise GameDayError(f"scenario: the catalogue has no scenario{level}")
            label, path = stream(seed, "gameday/random").choice(files)
        else:
            if not scenario:
                raise GameDayError("scenario: pick one from the catalogue, or random")
            try:
                path = catalogue.resolve(scenario)
            except ScenarioError as exc:
                raise GameDayError(f"scenario: {exc}") from None
            label = path.stem
        try:
            parsed = parse_roles(roles if roles is not None else DEFAULT_ROLES)
        except ValueError as exc:
            raise GameDayError(str(exc)) from None
        if seed < 0:
            raise GameDayError("seed: expected an integer >= 0")
        config = new_config(Path(path), label, seed, parsed, random_pick=random_pick)
        try:
            game = GameDay(
                config,
                self.store.folder_of(config.id),
                record=self.store.record,
                wall=self.wall,
                speed=speed,
            )
        except ScenarioError as exc:
            raise GameDayError(str(exc.problems[0])) from None
        self.store.add(game)
        game.start()
        self.games[config.id] = game
        return game

    # -- finding -----------------------------------------------------------------------------
    def find(self, gid: str, token: str) -> tuple[GameDay | Ended, str] | None:
        """The game day ``gid`` and the role ``token`` holds in it; ``None`` if the token is
        not one of that game day's (a token of another game day opens nothing here)."""
        game = self.games.get(gid)
        if game is None or not token:
            return None
        role = game.config.role_of(token)
        return None if role is None else (game, role)

    def listing(self) -> list[dict[str, Any]]:
        """Every game day, for the server's front page (facilitator links included)."""
        rows = []
        for game in sorted(self.games.values(), key=lambda g: -g.config.created):
            rows.append(
                {
                    "id": game.id,
                    "scenario": game.config.scenario_label,
                    "seed": game.config.seed,
                    "created": game.config.created,
                    "ended": game.ended,
                    "facilitator_token": game.config.facilitator_token,
                    "roles": list(game.config.roles),
                }
            )
        return rows

    # -- running -----------------------------------------------------------------------------
    def tick(self) -> list[GameDay]:
        """Move every running game day's clock; the ones that changed."""
        changed = []
        now = self.wall()
        for game in list(self.games.values()):
            if isinstance(game, GameDay) and game.ended is None and game.tick(wait=False):
                changed.append(game)
                if now - self.saved_at.get(game.id, 0.0) >= SAVE_CLOCK_EVERY:
                    self.store.save_clock(game)
                    self.saved_at[game.id] = now
        return changed

    def resume(self, progress: Callable[[str], None] | None = None) -> int:
        """Load every game day of the database: running ones rebuilt from their commands,
        ended ones as their final pages. Returns how many are running."""
        running = 0
        for row in reversed(self.store.rows()):
            config: Config = row["config"]
            entries = self.store.entries(config.id)
            if row["ended"] is not None:
                self.games[config.id] = Ended(config, entries, row["ended_view"] or {})
                continue
            if progress is not None:
                progress(config.id)
            try:
                game = GameDay(
                    config,
                    self.store.folder_of(config.id),
                    record=None,  # entries are already stored
                    wall=self.wall,
                    speed=row["speed"],
                    paused=row["paused"],
                )
                game.restore(entries, row["sim_now"])
            except (ScenarioError, OSError) as exc:
                if progress is not None:
                    progress(f"{config.id}: cannot resume ({exc})")
                continue
            game.record = self.store.record
            self.games[config.id] = game
            running += 1
        return running

    def close(self) -> None:
        for game in self.games.values():
            if isinstance(game, GameDay) and game.ended is None:
                self.store.save_clock(game)
        self.store.close()


__all__ = ["Ended", "Games"]
