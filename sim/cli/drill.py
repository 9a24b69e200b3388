"""``chaosdrill drill``: take the pager — an interactive outage drill in the terminal."""

from __future__ import annotations

import argparse
import secrets
import sys
from pathlib import Path
from typing import Any

from sim.atomic import clear_outputs, writing
from sim.cli.common import (
    DRILL_FILES,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_USAGE,
    err,
    load_or_report,
    out,
)
from sim.scenario import catalogue


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "drill",
        help="take the pager: an interactive outage drill in the terminal",
        description=(
            "You are on call for the simulated shop of SCENARIO (a file or catalogue name; "
            "default: bad-schema-migration). The drill starts quiet; when the page comes, "
            "investigate and act with commands (type `help`), each costing simulated time. "
            "At the end: your scorecard next to the experienced responder's and the "
            "oracle's on the same seed, and DIR/session.json (replay it with `chaosdrill "
            "replay`), DIR/journal.json, DIR/report.md and DIR/report.html. Guides: "
            "docs/drill-trainee.md, docs/drill-facilitator.md."
        ),
    )
    p.add_argument("scenario", nargs="?", help="scenario file or catalogue name")
    p.add_argument("--seed", type=int, help="random seed (default: the scenario's)")
    p.add_argument(
        "--as",
        dest="name",
        metavar="NAME",
        default="trainee",
        help="your name, as the journal and scorecard show it (default: trainee)",
    )
    p.add_argument(
        "--random",
        action="store_true",
        help="a scenario from the catalogue, chosen by the seed and not named until the end "
        "(only scenarios in which someone is paged: `chaosdrill list` marks the others "
        "'no page')",
    )
    p.add_argument(
        "--difficulty",
        choices=("easy", "medium", "hard"),
        help="with --random: draw only from the scenarios measured at this level (the "
        "difficulty column of `chaosdrill list`)",
    )
    p.add_argument(
        "--script",
        type=Path,
        metavar="FILE",
        help="read the commands from FILE (one a line, # comments) instead of the keyboard",
    )
    p.add_argument(
        "--facilitator",
        action="store_true",
        help="allow inject-fault and inject-herring (see docs/drill-facilitator.md)",
    )
    p.add_argument(
        "--hints",
        type=_count,
        default=3,
        metavar="N",
        help="hint budget (default: 3; each hint used costs score)",
    )
    p.add_argument(
        "--realtime",
        type=_factor,
        metavar="X",
        help="run the clock at X× wall time between commands (default: only commands move it)",
    )
    p.add_argument(
        "--no-compare",
        action="store_true",
        help="end without the comparison runs (nobody responding, the oracle, the experienced "
        "responder): the scorecard then has no counterfactuals, and the end comes at once",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("out/drill"),
        metavar="DIR",
        help="output folder (default: out/drill)",
    )
    p.set_defaults(func=main)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("expected 0 or more")
    return value


def _factor(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < 1e6:
        raise argparse.ArgumentTypeError("expected a number above zero, such as 1 or 10")
    return value


def _candidates(level: str | None = None) -> list[Path]:
    """The catalogue scenarios ``--random`` draws from: those measured at difficulty
    ``level`` if one is given, else every one that pages somebody."""
    from sim.expect.difficulty import at_level, drills

    files = list(catalogue.entries().values())
    # a shift in which nobody is ever paged (a resilience check) is not a drill
    return drills(files) if level is None else at_level(files, level)


def _pick(seed: int, level: str | None = None, among: list[Path] | None = None) -> Path | None:
    """A catalogue scenario chosen by ``seed`` (the same seed, the same choice) among
    ``among`` (default: :func:`_candidates` at ``level``)."""
    from sim.engine.common.streams import stream

    files = _candidates(level) if among is None else among
    if not files:
        return None
    return stream(seed, "drill/random").choice(files)


def main(args: argparse.Namespace) -> int:
    if args.random and args.scenario:
        err.print("drill: give a SCENARIO or --random, not both")
        return EXIT_USAGE
    if args.difficulty and not args.random:
        err.print("drill: --difficulty chooses among random scenarios; add --random")
        return EXIT_USAGE
    from sim.drill.terminal import tidy

    name = " ".join(tidy(args.name).split())  # the journal and session record it
    if not name:
        err.print("drill: --as needs a name")
        return EXIT_USAGE
    script: list[str] | None = None
    if args.script is not None:
        script = _read_script(args.script)
        if script is None:
            return EXIT_INVALID
    if args.random:
        seed = args.seed if args.seed is not None else secrets.randbelow(1_000_000)
        chosen = _pick(seed, args.difficulty)
        if chosen is None:
            level = f" measured as {args.difficulty}" if args.difficulty else ""
            err.print(
                f"drill --random: no scenarios{level} found in the catalogue "
                "(chaosdrill list shows each one's difficulty)",
                soft_wrap=True,
            )
            return EXIT_INVALID
        loaded = load_or_report(str(chosen))
    else:
        loaded = load_or_report(args.scenario)
    if loaded is None:
        return EXIT_INVALID
    if not args.random:
        seed = loaded.scenario.seed if args.seed is None else args.seed

    from sim.drill.compare import Comparisons
    from sim.drill.core import Drill
    from sim.drill.outcome import conclude
    from sim.drill.shift import drill_scenario
    from sim.drill.terminal import (
        LineReader,
        PromptReader,
        Reader,
        ScriptReader,
        held_interrupts,
        play,
    )

    out_dir: Path = args.out
    session_file = out_dir / "session.json"
    scenario = drill_scenario(loaded.scenario, args.random)  # what Drill runs
    comparisons = Comparisons(scenario, seed, scenario.horizon)
    try:
        drill = Drill(
            loaded,
            seed,
            console=out,
            responder=name,
            hints=args.hints,
            facilitator=args.facilitator,
            realtime=args.realtime,
            random_pick=args.random,
            comparisons=comparisons,
            autosave=session_file,
            compare=not args.no_compare,
        )
        # The folder holds one drill's files at a time: session.json first (rewritten after
        # every command, so that a drill that dies can be replayed), the rest at the end.
        with writing(out_dir, folder=True):
            clear_outputs(out_dir, DRILL_FILES)
            drill.session.write(session_file)
        reader: Reader
        if script is not None:
            reader = ScriptReader(script, out)
        elif sys.stdin.isatty() and sys.stdout.isatty() and _has_prompt_toolkit():
            reader = PromptReader(drill)
        elif sys.stdin.isatty():
            reader = LineReader(sys.stdin.buffer, out, echo=False)  # the terminal echoes
        else:
            reader = LineReader(sys.stdin.buffer, out)
        play(drill, reader, out)
        with held_interrupts(), writing(out_dir, folder=True):
            conclude(drill, out_dir, out)
    finally:
        comparisons.close()
    return EXIT_INTERRUPTED if drill.ended == "interrupted" else EXIT_OK


def _has_prompt_toolkit() -> bool:
    import importlib.util

    return importlib.util.find_spec("prompt_toolkit") is not None


def _read_script(path: Path) -> list[str] | None:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        print(f"{path}:1: cannot read the script: {exc.strerror or exc}", file=sys.stderr)
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        print(f"{path}:{line}: expected UTF-8 text", file=sys.stderr)
        return None
    return text.splitlines()
