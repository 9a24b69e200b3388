"""``chaosdrill validate``: check scenario files without running them."""

from __future__ import annotations

import argparse
from typing import Any

from sim.cli.common import EXIT_INVALID, EXIT_OK, out, report
from sim.scenario import ScenarioError, load


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "validate",
        help="check scenario files (exit 0 if all are valid, 1 otherwise)",
        description="Check each FILE's shape and references; print FILE:LINE: field: message "
        "for every problem.",
    )
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    status = EXIT_OK
    for file in args.files:
        try:
            loaded = load(file)
        except ScenarioError as exc:
            report(exc)
            status = EXIT_INVALID
        else:
            out.print(f"ok {file} ({loaded.scenario.name})")
    return status
