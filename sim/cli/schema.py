"""``chaosdrill schema``: print the scenario JSON Schema for editors."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sim.atomic import write_text, writing
from sim.cli.common import EXIT_OK


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "schema",
        help="print the JSON Schema of scenario files",
        description="Print the JSON Schema of scenario files, for editor completion "
        "(e.g. a yaml-language-server $schema comment).",
    )
    p.add_argument(
        "--out", type=Path, metavar="FILE", help="write to FILE (atomically) instead of stdout"
    )
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from sim.scenario.schema.scenario import file_json_schema

    schema = file_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "chaosdrill scenario"
    text = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    if args.out:
        with writing(args.out):
            write_text(args.out, text)
    else:
        print(text, end="")
    return EXIT_OK
