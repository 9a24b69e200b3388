"""``chaosdrill run``: simulate a scenario, print the impact, write journal and pictures."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from sim.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_OK,
    err,
    load_or_report,
    out,
    report,
)
from sim.journal import Journal
from sim.report.console import clock
from sim.scenario import Scenario, format_duration, parse_duration
from sim.scenario.vocabulary import responder_names


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="simulate a scenario and write its journal and pictures",
        description=(
            "Simulate SCENARIO (a file, or a name from the scenarios/ catalogue; default: the "
            "seed incident, bad-schema-migration) with a modelled responder on call, and print "
            "what it cost and the responder's scorecard — against nobody responding and against "
            "an oracle that knows the cause, on the same seed. Writes DIR/journal.json, "
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
        help="also write metrics.prom (OpenMetrics), alerts.json (Alertmanager webhook "
        "payloads), logs.jsonl and tickets.jsonl to DIR",
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
    """A progress bar that appears only once a run has taken more than a second."""

    def __init__(self, horizon: float) -> None:
        self.horizon = horizon
        self.started = time.monotonic()
        self.bar: Progress | None = None
        self.task: Any = None

    def __call__(self, now: float) -> None:
        if self.bar is None:
            if time.monotonic() - self.started < 1.0:
                return
            self.bar = Progress(
                TextColumn("simulating"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TimeElapsedColumn(),
                console=err,
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("run", total=self.horizon)
        self.bar.update(self.task, completed=now)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def main(args: argparse.Namespace) -> int:
    loaded = load_or_report(args.scenario)
    if loaded is None:
        return EXIT_INVALID
    scenario = loaded.scenario
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
    seed = scenario.seed if args.seed is None else args.seed
    horizon = args.horizon or scenario.horizon
    baseline = " — baseline: faults removed" if args.faults == "none" else ""
    out.print(
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
    progress.close()
    try:
        written = write_outputs(journal, scenario, args.out, plots=not args.no_plots)
        if args.export is not None:
            from sim.report.exports import write_exports

            written += write_exports(journal, args.export)
    except KeyboardInterrupt:
        # Each file is written atomically: what exists is whole, the rest was never started.
        done = [p.name for p in (args.out / n for n in OUTPUTS) if p.exists()]
        err.print(
            f"interrupted while writing; complete files in {args.out}/: "
            f"{', '.join(done) or 'none'} (seed {seed})"
        )
        return EXIT_INTERRUPTED
    print_summary(journal)
    from sim.report.console import print_scorecard

    print_scorecard(journal, out)
    out.print("wrote " + ", ".join(str(p) for p in written), soft_wrap=True)
    out.print(f"seed: {seed}")
    return EXIT_OK


OUTPUTS = (
    "journal.json",
    "timeline.png",
    "graph.png",
    "report.md",
    "report.html",
    "report-timeline.png",
    "report-phases.png",
)


def write_outputs(journal: Journal, scenario: Scenario, out_dir: Path, plots: bool) -> list[Path]:
    """The journal, then the pictures; each written atomically."""
    written = [journal.write(out_dir / "journal.json")]
    if plots:
        from sim.model.topology import Topology
        from sim.report import component_status, plot_graph, plot_timeline

        topology = Topology(scenario)
        written.append(plot_timeline(journal, out_dir / "timeline.png"))
        status = component_status(journal, topology)
        title = f"{scenario.name} (seed {journal.seed})"
        written.append(plot_graph(topology, out_dir / "graph.png", status, title=title))
        from sim.report.postmortem import write_report

        written += write_report(journal, out_dir)
    return written


def print_summary(journal: Journal) -> None:
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
    if alerts or s.get("pages"):
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
    out.print(table)
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
        out.print(errors)
