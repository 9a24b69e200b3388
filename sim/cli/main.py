"""The ``chaosdrill`` command: one sub-command per module of this package."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sim._version import __version__
from sim.cli import catalogue, drill, graph, replay, report, run, schema, sweep, validate
from sim.cli.common import EXIT_INTERRUPTED, EXIT_USAGE


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="chaosdrill",
        description="Outage drills on a simulated e-commerce shop. Exit codes: 0 ok, "
        "1 invalid input, 2 usage error, 130 interrupted.",
        epilog="Start with: chaosdrill run   (the seed incident, a breaking schema migration)",
    )
    p.add_argument("--version", action="version", version=f"chaosdrill {__version__}")
    sub = p.add_subparsers(title="commands", metavar="COMMAND")
    for module in (run, sweep, validate, catalogue, graph, schema, report, drill, replay):
        module.add_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if not hasattr(args, "func"):
        p.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return code


if __name__ == "__main__":
    sys.exit(main())
