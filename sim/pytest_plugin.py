"""chaosdrill's pytest plugin: scenario expectations as tests, and fixtures to run drills.

Registered under the ``pytest11`` entry point as ``chaosdrill``, so it loads in every pytest
session of an environment where chaosdrill is installed (``-p no:chaosdrill`` turns it off).
Importing it must stay cheap: this module imports only pytest, the standard library and
:mod:`sim.expect` (itself standard library only) at module level; the rest of ``sim``
(pydantic, the engine, scoring, reports) is imported inside the hooks and fixtures that need
it, and only when a session uses them.

What it provides (the how-to is docs/regression.md):

- **Scenario files as tests.** A ``*.yaml``/``*.yml`` file with a top-level ``expect:`` key is
  collected: ``FILE::seed[N]`` per seed for ``expect.each``, ``FILE::p50`` and ``FILE::p90``
  over all seeds, ``FILE::baseline`` for the run with every fault removed. A file whose
  ``expect:`` (or anything else) does not validate becomes one failing item, ``FILE::validate``,
  whose message is the file:line problems.
- **Fixtures.** ``drill_run`` (a callable returning a run's journal, runs cached per session)
  and ``chaosdrill_seed`` (parametrised over the seeds of ``@pytest.mark.scenario(...,
  seeds=...)`` or ``--chaosdrill-seeds``).
- **Options** ``--chaosdrill-seeds``, ``--chaosdrill-responder``, ``--chaosdrill-report-dir``
  (ini: ``chaosdrill_seeds``, ``chaosdrill_responder``, ``chaosdrill_report_dir``).
- **Failure messages** in human units, with the path of the post-mortem written for the
  failing run: ``resolved within 45m expected, got 52m10s at seed 3 — report: …/report.html``.

The logic that is not pytest's lives in :mod:`sim.expect` (seed lists, checking a run against
a bound, overrides, the run cache); this module holds the hooks, items, options and fixtures.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from sim.expect.checks import (
    Check,
    Measure,
    bound_text,
    given_bounds,
    measure,
    meets,
    outcome_text,
    phase_note,
    quantile_run,
    short_text,
)
from sim.expect.runs import Loaded, RunCache, RunKey, check_responder, run_label, shown_path
from sim.expect.seeds import as_seeds, format_seeds, parse_seeds

if TYPE_CHECKING:
    from sim.journal import Journal
    from sim.scenario.schema import RunBounds, Scenario

DEFAULT_SEED = 7  # the seed incident's own seed: chaosdrill_seed when nothing else says
MARKER = "scenario"
_EXPECT_KEY = re.compile(rb"^expect[ \t]*:", re.MULTILINE)


# -- options and session state -----------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chaosdrill", "chaosdrill outage drills")
    group.addoption(
        "--chaosdrill-seeds",
        metavar="SEEDS",
        help="Seeds for every drill, e.g. 1-10 or 3,5,8; overrides expect.seeds, marker "
        "seeds and chaosdrill_seed's default.",
    )
    group.addoption(
        "--chaosdrill-responder",
        metavar="NAME",
        help="Responder for every drill (seed, changes-first, experienced, novice, oracle, "
        "scripted, none or a runbook of the scenario); overrides expect.responder and markers.",
    )
    group.addoption(
        "--chaosdrill-report-dir",
        metavar="DIR",
        help="Where failing runs' journal.json and post-mortem go "
        "(default: chaosdrill/ under pytest's basetemp).",
    )
    parser.addini("chaosdrill_seeds", "Default for --chaosdrill-seeds.", default="")
    parser.addini("chaosdrill_responder", "Default for --chaosdrill-responder.", default="")
    parser.addini(
        "chaosdrill_report_dir",
        "Default for --chaosdrill-report-dir (relative to the ini file).",
        default="",
    )


@dataclass(frozen=True)
class Settings:
    """The options of this session, parsed once."""

    seeds: tuple[int, ...] | None
    seeds_from: str
    responder: str | None
    report_dir: Path | None


def _settings(config: pytest.Config) -> Settings:
    base = config.inipath.parent if config.inipath else config.rootpath
    seeds_opt = config.getoption("chaosdrill_seeds")
    seeds_ini = str(config.getini("chaosdrill_seeds") or "").strip()
    seeds = None
    source = ""
    if seeds_opt or seeds_ini:
        source = "--chaosdrill-seeds" if seeds_opt else "the chaosdrill_seeds ini option"
        try:
            seeds = parse_seeds(seeds_opt or seeds_ini)
        except ValueError as exc:
            raise pytest.UsageError(f"{source}: {exc}") from None
    responder = config.getoption("chaosdrill_responder") or str(
        config.getini("chaosdrill_responder") or ""
    )
    report_opt = config.getoption("chaosdrill_report_dir")
    report_ini = str(config.getini("chaosdrill_report_dir") or "")
    if report_opt:
        report_dir: Path | None = config.invocation_params.dir / Path(report_opt).expanduser()
    elif report_ini:
        report_dir = base / Path(report_ini).expanduser()
    else:
        report_dir = None
    return Settings(seeds, source, responder.strip() or None, report_dir)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(path, seeds=None, responder=None): the chaosdrill scenario this test "
        "drills (a path relative to the test file, or a catalogue name); chaosdrill_seed is "
        "parametrised over seeds (a list, a count, or '1-10').",
    )
    config.stash[_DRILLS] = Drills(config, _settings(config))


def _drills(config: pytest.Config) -> Drills:
    return config.stash[_DRILLS]


def _version(config: pytest.Config) -> str:
    for plugin, dist in config.pluginmanager.list_plugin_distinfo():
        if getattr(plugin, "__name__", None) == __name__:
            return f"chaosdrill {dist.version}"
    return "chaosdrill"


def pytest_report_header(config: pytest.Config) -> list[str]:
    settings = _drills(config).settings
    if settings.seeds is not None:
        seeds = f"seeds {format_seeds(settings.seeds)} (from {settings.seeds_from})"
    else:
        seeds = "seeds from each scenario's expect.seeds or marker (default: its seed)"
    responder = f", responder {settings.responder}" if settings.responder else ""
    return [
        f"{_version(config)}: {seeds}{responder}, reports in {_drills(config).report_dir_text()}"
    ]


def pytest_report_collectionfinish(
    config: pytest.Config, start_path: Path, items: Sequence[pytest.Item]
) -> list[str]:
    return [f"chaosdrill: {line}" for line in _drills(config).plans]


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    written = _drills(config).written
    if written:
        folder = _drills(config).report_dir()
        terminalreporter.write_line(
            f"chaosdrill: journal and post-mortem of {len(written)} failing run"
            f"{'s' if len(written) != 1 else ''} in {folder}"
        )


# -- session state: the run cache with pytest's report folder ---------------------------
class Drills(RunCache):
    """This session's scenarios, runs, scorecards and written reports, with the options and
    the plan of each scenario file (shown after collection)."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        super().__init__(settings.report_dir)
        self.config = config
        self.settings = settings
        self.plans: list[str] = []

    def report_dir(self) -> Path:
        """The report-dir option, else ``chaosdrill/`` under pytest's basetemp."""
        if self._folder is None:
            factory = getattr(self.config, "_tmp_path_factory", None)
            if factory is not None:
                self._folder = Path(factory.getbasetemp()) / "chaosdrill"
        return super().report_dir()  # a temporary folder when the tmp_path plugin is off

    def report_dir_text(self) -> str:
        if self.settings.report_dir is not None:
            return str(self.settings.report_dir)
        basetemp = self.config.getoption("basetemp", None)
        if basetemp:
            return str(Path(basetemp).resolve() / "chaosdrill")
        return "<pytest basetemp>/chaosdrill (printed at the end if a run fails)"


_DRILLS = pytest.StashKey[Drills]()


# -- collection: scenario files as tests -------------------------------------------------
def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    try:
        head = file_path.read_bytes()
    except OSError:
        return None
    if not _EXPECT_KEY.search(head):
        return None
    file: ScenarioFile = ScenarioFile.from_parent(parent, path=file_path)
    return file


class ExpectationFailed(Exception):
    """Expectations not met; the message is the whole failure text."""


class ScenarioFile(pytest.File):
    """A scenario file with an ``expect:`` block: one item per seed, p50, p90, baseline."""

    def collect(self) -> Iterator[pytest.Item]:
        from sim.scenario import ScenarioError

        drills = _drills(self.config)
        try:
            loaded = drills.load(self.path)
        except ScenarioError as exc:
            yield InvalidScenario.from_parent(self, name="validate", problems=str(exc))
            return
        expect = loaded.scenario.expect
        if expect is None:  # e.g. ``expect: null``
            return
        settings = drills.settings
        seeds = settings.seeds or expect.seeds or (loaded.scenario.seed,)
        responder = settings.responder or expect.responder or loaded.scenario.response.responder
        plan = Plan(loaded, tuple(seeds), responder)
        drills.plans.append(
            f"{shown_path(self.path)}: seeds {format_seeds(plan.seeds)}, responder {responder}"
        )
        if expect.each is not None:
            for seed in plan.seeds:
                yield ExpectationItem.from_parent(
                    self, name=f"seed[{seed}]", plan=plan, block="each", seeds=(seed,)
                )
        for block in ("p50", "p90"):
            if getattr(expect, block) is not None:
                yield ExpectationItem.from_parent(self, name=block, plan=plan, block=block)
        if expect.baseline is not None:
            yield ExpectationItem.from_parent(
                self, name="baseline", plan=plan, block="baseline", seeds=plan.seeds[:1]
            )


@dataclass(frozen=True)
class Plan:
    """What a scenario file's items run: the scenario, its seeds and the responder."""

    loaded: Loaded
    seeds: tuple[int, ...]
    responder: str


class InvalidScenario(pytest.Item):
    """A scenario file with an ``expect:`` block that does not validate: one failing item."""

    def __init__(self, *, problems: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.problems = problems

    def runtest(self) -> None:
        raise ExpectationFailed(self.problems)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ExpectationFailed):
            return (
                f"{excinfo.value}\n(the scenario does not validate, so no expectation was checked)"
            )
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        match = re.search(r":(\d+): ", self.problems)
        return self.path, int(match[1]) - 1 if match else None, self.name


class ExpectationItem(pytest.Item):
    """One block of ``expect:`` checked against runs: a seed of ``each``, p50, p90, baseline."""

    def __init__(
        self, *, plan: Plan, block: str, seeds: tuple[int, ...] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.plan = plan
        self.block = block
        self.seeds = seeds if seeds is not None else plan.seeds

    @property
    def bounds(self) -> RunBounds:
        expect = self.plan.loaded.scenario.expect
        assert expect is not None
        bounds: RunBounds | None = getattr(expect, self.block)
        assert bounds is not None
        return bounds

    def runtest(self) -> None:
        drills = _drills(self.config)
        scenario = self.plan.loaded.scenario
        faults = self.block != "baseline"
        try:  # an unknown responder given on the command line
            check_responder(scenario, self.plan.responder)
        except ValueError as exc:
            raise ExpectationFailed(str(exc)) from None
        runs = [
            drills.run(self.plan.loaded, seed, self.plan.responder, faults=faults)
            for seed in self.seeds
        ]
        checks = given_bounds(self.bounds)
        currency = scenario.traffic.order_value.currency
        misses: list[str] = []
        for check, bound in checks:
            measures = [measure(check, j, drills.scorecard(k)) for k, j in runs]
            if self.block in ("p50", "p90"):
                q = 0.5 if self.block == "p50" else 0.9
                at = quantile_run(check, measures, q)
                if not meets(check, bound, measures[at]):
                    misses.append(self._stat_miss(check, bound, runs, measures, at, currency))
                continue
            for (key, journal), m in zip(runs, measures, strict=True):
                if not meets(check, bound, m):
                    report = drills.write_report(key, self._label(journal, faults))
                    where = "in the baseline (faults removed) at" if not faults else "at"
                    line = (
                        f"{bound_text(check, bound, currency)} expected, "
                        f"{outcome_text(check, m, journal, currency)} {where} seed "
                        f"{journal.seed} — report: {report}"
                    )
                    note = phase_note(check, drills.scorecard(key))
                    misses.append(line + (f"\n    {note}" if note else ""))
        if misses:
            what = {"each": "", "p50": "p50 ", "p90": "p90 ", "baseline": "baseline "}[self.block]
            tail = (
                f"{len(misses)} of {len(checks)} {what}expectation"
                f"{'s' if len(checks) != 1 else ''} of {self.path.name} not met "
                f"(seed{'s' if len(self.seeds) > 1 else ''} {format_seeds(self.seeds)}, "
                f"responder {self.plan.responder})"
            )
            raise ExpectationFailed("\n".join([*misses, tail]))

    def _label(self, journal: Journal, faults: bool) -> str:
        return run_label(self.plan.loaded.scenario, journal.seed, self.plan.responder, faults)

    def _stat_miss(
        self,
        check: Check,
        bound: float,
        runs: Sequence[tuple[RunKey, Journal]],
        measures: Sequence[Measure],
        at: int,
        currency: str,
    ) -> str:
        drills = _drills(self.config)
        key, journal = runs[at]
        report = drills.write_report(key, self._label(journal, True))
        per_seed = ", ".join(
            f"{j.seed}: {short_text(check, m, currency)}"
            for (_, j), m in zip(runs, measures, strict=True)
        )
        return (
            f"{self.block}: {bound_text(check, bound, currency)} expected, "
            f"{outcome_text(check, measures[at], journal, currency)} at seed {journal.seed} "
            f"(the {self.block} of seeds {format_seeds([j.seed for _, j in runs])}) "
            f"— report: {report}\n    per seed: {per_seed}"
        )

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ExpectationFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        lines = self.plan.loaded.lines
        line = lines.get(("expect", self.block)) or lines.get(("expect",))
        return self.path, None if line is None else line - 1, self.name


# -- fixtures and the marker -------------------------------------------------------------
def _marker_args(marker: pytest.Mark) -> tuple[Any, Any, Any]:
    """``(path, seeds, responder)`` of ``@pytest.mark.scenario(path, seeds=…, responder=…)``."""
    args = list(marker.args)
    path = args[0] if args else marker.kwargs.get("path")
    seeds = args[1] if len(args) > 1 else marker.kwargs.get("seeds")
    responder = args[2] if len(args) > 2 else marker.kwargs.get("responder")
    unknown = set(marker.kwargs) - {"path", "seeds", "responder"}
    if unknown:
        raise TypeError(
            f"@pytest.mark.{MARKER}: unknown argument {sorted(unknown)[0]!r} "
            "(expected path, seeds, responder)"
        )
    return path, seeds, responder


def _seed_fixture_is_ours(metafunc: pytest.Metafunc) -> bool:
    defs = getattr(metafunc, "_arg2fixturedefs", {}).get("chaosdrill_seed")
    if not defs:
        return True
    func = getattr(defs[-1], "func", None)
    return getattr(func, "__module__", None) == __name__


def _parametrized_by_test(metafunc: pytest.Metafunc, name: str) -> bool:
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0] if mark.args else mark.kwargs.get("argnames", ())
        if isinstance(names, str):
            names = [n.strip() for n in names.split(",")]
        if name in names:
            return True
    return False


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "chaosdrill_seed" not in metafunc.fixturenames:
        return
    if _parametrized_by_test(metafunc, "chaosdrill_seed") or not _seed_fixture_is_ours(metafunc):
        return
    seeds = _drills(metafunc.config).settings.seeds
    if seeds is None:
        marker = metafunc.definition.get_closest_marker(MARKER)
        if marker is None:
            return
        given = _marker_args(marker)[1]
        if given is None:
            return
        seeds = as_seeds(given, f"@pytest.mark.{MARKER} seeds")
    metafunc.parametrize(
        "chaosdrill_seed", list(seeds), indirect=True, ids=[f"seed{s}" for s in seeds]
    )


def _scenario_path(given: str | os.PathLike[str], base: Path) -> Path:
    """A path relative to the test file's folder or the working directory, or a catalogue
    name (``payment-provider-outage``)."""
    path = Path(given)
    if path.is_absolute():
        return path
    for candidate in (base / path, Path.cwd() / path):
        if candidate.is_file():
            return candidate
    from sim.scenario.catalogue import resolve

    return resolve(str(given))


@pytest.fixture
def chaosdrill_seed(request: pytest.FixtureRequest) -> int:
    """The seed of this test's drill: a seed of the marker or ``--chaosdrill-seeds`` (the test
    is parametrised over them), else the marker scenario's own seed, else 7. Define your
    own ``chaosdrill_seed`` fixture to choose it yourself."""
    param = getattr(request, "param", None)
    if param is not None:
        return int(param)
    drills = _drills(request.config)
    if drills.settings.seeds:
        return drills.settings.seeds[0]
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None:
        path, seeds, _ = _marker_args(marker)
        if seeds is not None:
            return as_seeds(seeds, f"@pytest.mark.{MARKER} seeds")[0]
        if path is not None:
            return drills.load(_scenario_path(path, request.path.parent)).scenario.seed
    return DEFAULT_SEED


_USED = pytest.StashKey[list[tuple[RunKey, str]]]()


class DrillRun:
    """``drill_run(scenario=None, seed=None, responder=None, horizon=None, faults=True,
    overrides=None)`` → the run's :class:`~sim.journal.Journal`.

    ``scenario``: a path (relative to the test file's folder or the working directory), a
    catalogue name, or a :class:`~sim.scenario.Scenario`; default the ``scenario`` marker's
    path, else the seed incident. ``seed``: default ``chaosdrill_seed``. ``responder``:
    default ``--chaosdrill-responder``, then the marker's, then the scenario's. ``horizon``:
    seconds or a duration such as ``"30m"``. ``faults=False`` runs the baseline.
    ``overrides``: ``{"paging.ack_delay.mean": "20m", "monitors.0.for": "10m"}``, set in the
    scenario document before it is validated. Runs are cached for the session.
    """

    def __init__(self, request: pytest.FixtureRequest, seed: int) -> None:
        self._request = request
        self._drills = _drills(request.config)
        self.seed = seed

    def __repr__(self) -> str:
        return f"<drill_run seed={self.seed}>"

    def load(
        self,
        scenario: str | os.PathLike[str] | Scenario | None = None,
        overrides: Mapping[Any, Any] | None = None,
    ) -> Scenario:
        """The scenario (with ``overrides``) that a call with the same arguments would run."""
        return self._loaded(scenario, overrides).scenario

    def _marker(self) -> tuple[Any, Any, Any]:
        marker = self._request.node.get_closest_marker(MARKER)
        return _marker_args(marker) if marker is not None else (None, None, None)

    def _loaded(
        self,
        scenario: str | os.PathLike[str] | Scenario | None,
        overrides: Mapping[Any, Any] | None,
    ) -> Loaded:
        if scenario is None:
            scenario = self._marker()[0] or "bad-schema-migration"
        if isinstance(scenario, str | os.PathLike):
            path = _scenario_path(scenario, self._request.path.parent)
            return self._drills.load(path, overrides)
        return self._drills.load_object(scenario, overrides)

    def __call__(
        self,
        scenario: str | os.PathLike[str] | Scenario | None = None,
        seed: int | None = None,
        responder: str | None = None,
        horizon: float | str | None = None,
        faults: bool = True,
        overrides: Mapping[Any, Any] | None = None,
    ) -> Journal:
        loaded = self._loaded(scenario, overrides)
        if isinstance(horizon, str):
            from sim.scenario.durations import parse_duration

            horizon = parse_duration(horizon)
        who = responder or self._drills.settings.responder or self._marker()[2]
        key, journal = self._drills.run(
            loaded, self.seed if seed is None else seed, who, horizon, faults
        )
        label = run_label(loaded.scenario, journal.seed, key[2], faults)
        used = self._request.node.stash.setdefault(_USED, [])
        if (key, label) not in used:
            used.append((key, label))
        return journal

    def report(self, journal_or_key: Journal) -> Path:
        """Write a run's journal.json and post-mortem into the report folder; the HTML's path."""
        for key, label in self._request.node.stash.get(_USED, []):
            if self._drills.journal(key) is journal_or_key:
                return self._drills.write_report(key, label)
        raise ValueError("not a journal returned by this test's drill_run")


@pytest.fixture
def drill_run(request: pytest.FixtureRequest, chaosdrill_seed: int) -> DrillRun:
    """Run a scenario and get its journal: ``drill_run("payment-provider-outage", seed=3)``."""
    return DrillRun(request, chaosdrill_seed)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failing test that used ``drill_run``: write its runs' post-mortems, name them."""
    report = yield
    if report.when == "call" and report.failed and _USED in item.stash:
        drills = _drills(item.config)
        lines = [
            f"{label}: {drills.write_report(key, label)}" for key, label in item.stash[_USED][:5]
        ]
        report.sections.append(("chaosdrill reports", "\n".join(lines)))
    return report
