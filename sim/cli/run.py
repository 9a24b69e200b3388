"""``chaosdrill run``: simulate a scenario, print the impact, write journal and pictures.

With ``--json`` the result is one JSON object on stdout (:data:`RESULT_FORMAT`, described in
docs/cli.md) and everything meant for people goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from sim._version import __version__
from sim.atomic import staged_folder
from sim.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_OK,
    JOURNAL_FILES,
    REPORT_FILES,
    engine_refusal,
    err,
    load_or_report,
    out,
    report,
)
from sim.journal import Journal
from sim.journal.record import table_file
from sim.report.console import clock
from sim.scenario import Scenario, format_duration, parse_duration
from sim.scenario.vocabulary import responder_names

RESULT_FORMAT = "chaosdrill.run-result/1"


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="simulate a scenario and write its journal and pictures",
        description=(
            "Simulate SCENARIO (a file, or a name from the scenarios/ catalogue; default: the "
            "seed incident, bad-schema-migration) with a modelled responder on call, and print "
            "what it cost and the responder's scorecard — against nobody responding and against "
            "an oracle that knows the cause, on the same seed. Writes DIR/journal.json (a "
            "long run's metrics tables beside it, as DIR/journal.*.parquet), "
            "DIR/timeline.png, DIR/graph.png and the post-mortem DIR/report.md and "
            "DIR/report.html."
        ),
    )
    p.add_argument("scenario", nargs="?", help="scenario file or catalogue name")
    p.add_argument("--seed", type=int, help="random seed (default: the scenario's)")
    p.add_argument("--horizon", type=_duration, help="simulated time to run, e.g. 30m, 2h")
    p.add_argument(
        "--out", type=Path, default=Path("out"), metavar="DIR", help="output folder (default: out/)"
    )
    p.add_argument(
        "--responder",
        metavar="NAME",
        help="who takes the pager: seed, changes-first, experienced, novice, oracle, scripted "
        "(the scenario's actions: block), none, or a runbook of the scenario (default: the "
        "scenario's response.responder, usually seed)",
    )
    p.add_argument(
        "--runbook",
        type=Path,
        metavar="FILE",
        help="a runbook YAML file to follow instead (see docs/response.md)",
    )
    p.add_argument(
        "--engine",
        choices=("request", "flow"),
        default="request",
        help="request: every request simulated (default); flow: per-step flows, several times "
        "faster, fewer distinct log lines (docs/engines.md)",
    )
    p.add_argument(
        "--no-counterfactuals",
        action="store_true",
        help="skip the do-nothing and oracle runs of the same seed (faster; no savings shown)",
    )
    p.add_argument(
        "--no-plots", action="store_true", help="write the journal only (no pictures, no report)"
    )
    p.add_argument(
        "--faults",
        choices=("all", "none"),
        default="all",
        help="none: the baseline — every fault removed (and the scripted actions, which "
        "answer them) — to count false alarms; a runbook responder still answers any page "
        "(default: all)",
    )
    p.add_argument(
        "--export",
        type=Path,
        metavar="DIR",
        help="also write metrics.prom (OpenMetrics), metrics.txt (Prometheus text), alerts.json "
        "(Alertmanager webhook payloads), logs.jsonl and tickets.jsonl to DIR",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help=f"print the result as one JSON object on stdout ({RESULT_FORMAT}: summary, "
        "detection, phases, score; docs/cli.md); the rest goes to stderr",
    )
    p.set_defaults(func=main)


def _duration(text: str) -> float:
    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError("expected a duration above zero")
    return value


class _LazyProgress:
    """A progress bar that appears only once a run has taken more than a second (and only on
    a terminal: elsewhere it would leave nothing but an empty line).

    It follows the slowest of the runs under way (the counterfactual runs included), then
    says what is being done once the simulation is over: recording the journal, writing the
    outputs.
    """

    def __init__(self, horizon: float) -> None:
        self.horizon = horizon
        self.started = time.monotonic()
        self.bar: Progress | None = None
        self.task: Any = None

    def __call__(self, now: float) -> None:
        if self.bar is None:
            if not err.is_terminal or time.monotonic() - self.started < 1.0:
                return
            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TimeElapsedColumn(),
                console=err,
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("simulating", total=self.horizon)
        done = now >= self.horizon
        self.bar.update(self.task, completed=now, description="recording" if done else "simulating")

    def stage(self, description: str) -> None:
        """Show ``description`` beside the full bar (if it is shown)."""
        if self.bar is not None:
            self.bar.update(self.task, completed=self.horizon, description=description)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def main(args: argparse.Namespace) -> int:
    loaded = load_or_report(args.scenario)
    if loaded is None:
        return EXIT_INVALID
    scenario = loaded.scenario
    refusal = engine_refusal(scenario, args.engine)
    if refusal is not None:
        err.print(f"run: {refusal}", markup=False, soft_wrap=True)
        return EXIT_INVALID
    runbook = None
    if args.runbook is not None:
        from sim.scenario import ScenarioError
        from sim.scenario.runbooks import load_runbook

        try:
            runbook = load_runbook(args.runbook, scenario)
        except ScenarioError as exc:
            report(exc)
            return EXIT_INVALID
    responder = (
        runbook.name if runbook is not None else args.responder or scenario.response.responder
    )
    known = responder_names(scenario)
    if runbook is None and responder not in known:
        from sim.scenario.messages import did_you_mean

        err.print(
            f"--responder: no responder named {responder!r}{did_you_mean(responder, known)} "
            f"(known: {', '.join(known)})",
            soft_wrap=True,
        )
        return EXIT_INVALID
    people = err if args.json else out  # with --json, stdout carries the JSON object only
    seed = scenario.seed if args.seed is None else args.seed
    horizon = args.horizon or scenario.horizon
    baseline = " — baseline: faults removed" if args.faults == "none" else ""
    people.print(
        f"[bold]{scenario.name}[/] — seed {seed}, horizon {format_duration(horizon)}, "
        f"engine {args.engine}, responder {responder}{baseline}"
    )
    from sim.runner import run

    progress = _LazyProgress(horizon)
    try:
        journal = run(
            scenario,
            seed,
            horizon=horizon,
            source=loaded.path,
            source_sha256=loaded.sha256,
            faults=args.faults == "all",
            responder=responder,
            runbook=runbook,
            counterfactuals=not args.no_counterfactuals,
            progress=progress,
            engine=args.engine,
        )
    except KeyboardInterrupt:
        progress.close()
        err.print(f"interrupted; nothing was written to {args.out}/ (seed {seed})")
        return EXIT_INTERRUPTED
    progress.stage("writing")
    written: list[Path] = []
    try:
        written = write_outputs(journal, scenario, args.out, plots=not args.no_plots)
        if args.export is not None:
            from sim.report.exports import write_exports

            written += write_exports(journal, args.export)
    except KeyboardInterrupt:
        progress.close()
        # Each folder is written whole or not at all (sim.atomic.staged_folder).
        done = f"{args.out}/ was written; " if written else ""
        where = args.export if written else args.out
        err.print(f"interrupted while writing; {done}nothing was written to {where}/ (seed {seed})")
        return EXIT_INTERRUPTED
    finally:
        progress.close()
    print_summary(journal, people)
    from sim.report.console import print_scorecard

    print_scorecard(journal, people)
    people.print("wrote " + ", ".join(str(p) for p in written), soft_wrap=True)
    people.print(f"seed: {seed}")
    if args.json:
        print(json.dumps(run_result(journal, written), indent=2))
    return EXIT_OK


OUTPUTS = (
    *JOURNAL_FILES,
    "timeline.png",
    "graph.png",
    *REPORT_FILES,
)


def write_outputs(journal: Journal, scenario: Scenario, out_dir: Path, plots: bool) -> list[Path]:
    """The journal, then the pictures and the post-mortem, into ``out_dir`` as one whole.

    They are written into a fresh temporary folder that moves into place at the end
    (:func:`sim.atomic.staged_folder`): files an earlier run left in ``out_dir`` under these
    names go, so the folder never mixes runs. Returns the paths in ``out_dir``.
    """
    with staged_folder(out_dir, OUTPUTS) as stage:
        written = [journal.write(stage / "journal.json")]
        written += [stage / table_file("journal", t.name) for t in journal.stored_tables()]
        if plots:
            from sim.model.topology import Topology
            from sim.report import component_status, plot_graph
            from sim.report.postmortem import TIMELINE_PNG, write_report

            report = write_report(journal, stage)
            # timeline.png is the report's timeline: drawn once (a second of every run), copied
            timeline = stage / "timeline.png"
            shutil.copyfile(stage / TIMELINE_PNG, timeline)
            written.append(timeline)
            topology = Topology(scenario)
            status = component_status(journal, topology)
            title = f"{scenario.name} (seed {journal.seed})"
            written.append(plot_graph(topology, stage / "graph.png", status, title=title))
            written += report
    return [out_dir / p.name for p in written]


SUMMARY_KEYS = (
    "errors_started",
    "errors_stopped",
    "peak_error_ratio",
    "requests",
    "failed_requests",
    "error_ratio",
    "checkout_attempts",
    "failed_checkouts",
    "sessions",
    "failed_sessions",
    "orders",
    "revenue",
    "lost_revenue",
)


def run_result(journal: Journal, written: Sequence[Path]) -> dict[str, Any]:
    """The ``--json`` object (:data:`RESULT_FORMAT`); times in simulated seconds since the start."""
    from sim.scoring import score

    data, s = journal.data, journal.summary
    card = score(journal)
    alerts = data.get("alerts", [])
    phases = {name: phase.to_dict() for name, phase in card.phases.items()}
    weights = sum(card.weights.values())
    return {
        "format": RESULT_FORMAT,
        "chaosdrill": __version__,
        "scenario": {k: data["scenario"][k] for k in ("name", "path", "sha256")},
        "seed": journal.seed,
        "horizon": data["horizon"],
        "engine": data["engine"],
        "responder": card.responder,
        "faults": "all" if data["faults_enabled"] else "none",
        "clock_start": data["clock_start"],
        "currency": data["currency"],
        "summary": {key: s[key] for key in SUMMARY_KEYS},
        "alerts": {
            "fired": len(alerts),
            "critical": sum(a["severity"] == "critical" for a in alerts),
            "pages": s["pages"],
            "tickets": s["tickets"],
        },
        "detection": {
            "at": s["detected_at"],
            "channel": s["detection_channel"],
            "time_to_detect": s["time_to_detect"],
            "acknowledged_at": s["acknowledged_at"],
        },
        "phases": {name: {k: v for k, v in p.items() if k != "name"} for name, p in phases.items()},
        "score": {
            "total": card.score,
            "parts": {
                name: {
                    "weight": card.weights.get(name, 0.0),
                    "fraction": fraction,
                    "earned": round(100 * card.weights.get(name, 0.0) * fraction / weights, 6),
                }
                for name, fraction in card.parts.items()
            },
        },
        "counterfactual": card.counterfactual,
        "files": [str(p) for p in written],
    }


def print_summary(journal: Journal, console: Console = out) -> None:
    """The impact of a run, as an on-call engineer would want it first."""
    s = journal.summary
    cur = journal.data["currency"]
    started, stopped = s["errors_started"], s["errors_stopped"]
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("errors started", clock(journal, started) if started is not None else "never")
    if started is not None:
        table.add_row(
            "errors stopped",
            clock(journal, stopped) if stopped is not None else "still failing at the horizon",
        )
        table.add_row("peak error ratio", f"{s['peak_error_ratio']:.1%}")
    if s.get("detected_at") is not None:
        ttd = s["time_to_detect"]
        after = f", {format_duration(ttd)} after errors began" if ttd is not None else ""
        table.add_row(
            "detected", f"{clock(journal, s['detected_at'])} by {s['detection_channel']}{after}"
        )
    elif started is not None:
        table.add_row("detected", "not detected within the horizon")
    if s.get("acknowledged_at") is not None:
        table.add_row("acknowledged", clock(journal, s["acknowledged_at"]))
    alerts = journal.data.get("alerts", [])
    if alerts or s.get("pages") or not journal.data["faults_enabled"]:  # a baseline counts them
        critical = sum(a["severity"] == "critical" for a in alerts)
        table.add_row(
            "alerts",
            f"{len(alerts)} fired ({critical} critical), {s['pages']} page(s), "
            f"{s['tickets']:,} support tickets",
        )
    table.add_row(
        "requests", f"{s['requests']:,} ({s['failed_requests']:,} failed, {s['error_ratio']:.2%})"
    )
    table.add_row("checkouts", f"{s['checkout_attempts']:,} ({s['failed_checkouts']:,} failed)")
    table.add_row("sessions", f"{s['sessions']:,} ({s['failed_sessions']:,} gave up after errors)")
    table.add_row("orders", f"{s['orders']:,} — revenue {s['revenue']:,.0f} {cur}")
    table.add_row("lost revenue", f"{s['lost_revenue']:,.0f} {cur}")
    console.print(table)
    if s["first_errors"]:
        errors = Table(title="first errors seen by shoppers", title_justify="left")
        for col in ("time", "endpoint", "error", "message"):
            errors.add_column(col)
        for e in s["first_errors"][:8]:
            errors.add_row(
                clock(journal, e["first_seen"]).split(" ")[0],
                e["endpoint"],
                e["error_class"],
                e["message"],
            )
        console.print(errors)
