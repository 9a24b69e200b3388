"""``chaosdrill validate``: check scenario files without running them."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sim.cli.common import EXIT_INVALID, EXIT_OK, out, report
from sim.scenario import ScenarioError, load
from sim.scenario.loader import flat_document


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "validate",
        help="check scenario files (exit 0 if all are valid, 1 otherwise)",
        description="Check each FILE's shape and references; print FILE:LINE: field: message "
        "for every problem. A file that extends another (extends:) is checked as the merged "
        "document, each problem at the file and line that wrote it.",
    )
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument(
        "--flat",
        action="store_true",
        help="print each valid FILE as one document, the files it extends merged in (YAML "
        "on stdout; what the simulator runs)",
    )
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    status = EXIT_OK
    for file in args.files:
        try:
            if args.flat:  # validated too: only a valid scenario is printed
                flat = flat_document(file)
            else:
                name = load(file).scenario.name
        except ScenarioError as exc:
            report(exc)
            status = EXIT_INVALID
            continue
        if args.flat:
            sys.stdout.write(f"# {file}, with the files it extends merged in\n---\n{flat}")
        else:
            out.print(f"ok {file} ({name})")
    return status
