"""The ``chaosdrill`` command: one sub-command per module of this package."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from sim._version import __version__
from sim.atomic import WriteError
from sim.cli import (
    catalogue,
    drill,
    graph,
    replay,
    report,
    run,
    schema,
    serve,
    sweep,
    validate,
)
from sim.cli.common import EXIT_INTERRUPTED, EXIT_USAGE, EXIT_WRITE, terminate


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="chaosdrill",
        description="Outage drills on a simulated e-commerce shop. Exit codes: 0 ok, "
        "1 invalid input, 2 usage error, 74 an output could not be written, 130 interrupted "
        "(Ctrl-C or SIGTERM).",
        epilog="Start with: chaosdrill run   (the seed incident, a breaking schema migration)",
    )
    p.add_argument("--version", action="version", version=f"chaosdrill {__version__}")
    sub = p.add_subparsers(title="commands", metavar="COMMAND")
    for module in (run, sweep, validate, catalogue, graph, schema, report, drill, replay, serve):
        module.add_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if not hasattr(args, "func"):
        p.print_help(sys.stderr)
        return EXIT_USAGE
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, terminate) if main_thread else None
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except WriteError as exc:
        print(str(exc).replace("\n", " "), file=sys.stderr)  # one line, whatever the path holds
        return EXIT_WRITE
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
    return code


if __name__ == "__main__":
    sys.exit(main())
