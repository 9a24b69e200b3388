"""Scenarios and their runs, each loaded or run once: the cache behind the pytest plugin's
items and ``drill_run`` fixture, with the journal and post-mortem of a run written on demand.

A run is keyed by the scenario's content hash, the seed, the responder, the horizon and
whether faults are on, so two tests that ask for the same drill share one run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.expect.overrides import overridden, overrides_key

if TYPE_CHECKING:
    from sim.journal import Journal
    from sim.scenario.schema import Scenario
    from sim.scoring import Scorecard

RunKey = tuple[str, int, str, float | None, bool]


@dataclass(frozen=True)
class Loaded:
    """A validated scenario and the file it came from (``path`` None for an object)."""

    scenario: Scenario
    path: Path | None
    sha256: str | None
    lines: Mapping[tuple[str | int, ...], int] = field(default_factory=dict)


def shown_path(path: Path) -> str:
    """A path as a person would type it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def run_label(scenario: Scenario, seed: int, responder: str, faults: bool) -> str:
    """The report folder of a run: ``bad-schema-migration-seed3`` (``-baseline``, and the
    responder when it is not the scenario's own)."""
    parts = [scenario.name, *(["baseline"] if not faults else []), f"seed{seed}"]
    if responder != scenario.response.responder:
        parts.append(responder)
    return "-".join(parts)


def check_responder(scenario: Scenario, name: str) -> None:
    """Refuse an unknown responder with the names that exist (and a did-you-mean)."""
    from sim.scenario.vocabulary import responder_names

    known = responder_names(scenario)
    if name not in known:
        from sim.scenario.messages import did_you_mean

        raise ValueError(
            f"no responder named {name!r}{did_you_mean(name, known)} (known: {', '.join(known)})"
        )


class RunCache:
    """Scenarios loaded, runs, scorecards and written reports, each once.

    Reports go into ``report_dir()``: the folder given, else a new temporary folder.
    """

    def __init__(self, report_dir: Path | None = None) -> None:
        self._folder = report_dir
        self._loaded: dict[tuple[str, str], Loaded] = {}
        self._runs: dict[RunKey, Journal] = {}
        self._cards: dict[RunKey, Scorecard] = {}
        self._reports: dict[RunKey, Path] = {}
        self.written: list[Path] = []

    def report_dir(self) -> Path:
        """Where reports go (made on first use)."""
        if self._folder is None:
            import tempfile

            self._folder = Path(tempfile.mkdtemp(prefix="chaosdrill-"))
        return self._folder

    # scenarios
    def load(self, path: Path, overrides: Mapping[Any, Any] | None = None) -> Loaded:
        """The scenario at ``path`` with ``overrides`` applied; raises ScenarioError."""
        import hashlib

        from sim.scenario import ScenarioError
        from sim.scenario.errors import Problem
        from sim.scenario.loader import digest, scenario_source, validate_source

        file = shown_path(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            problem = Problem(file, 1, (), f"cannot read the file: {exc.strerror}")
            raise ScenarioError([problem]) from None
        key = (str(path.resolve()), hashlib.sha256(raw).hexdigest() + overrides_key(overrides))
        if key in self._loaded:
            return self._loaded[key]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise ScenarioError([Problem(file, line, (), "expected UTF-8 text")]) from None
        source, bases = scenario_source(text, file)
        scenario = validate_source(source)
        if overrides:
            scenario = overridden(scenario, overrides, file, source.lines)
        sha = None if overrides else digest(raw, bases)
        loaded = Loaded(scenario, path, sha, dict(source.lines))
        self._loaded[key] = loaded
        return loaded

    def load_object(self, scenario: Scenario, overrides: Mapping[Any, Any] | None) -> Loaded:
        """A scenario given as an object, with ``overrides`` applied; raises ScenarioError."""
        if not overrides:
            return Loaded(scenario, None, None)
        return Loaded(overridden(scenario, overrides), None, None)

    # runs
    def run(
        self,
        loaded: Loaded,
        seed: int,
        responder: str | None = None,
        horizon: float | None = None,
        faults: bool = True,
    ) -> tuple[RunKey, Journal]:
        """The run's key and journal (``responder`` None: the scenario's own)."""
        from sim.runner import run, scenario_hash

        scenario = loaded.scenario
        name = responder or scenario.response.responder
        check_responder(scenario, name)
        key: RunKey = (scenario_hash(scenario), seed, name, horizon, faults)
        if key not in self._runs:
            self._runs[key] = run(
                scenario,
                seed,
                horizon=horizon,
                faults=faults,
                responder=name,
                source=None if loaded.path is None else shown_path(loaded.path),
                source_sha256=loaded.sha256,
            )
        return key, self._runs[key]

    def journal(self, key: RunKey) -> Journal | None:
        """The journal of the run ``key``, if it was run."""
        return self._runs.get(key)

    def scorecard(self, key: RunKey) -> Scorecard:
        """The scorecard of the run ``key`` (scored once)."""
        if key not in self._cards:
            from sim.scoring import score

            self._cards[key] = score(self._runs[key])
        return self._cards[key]

    def write_report(self, key: RunKey, label: str) -> Path:
        """Write the run's journal.json and post-mortem once; return the report.html path."""
        if key in self._reports:
            return self._reports[key]
        root = self.report_dir()
        taken = {p.parent for p in self._reports.values()}
        folder = root / label
        n = 1
        while folder in taken:
            n += 1
            folder = root / f"{label}-{n}"
        folder.mkdir(parents=True, exist_ok=True)
        journal = self._runs[key]
        journal.write(folder / "journal.json")
        from sim.report.postmortem import REPORT_HTML, write_report

        try:
            write_report(journal, folder, report=None)
            target = folder / REPORT_HTML
        except Exception as exc:  # the failure must still be shown; the journal is there
            target = folder / "journal.json"
            (folder / "report-error.txt").write_text(f"{type(exc).__name__}: {exc}\n")
        self._reports[key] = target
        self.written.append(target)
        return target
