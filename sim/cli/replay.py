"""``chaosdrill replay``: re-run a recorded drill, command for command, and rewrite its files."""

from __future__ import annotations

import argparse
import hashlib
import io
from contextlib import suppress
from pathlib import Path
from typing import Any

from rich.console import Console

from sim._version import __version__
from sim.atomic import clear_outputs, writing
from sim.cli.common import DRILL_FILES, EXIT_INVALID, EXIT_OK, err, out
from sim.scenario import ScenarioError, catalogue


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "replay",
        help="re-run a recorded drill (session.json) and rewrite its journal and report",
        description=(
            "Re-run the drill recorded in SESSION (the session.json `chaosdrill drill` "
            "writes): the same scenario file (checked by SHA-256), seed and settings, every "
            "command at the simulated time it was issued. Writes DIR/journal.json — byte for "
            "byte the drill's own — and the post-mortem DIR/report.md and DIR/report.html, "
            "and prints the transcript and the scorecard."
        ),
    )
    p.add_argument("session", type=Path, metavar="SESSION", help="a drill's session.json")
    p.add_argument(
        "--out",
        type=Path,
        default=Path("out/replay"),
        metavar="DIR",
        help="output folder (default: out/replay)",
    )
    p.add_argument(
        "--quiet", action="store_true", help="print only the end of the drill, not the transcript"
    )
    p.set_defaults(func=main)


def _fail(message: str) -> int:
    err.print(" ".join(message.split()), soft_wrap=True, markup=False, highlight=False)
    return EXIT_INVALID


def _find(session_file: Path, path: str, file: str) -> list[Path]:
    """Where the recorded scenario may be now, most likely first (with no path — a random
    drill that did not end — every catalogue scenario: the digest tells which)."""
    if not path:
        return list(catalogue.entries().values())
    recorded = Path(path)
    places = [Path(file)] if file else []
    places += [recorded, session_file.parent / recorded.name]
    with suppress(ScenarioError):  # not in the catalogue (any more)
        places.append(catalogue.resolve(recorded.stem))
    seen: list[Path] = []
    for p in places:
        if p.is_file() and all(p.resolve() != s.resolve() for s in seen):
            seen.append(p)
    return seen


def main(args: argparse.Namespace) -> int:
    from sim.drill.session import SessionError, load, locate
    from sim.scenario import load as load_scenario

    file: Path = args.session
    try:
        session = load(file)
    except SessionError as exc:
        return _fail(str(exc))
    places = _find(file, session.scenario_path, session.scenario_file)
    sha_line = locate(file, ("scenario", "sha256"))
    if not places:
        return _fail(
            f"{file}:{sha_line}: scenario.path: cannot find the scenario file "
            f"{session.scenario_path} (nor {Path(session.scenario_path).name} next to the session)"
        )
    loaded = None
    for place in places:
        try:
            candidate = load_scenario(place)  # its digest covers the files it extends
        except ScenarioError as exc:
            if hashlib.sha256(place.read_bytes()).hexdigest() == session.scenario_sha256:
                return _fail(str(exc.problems[0]))  # the recorded file, refused today
            continue
        if candidate.sha256 == session.scenario_sha256:
            loaded = candidate
            break
    if loaded is None and not session.scenario_path:
        return _fail(
            f"{file}:{sha_line}: scenario.sha256: no scenario in the catalogue has the digest "
            f"recorded ({session.scenario_sha256[:12]}…) for this random drill; it has changed "
            "since the drill was recorded, and a replay would not reproduce it"
        )
    if loaded is None:
        return _fail(
            f"{file}:{sha_line}: scenario.sha256: {places[0]} (or a file it extends) has changed "
            "since the drill was "
            f"recorded (sha256 {session.scenario_sha256[:12]}… recorded); a replay would not "
            "reproduce it"
        )
    if session.version and session.version != __version__:
        err.print(
            f"warning: recorded with chaosdrill {session.version}, replaying with {__version__}; "
            "the journal may differ",
            soft_wrap=True,
        )

    from sim.drill.commands import printable
    from sim.drill.compare import Comparisons
    from sim.drill.core import Drill
    from sim.drill.outcome import conclude
    from sim.drill.shift import drill_scenario
    from sim.drill.terminal import held_interrupts

    console = Console(file=io.StringIO()) if args.quiet else out
    scenario = drill_scenario(loaded.scenario, session.random)  # what Drill runs
    comparisons = Comparisons(scenario, session.seed, scenario.horizon)  # started by begin()
    try:
        drill = Drill(
            loaded,
            session.seed,
            console=console,
            responder=session.responder,
            hints=session.hints,
            facilitator=session.facilitator,
            realtime=session.realtime,
            random_pick=session.random,
            comparisons=comparisons,
            source=session.scenario_path or loaded.path,  # a random drill's, found again
            team=session.team,
            manual_ack=session.manual_ack,
            compare=session.compare,
        )
        drill.begin()
        diverged: str | None = None
        if drill.session.paged_at != session.paged_at:
            diverged = (
                f"{file}:{locate(file, ('paged_at',))}: paged_at: the page came at "
                f"{drill.session.paged_at}, recorded {session.paged_at}"
            )
        for i, command in enumerate(session.commands):
            if drill.ended is not None:
                diverged = diverged or (
                    f"{file}:{locate(file, ('commands', i))}: commands[{i}]: the drill had already "
                    f"ended ({drill.ended}) when this command came"
                )
                break
            t = float(command["t"])
            if t < drill.now and diverged is None:
                diverged = (
                    f"{file}:{locate(file, ('commands', i))}: commands[{i}].t: recorded at {t:g}s, "
                    f"but the replay is already at {drill.now:g}s"
                )
            console.print(
                drill.prompt() + printable(command["line"]), markup=False, highlight=False
            )
            drill.issue(command["line"], at=t, by=command.get("by"))
        if drill.ended is None:
            ended = session.ended or {}
            drill.stop(str(ended.get("reason") or "quit"))
        drill.out = out  # the end (reveal, scorecard, comparison) is shown even with --quiet
        with held_interrupts(), writing(args.out, folder=True):
            # conclude() names the files it writes in args.out: they replace the outputs of
            # an earlier drill or replay there together, never beside them
            clear_outputs(args.out, DRILL_FILES)
            journal, _ = conclude(drill, args.out, out)
    finally:
        comparisons.close()
    digest = hashlib.sha256(journal.to_json().encode()).hexdigest()
    if session.journal_sha256 is not None:
        if digest == session.journal_sha256:
            out.print(f"journal identical to the recorded drill's (sha256 {digest[:16]}…)")
        else:
            return _fail(
                diverged
                or f"{file}:{locate(file, ('journal_sha256',))}: journal_sha256: the replayed journal differs from the recorded "
                f"one (sha256 {digest[:12]}…, recorded {session.journal_sha256[:12]}…)"
            )
    elif diverged is not None:
        return _fail(diverged)
    return EXIT_OK
