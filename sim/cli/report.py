"""``chaosdrill report``: the post-mortem of a run, as Markdown and HTML, from its journal."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sim.atomic import staged_folder
from sim.cli.common import EXIT_INTERRUPTED, EXIT_INVALID, EXIT_OK, REPORT_FILES, err, out


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="write the post-mortem of a run (Markdown and HTML) from its journal",
        description=(
            "Score JOURNAL (a journal.json written by `chaosdrill run`) and write its "
            "post-mortem: DIR/report.md, DIR/report.html (self-contained, pictures embedded), "
            "DIR/report-timeline.png and DIR/report-phases.png."
        ),
    )
    p.add_argument("journal", type=Path, metavar="JOURNAL", help="a run's journal.json")
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="output folder (default: the journal's folder)",
    )
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from sim.journal import FORMAT, Journal

    path: Path = args.journal
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        return _fail(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}")
    except UnicodeDecodeError:
        return _fail(f"{path}: not a chaosdrill journal (not UTF-8 text)")
    except OSError as exc:
        return _fail(f"{path}: cannot read the file: {exc.strerror or exc}")
    if not isinstance(data, dict):
        return _fail(f"{path}: not a chaosdrill journal (not a JSON object)")
    # Journals of an older format (before the response section) still make a report,
    # without the responder's part; anything else is refused.
    found = data.get("format")
    if found != FORMAT and not (isinstance(found, str) and found.startswith(_FAMILY)):
        return _fail(f"{path}: not a chaosdrill journal (format {found!r})")
    try:
        journal = Journal.from_document(data, path.parent)  # a long run's tables lie beside it
    except ValueError as exc:
        return _fail(str(exc))
    from sim.report.postmortem import build_report, write_report

    out_dir: Path = args.out if args.out is not None else path.parent
    try:
        report = build_report(journal)  # an incomplete journal fails before anything is written
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        what = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        return _fail(f"{path}: cannot build the report: {what}")
    try:
        with staged_folder(out_dir, REPORT_FILES) as stage:
            written = [out_dir / p.name for p in write_report(journal, stage, report=report)]
    except KeyboardInterrupt:
        err.print(f"interrupted; nothing was written to {out_dir}/")
        return EXIT_INTERRUPTED
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # e.g. no metrics to plot
        what = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        return _fail(f"{path}: cannot draw the report: {what}")
    out.print("wrote " + ", ".join(str(p) for p in written), soft_wrap=True)
    return EXIT_OK


_FAMILY = "chaosdrill.journal/"


def _fail(message: str) -> int:
    print(" ".join(message.split()), file=sys.stderr)  # one line, whatever the message holds
    return EXIT_INVALID
