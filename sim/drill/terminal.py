"""Reading the trainee's lines: a full prompt on a terminal, plain lines otherwise.

On a terminal the prompt is prompt_toolkit's: tab completion of commands and of the names
each takes (components, changes already in the change log, leads), history (up/down, Ctrl-R),
and a bottom bar with the clock and the live impact. Without a terminal (piped stdin,
``--script``) lines are read plainly, and the prompt and each line are echoed so the output
reads as a transcript.

Ctrl-C asks whether to end the drill (a second Ctrl-C, or end of input, means yes); Ctrl-D
ends it like ``quit``. A Ctrl-C that arrives while a command runs is held until the command
is done, so the simulation is never left half-way through a step.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any, Protocol

from rich.console import Console
from rich.text import Text

from sim.drill.commands import BY_NAME, printable, split

if TYPE_CHECKING:
    from prompt_toolkit.completion import CompleteEvent, Completion
    from prompt_toolkit.document import Document

    from sim.drill.core import Drill


QUESTION = "End the drill now? The session, journal and report will be written. [y/N] "
DURATIONS = ("1m", "2m", "5m", "10m", "15m", "30m")


class Reader(Protocol):
    """Where the drill's lines come from."""

    eof_reason: str

    def read(self, prompt: str) -> str: ...

    def confirm(self, question: str) -> bool: ...


class LineReader:
    """Lines from a stream (piped stdin), echoed after the prompt."""

    eof_reason = "end of input"

    def __init__(self, stream: IO[str], console: Console, *, echo: bool = True) -> None:
        self.stream = stream
        self.console = console
        self.echo = echo

    def read(self, prompt: str) -> str:
        self.console.print(prompt, end="", markup=False, highlight=False)
        self.console.file.flush()
        line = self.stream.readline()
        if not line:
            self.console.print()
            raise EOFError
        if self.echo:
            self.console.print(printable(line.rstrip("\r\n")), markup=False, highlight=False)
        return line

    def confirm(self, question: str) -> bool:
        self.console.print()
        self.console.print(question, end="", markup=False, highlight=False)
        self.console.file.flush()
        try:
            line = self.stream.readline()
        except KeyboardInterrupt:
            return True
        if self.echo:
            self.console.print(printable(line.rstrip("\r\n")), markup=False, highlight=False)
        return not line or line.strip().lower() in ("y", "yes")


class ScriptReader:
    """Commands from a file (``--script``): ``#`` lines are narration, shown dimmed."""

    eof_reason = "script ended"

    def __init__(self, lines: Iterable[str], console: Console) -> None:
        self.lines: Iterator[str] = iter(lines)
        self.console = console

    def read(self, prompt: str) -> str:
        for line in self.lines:
            text = line.rstrip("\r\n")
            if not text.strip():
                continue
            if text.lstrip().startswith("#"):
                self.console.print(Text(text.strip(), "dim italic"), soft_wrap=True)
                continue
            self.console.print(
                prompt + printable(text), markup=False, highlight=False, soft_wrap=True
            )
            return text
        raise EOFError

    def confirm(self, question: str) -> bool:
        if not sys.stdin.isatty():
            return True  # nobody to ask: end, and write everything
        try:
            return input(question).strip().lower() in ("y", "yes")
        except (EOFError, KeyboardInterrupt):
            return True


def candidates(drill: Drill, words: Sequence[str]) -> list[str]:
    """What may come next after ``words`` (the complete words typed so far)."""
    if not words:
        return sorted(drill.commands)
    command = BY_NAME.get(words[0].lower())
    if command is None or command.name not in drill.commands:
        return []
    arg = command.arg
    if arg == "component" and command.name == "logs":
        return [*drill.components(), "--grep"] if "--grep" not in words else []
    if len(words) > 1:
        return []
    return {
        "component": drill.components(),
        "change": drill.applied_changes(),
        "cause": [*drill.components(), *drill.applied_changes(), "network", "lb"],
        "target": [*drill.components(), *drill.applied_changes()],
        "duration": list(DURATIONS),
        "command": sorted(drill.commands),
    }.get(arg, [])


def completer(drill: Drill) -> Any:
    """A prompt_toolkit completer over :func:`candidates`."""
    from prompt_toolkit.completion import Completer, Completion

    class DrillCompleter(Completer):
        def get_completions(
            self, document: Document, complete_event: CompleteEvent
        ) -> Iterator[Completion]:
            text = document.text_before_cursor
            words = text.split()
            current = "" if not words or text.endswith(" ") else words.pop()
            for option in candidates(drill, words):
                if option.startswith(current):
                    yield Completion(option, start_position=-len(current))

    return DrillCompleter()


class PromptReader:
    """prompt_toolkit on a terminal: completion, history, and a bar with clock and impact."""

    eof_reason = "end of input"

    def __init__(self, drill: Drill) -> None:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import InMemoryHistory

        self.drill = drill
        self.session: PromptSession[str] = PromptSession(
            history=InMemoryHistory(),
            completer=completer(drill),
            complete_while_typing=False,
            bottom_toolbar=self.toolbar,
            refresh_interval=1.0 if drill.realtime else 0.0,
        )

    def toolbar(self) -> str:
        from sim.drill.render import clock, impact_so_far

        drill = self.drill
        failed, lost = impact_so_far(drill.simulation)
        cur = drill.scenario.traffic.order_value.currency
        when = clock(drill.simulation, drill.projected())
        mode = ""
        if drill.realtime:
            mode = " · paused" if drill.paused else f" · clock {drill.realtime:g}×"
        return (
            f" {when}{mode} · failed checkouts {failed:,.0f} · lost revenue {lost:,.0f} {cur}"
            f" · hints left {drill.hints_left} · Tab completes, `help` lists commands "
        )

    def read(self, prompt: str) -> str:
        return self.session.prompt(prompt)

    def confirm(self, question: str) -> bool:
        from prompt_toolkit import PromptSession

        session: PromptSession[str] = PromptSession()
        try:
            answer = session.prompt(question)
        except (EOFError, KeyboardInterrupt):
            return True
        return answer.strip().lower() in ("y", "yes")


@contextmanager
def held_interrupts() -> Iterator[list[bool]]:
    """Hold Ctrl-C (SIGINT) while the block runs; ``[True]`` afterwards if one came."""
    hit = [False]
    if threading.current_thread() is not threading.main_thread():
        yield hit
        return

    def note(signum: int, frame: Any) -> None:
        hit[0] = True

    previous = signal.signal(signal.SIGINT, note)
    try:
        yield hit
    finally:
        signal.signal(signal.SIGINT, previous)


def play(drill: Drill, reader: Reader, console: Console) -> None:
    """Run ``drill`` from the page to its end, reading lines from ``reader``."""
    with held_interrupts() as hit:
        drill.begin()
    if hit[0] and drill.ended is None and reader.confirm(QUESTION):
        drill.stop("interrupted")
    while drill.ended is None:
        try:
            line = reader.read(drill.prompt())
        except EOFError:
            console.print(Text(f"({reader.eof_reason}: the drill ends as with `quit`)", "dim"))
            drill.stop(reader.eof_reason)
            break
        except KeyboardInterrupt:
            if reader.confirm(QUESTION):
                drill.stop("interrupted")
            continue
        if split(line) is None:
            continue
        with held_interrupts() as hit:
            drill.issue(line)
        if hit[0] and drill.ended is None and reader.confirm(QUESTION):
            drill.stop("interrupted")


__all__ = [
    "QUESTION",
    "LineReader",
    "PromptReader",
    "Reader",
    "ScriptReader",
    "candidates",
    "completer",
    "held_interrupts",
    "play",
]
