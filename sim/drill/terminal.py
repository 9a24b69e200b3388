"""Reading the trainee's lines: a full prompt on a terminal, plain lines otherwise.

On a terminal the prompt is prompt_toolkit's: tab completion of commands and of the names
each takes (components, changes already in the change log, leads), history (up/down, Ctrl-R),
and a bottom bar with the clock and the live impact. Without a terminal (piped stdin,
``--script``) lines are read plainly, and the prompt and each line are echoed so the output
reads as a transcript.

Every line is kept as valid UTF-8 of at most :data:`LINE_LIMIT` bytes (:func:`tidy`): bytes
that are not UTF-8 are replaced, and the rest of a longer line is read and dropped, so that
no input can stop the session from being saved or stall the drill.

Ctrl-C asks whether to end the drill (a second Ctrl-C, or end of input, means yes); Ctrl-D
ends it like ``quit``; SIGTERM ends it without asking. A Ctrl-C or SIGTERM that arrives while
a command runs is held until the command is done, so the simulation is never left half-way
through a step.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
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
LINE_LIMIT = 4096  # bytes of a typed line that the drill keeps


def tidy(line: str | bytes) -> str:
    """A typed line as the drill keeps it: UTF-8, anything invalid (bytes that are not UTF-8,
    lone surrogates) replaced by U+FFFD, cut to :data:`LINE_LIMIT` bytes."""
    raw = line if isinstance(line, bytes) else line.encode("utf-8", "surrogatepass")
    return raw[:LINE_LIMIT].decode("utf-8", "replace")


def read_line(stream: IO[bytes]) -> str | None:
    """The next line of ``stream`` without its line ending, tidied; ``None`` at the end.

    At most :data:`LINE_LIMIT` bytes are kept: the rest of a longer line is read in chunks
    and dropped.
    """
    raw = stream.readline(LINE_LIMIT + 1)
    if not raw:
        return None
    if len(raw) > LINE_LIMIT and not raw.endswith(b"\n"):
        while (rest := stream.readline(1 << 16)) and not rest.endswith(b"\n"):
            pass
    return tidy(raw.rstrip(b"\r\n"))


class Reader(Protocol):
    """Where the drill's lines come from."""

    eof_reason: str

    def read(self, prompt: str) -> str: ...

    def confirm(self, question: str) -> bool: ...


class LineReader:
    """Lines from a byte stream (piped stdin), echoed after the prompt."""

    eof_reason = "end of input"

    def __init__(self, stream: IO[bytes], console: Console, *, echo: bool = True) -> None:
        self.stream = stream
        self.console = console
        self.echo = echo

    def read(self, prompt: str) -> str:
        self.console.print(prompt, end="", markup=False, highlight=False)
        self.console.file.flush()
        line = read_line(self.stream)
        if line is None:
            self.console.print()
            raise EOFError
        if self.echo:
            self.console.print(printable(line), markup=False, highlight=False)
        return line

    def confirm(self, question: str) -> bool:
        self.console.print()
        self.console.print(question, end="", markup=False, highlight=False)
        self.console.file.flush()
        try:
            line = read_line(self.stream)
        except KeyboardInterrupt:
            return True
        if self.echo and line is not None:
            self.console.print(printable(line), markup=False, highlight=False)
        return line is None or line.strip().lower() in ("y", "yes")


class ScriptReader:
    """Commands from a file (``--script``): ``#`` lines are narration, shown dimmed."""

    eof_reason = "script ended"

    def __init__(self, lines: Iterable[str], console: Console) -> None:
        self.lines: Iterator[str] = iter(lines)
        self.console = console

    def read(self, prompt: str) -> str:
        for line in self.lines:
            text = tidy(line.rstrip("\r\n"))
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
        "cause": [*drill.components(), *drill.applied_changes(), *drill.regions(), "network", "lb"],
        "target": [*drill.components(), *drill.applied_changes()],
        "flag": drill.flags(),
        "region": drill.regions(),
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


@dataclass
class Held:
    """What :func:`held_interrupts` held back: ``signal.SIGINT``, ``signal.SIGTERM`` (which
    wins when both came) or ``None``."""

    signal: int | None = None


@contextmanager
def held_interrupts() -> Iterator[Held]:
    """Hold Ctrl-C (SIGINT) and SIGTERM while the block runs; the result says which came."""
    held = Held()
    if threading.current_thread() is not threading.main_thread():
        yield held
        return

    def note(signum: int, frame: Any) -> None:
        held.signal = signal.SIGTERM if signum == signal.SIGTERM else held.signal or signum

    previous = {s: signal.signal(s, note) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield held
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)


def _ends(signum: int, reader: Reader) -> bool:
    """Whether an interruption ends the drill: SIGTERM does, Ctrl-C when the trainee says so."""
    return signum == signal.SIGTERM or reader.confirm(QUESTION)


def play(drill: Drill, reader: Reader, console: Console) -> None:
    """Run ``drill`` from the page to its end, reading lines from ``reader``."""
    with held_interrupts() as held:
        drill.begin()
    if held.signal is not None and drill.ended is None and _ends(held.signal, reader):
        drill.stop("interrupted")
    while drill.ended is None:
        try:
            line = tidy(reader.read(drill.prompt()))
        except EOFError:
            console.print(Text(f"({reader.eof_reason}: the drill ends as with `quit`)", "dim"))
            drill.stop(reader.eof_reason)
            break
        except KeyboardInterrupt as exc:
            # sim.cli.common.terminate raises KeyboardInterrupt(SIGTERM) on SIGTERM
            if _ends(signal.SIGTERM if signal.SIGTERM in exc.args else signal.SIGINT, reader):
                drill.stop("interrupted")
            continue
        if split(line) is None:
            continue
        with held_interrupts() as held:
            drill.issue(line)
        if held.signal is not None and drill.ended is None and _ends(held.signal, reader):
            drill.stop("interrupted")


__all__ = [
    "LINE_LIMIT",
    "QUESTION",
    "Held",
    "LineReader",
    "PromptReader",
    "Reader",
    "ScriptReader",
    "candidates",
    "completer",
    "held_interrupts",
    "play",
    "read_line",
    "tidy",
]
