"""The session record of a drill (``session.json``): what was typed, and when, in simulated time.

A session holds everything needed to reproduce a drill byte for byte: the scenario file (path
and SHA-256), the seed, the trainee's name, the facilitator settings, and every command with
the simulated time it was issued at (facilitator injections and realtime pauses included, as
the commands that made them). ``chaosdrill replay`` feeds the commands back at those times.

The file is JSON with one command per line, so a bad entry is reported at its line.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.scenario.errors import PathPart, render_path

FORMAT = "chaosdrill.session/1"
ENDINGS = ("resolved", "quit", "horizon", "interrupted", "end of input", "script ended", "no page")


class SessionError(Exception):
    """A session file that cannot be replayed: ``file:line: field: what is wrong``."""

    def __init__(self, file: str, line: int, path: tuple[PathPart, ...], message: str) -> None:
        self.file, self.line, self.path, self.message = file, line, path, message
        where = render_path(path) if path else "session"
        super().__init__(f"{file}:{line}: {where}: {message}")


@dataclass
class Session:
    """One drill, as recorded."""

    scenario_path: str  # as the journal records it
    scenario_sha256: str
    seed: int
    scenario_file: str = ""  # where it was found (absolute), to find it again
    responder: str = "trainee"
    hints: int = 3
    facilitator: bool = False
    team: bool = False  # a game day: commands carry who typed them
    manual_ack: bool = False  # the page waited for `ack` (False: sessions recorded before it)
    compare: bool = True  # False: ended without comparison runs (drill --no-compare)
    realtime: float | None = None
    random: bool = False
    version: str = ""
    scenario_name: str = ""  # written at the end only (the trainee must not see it before)
    paged_at: float | None = None
    commands: list[dict[str, Any]] = field(default_factory=list)
    injections: list[dict[str, Any]] = field(default_factory=list)
    pauses: list[dict[str, Any]] = field(default_factory=list)
    ended: dict[str, Any] | None = None
    journal_sha256: str | None = None

    def add(self, t: float, line: str, by: str | None = None) -> None:
        entry: dict[str, Any] = {"t": t, "line": line}
        if by is not None:
            entry["by"] = by
        self.commands.append(entry)

    def ended_at(self) -> float | None:
        """The simulated time the drill ended at, once it has."""
        return None if self.ended is None else float(self.ended["t"])

    # -- file ------------------------------------------------------------------------------
    def header(self) -> dict[str, Any]:
        # A random drill's file, which the trainee can open while it runs, names its scenario
        # only once it has ended (a replay finds it in the catalogue by its digest).
        hidden = self.random and self.ended is None
        return {
            "format": FORMAT,
            "chaosdrill": self.version,
            "scenario": {
                "path": None if hidden else self.scenario_path,
                "file": None if hidden else (self.scenario_file or None),
                "sha256": self.scenario_sha256,
                "name": self.scenario_name or None,
                "random": self.random,
            },
            "seed": self.seed,
            "responder": self.responder,
            "hints": self.hints,
            "facilitator": self.facilitator,
            **({"team": True} if self.team else {}),
            **({"manual_ack": True} if self.manual_ack else {}),
            **({"compare": False} if not self.compare else {}),
            "realtime": self.realtime,
            "paged_at": self.paged_at,
            "injections": self.injections,
            "pauses": self.pauses,
            "ended": self.ended,
            "journal_sha256": self.journal_sha256,
        }

    def to_json(self) -> str:
        """Pretty JSON with one command per line (stable: equal sessions, equal bytes)."""
        head = json.dumps(self.header(), indent=1, ensure_ascii=False)
        lines = [json.dumps(c, ensure_ascii=False, sort_keys=True) for c in self.commands]
        body = ",\n  ".join(lines)
        commands = f'"commands": [\n  {body}\n ]' if lines else '"commands": []'
        return head[:-2] + ",\n " + commands + "\n}\n"

    def write(self, path: str | Path) -> Path:
        from sim.atomic import write_text

        return write_text(path, self.to_json())


def _line_finder(text: str, file: str) -> Any:
    """``path → line``, best effort (JSON is read as YAML to learn lines; 1 when unknown)."""
    from sim.scenario.yamlsource import read_yaml

    try:
        source = read_yaml(text, file)
    except Exception:  # a locator only: JSON that YAML cannot read still loads
        return lambda path: 1
    return source.line_of


def load(path: str | Path) -> Session:
    """Read and check a session file; raise :class:`SessionError` at the first defect."""
    file = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise SessionError(file, 1, (), f"cannot read the file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SessionError(file, line, (), "expected UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SessionError(file, exc.lineno, (), f"not valid JSON: {exc.msg}") from None
    line_of = _line_finder(text, file)

    def fail(where: tuple[PathPart, ...], message: str) -> SessionError:
        return SessionError(file, line_of(where), where, message)

    if not isinstance(data, dict):
        raise fail((), "not a chaosdrill session (expected a JSON object)")
    if data.get("format") != FORMAT:
        raise fail(("format",), f"not a chaosdrill session (format {data.get('format')!r})")

    def get(key: str, kind: type | tuple[type, ...], what: str, *, required: bool = True) -> Any:
        if key not in data:
            if required:
                raise fail((), f"missing {key!r}")
            return None
        value = data[key]
        if value is None and not required:
            return None
        if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
            raise fail((key,), f"expected {what}, got {json.dumps(value)[:40]}")
        return value

    scenario = get("scenario", dict, "an object with path and sha256")
    for key in ("path", "sha256"):
        if key == "path" and scenario.get("random") is True and scenario.get(key) is None:
            continue  # a random drill that has not ended names no file
        if not isinstance(scenario.get(key), str) or not scenario[key]:
            raise fail(("scenario", key), "expected a non-empty string")
    seed = get("seed", int, "an integer")
    if seed < 0:
        raise fail(("seed",), "expected an integer >= 0")
    responder = get("responder", str, "a name")
    hints = get("hints", int, "an integer >= 0", required=False)
    if hints is not None and hints < 0:
        raise fail(("hints",), "expected an integer >= 0")
    realtime = get("realtime", (int, float), "a number above zero", required=False)
    if realtime is not None and not (math.isfinite(realtime) and realtime > 0):
        raise fail(("realtime",), "expected a number above zero")
    commands = get("commands", list, "a list of {t, line} entries")
    previous = 0.0
    for i, entry in enumerate(commands):
        where: tuple[PathPart, ...] = ("commands", i)
        if not isinstance(entry, dict):
            raise fail(where, 'expected {"t": seconds, "line": text}')
        t, typed = entry.get("t"), entry.get("line")
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t < 0:
            raise fail((*where, "t"), "expected the simulated time in seconds (a number >= 0)")
        if t < previous:
            raise fail((*where, "t"), f"time goes backwards ({t:g} after {previous:g})")
        if not isinstance(typed, str):
            raise fail((*where, "line"), "expected the command as typed (a string)")
        if "by" in entry and not isinstance(entry["by"], str):
            raise fail((*where, "by"), "expected who typed it (a role's name)")
        previous = float(t)
    return Session(
        scenario_path=scenario["path"] or "",
        scenario_sha256=scenario["sha256"],
        scenario_file=str(scenario.get("file") or ""),
        seed=seed,
        responder=responder,
        hints=3 if hints is None else hints,
        facilitator=bool(data.get("facilitator")),
        team=bool(data.get("team")),
        manual_ack=bool(data.get("manual_ack")),
        compare=data.get("compare") is not False,
        realtime=None if realtime is None else float(realtime),
        random=bool(scenario.get("random")),
        version=str(data.get("chaosdrill") or ""),
        scenario_name=str(scenario.get("name") or ""),
        paged_at=data.get("paged_at"),
        commands=[
            {"t": float(c["t"]), "line": c["line"], **({"by": c["by"]} if "by" in c else {})}
            for c in commands
        ],
        injections=list(data.get("injections") or []),
        pauses=list(data.get("pauses") or []),
        ended=data.get("ended"),
        journal_sha256=data.get("journal_sha256"),
    )


def locate(path: str | Path, where: tuple[PathPart, ...]) -> int:
    """The line of field ``where`` in the session file (for messages during a replay)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return 1
    line: int = _line_finder(text, str(path))(where)
    return line


__all__ = ["ENDINGS", "FORMAT", "Session", "SessionError", "load", "locate"]
