"""chaosdrill's pytest plugin: scenario expectations as tests, and fixtures to run drills.

Registered under the ``pytest11`` entry point as ``chaosdrill``, so it loads in every pytest
session of an environment where chaosdrill is installed (``-p no:chaosdrill`` turns it off).
Importing it must stay cheap: this module imports only pytest and the standard library at
module level; ``sim`` (pydantic, the engine, scoring, reports) is imported inside the hooks
and fixtures that need it, and only when a session uses them.

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
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from sim.journal import Journal
    from sim.scenario.schema import RunBounds, Scenario
    from sim.scenario.yamlsource import Source
    from sim.scoring import Scorecard

DEFAULT_SEED = 7  # the seed incident's own seed: chaosdrill_seed when nothing else says
MARKER = "scenario"
_EXPECT_KEY = re.compile(rb"^expect[ \t]*:", re.MULTILINE)
_SEED_PART = re.compile(r"^(\d+)(?:-(\d+))?$")
MAX_SEEDS = 10_000


# -- seeds -------------------------------------------------------------------------------
def parse_seeds(spec: str) -> tuple[int, ...]:
    """``"1-10"``, ``"3,5,8"`` or ``"1-3,7"`` → the seeds, in the order given, once each."""
    seeds: list[int] = []
    for part in spec.replace(" ", "").split(","):
        match = _SEED_PART.match(part)
        if not match:
            raise ValueError(f"expected seeds such as 1-10 or 3,5,8, got {spec!r}")
        first = int(match[1])
        last = int(match[2]) if match[2] is not None else first
        if last < first:
            raise ValueError(f"expected a range from low to high such as 1-10, got {part!r}")
        if last - first >= MAX_SEEDS:
            raise ValueError(f"at most {MAX_SEEDS} seeds, got {part!r}")
        seeds.extend(s for s in range(first, last + 1) if s not in seeds)
    return tuple(seeds)


def format_seeds(seeds: Sequence[int]) -> str:
    """The seeds as ``1-5`` or ``3,5,8`` (runs of consecutive seeds as ranges)."""
    parts: list[str] = []
    i = 0
    while i < len(seeds):
        j = i
        while j + 1 < len(seeds) and seeds[j + 1] == seeds[j] + 1:
            j += 1
        parts.append(f"{seeds[i]}-{seeds[j]}" if j - i >= 2 else str(seeds[i]))
        if j - i == 1:
            parts.append(str(seeds[j]))
        i = j + 1
    return ",".join(parts)


def as_seeds(value: Any, what: str) -> tuple[int, ...]:
    """Seeds given to the marker: a list, a count (5 → 1..5) or a spec string ("1-10")."""
    if isinstance(value, bool):
        raise ValueError(f"{what}: expected a list of seeds, a count or 1-10, got {value!r}")
    if isinstance(value, int):
        if not 1 <= value <= MAX_SEEDS:
            raise ValueError(f"{what}: expected a count of 1 to {MAX_SEEDS} seeds, got {value}")
        return tuple(range(1, value + 1))
    if isinstance(value, str):
        try:
            return parse_seeds(value)
        except ValueError as exc:
            raise ValueError(f"{what}: {exc}") from None
    try:
        seeds = tuple(int(s) for s in value)
    except (TypeError, ValueError):
        raise ValueError(
            f"{what}: expected a list of seeds, a count or 1-10, got {value!r}"
        ) from None
    if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise ValueError(f"{what}: expected distinct seeds of 0 or more, got {value!r}")
    return seeds


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


# -- loading and running, cached per session ---------------------------------------------
@dataclass(frozen=True)
class Loaded:
    """A validated scenario and the file it came from (``path`` None for an object)."""

    scenario: Scenario
    path: Path | None
    sha256: str | None
    lines: Mapping[tuple[str | int, ...], int] = field(default_factory=dict)


RunKey = tuple[str, int, str, float | None, bool]


class Drills:
    """A session's scenarios, runs, scorecards and written reports."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        self._loaded: dict[tuple[str, str], Loaded] = {}
        self._runs: dict[RunKey, Journal] = {}
        self._cards: dict[RunKey, Scorecard] = {}
        self._reports: dict[RunKey, Path] = {}
        self._folder: Path | None = None
        self.written: list[Path] = []
        self.plans: list[str] = []

    # where reports go
    def report_dir(self) -> Path:
        if self._folder is None:
            if self.settings.report_dir is not None:
                self._folder = self.settings.report_dir
            else:
                factory = getattr(self.config, "_tmp_path_factory", None)
                if factory is not None:
                    self._folder = Path(factory.getbasetemp()) / "chaosdrill"
                else:  # the tmp_path plugin is switched off
                    import tempfile

                    self._folder = Path(tempfile.mkdtemp(prefix="chaosdrill-"))
        return self._folder

    def report_dir_text(self) -> str:
        if self.settings.report_dir is not None:
            return str(self.settings.report_dir)
        basetemp = self.config.getoption("basetemp", None)
        if basetemp:
            return str(Path(basetemp).resolve() / "chaosdrill")
        return "<pytest basetemp>/chaosdrill (printed at the end if a run fails)"

    # scenarios
    def load(self, path: Path, overrides: Mapping[Any, Any] | None = None) -> Loaded:
        """The scenario at ``path`` with ``overrides`` applied; raises ScenarioError."""
        import hashlib

        from sim.scenario import ScenarioError
        from sim.scenario.errors import Problem
        from sim.scenario.loader import validate_source
        from sim.scenario.yamlsource import Source, YamlProblem, read_yaml

        file = _shown(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            problem = Problem(file, 1, (), f"cannot read the file: {exc.strerror}")
            raise ScenarioError([problem]) from None
        key = (str(path.resolve()), hashlib.sha256(raw).hexdigest() + _overrides_key(overrides))
        if key in self._loaded:
            return self._loaded[key]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise ScenarioError([Problem(file, line, (), "expected UTF-8 text")]) from None
        try:
            source = read_yaml(text, file)
        except YamlProblem as exc:
            raise ScenarioError([exc.problem]) from None
        scenario = validate_source(source)
        if overrides:
            scenario = _overridden(scenario, overrides, Source(file, None, source.lines))
        sha = None if overrides else hashlib.sha256(raw).hexdigest()
        loaded = Loaded(scenario, path, sha, dict(source.lines))
        self._loaded[key] = loaded
        return loaded

    def load_object(self, scenario: Scenario, overrides: Mapping[Any, Any] | None) -> Loaded:
        if not overrides:
            return Loaded(scenario, None, None)
        from sim.scenario.yamlsource import Source

        return Loaded(
            _overridden(scenario, overrides, Source("<scenario object>", None)), None, None
        )

    # runs
    def run(
        self,
        loaded: Loaded,
        seed: int,
        responder: str | None = None,
        horizon: float | None = None,
        faults: bool = True,
    ) -> tuple[RunKey, Journal]:
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
                source=None if loaded.path is None else _shown(loaded.path),
                source_sha256=loaded.sha256,
            )
        return key, self._runs[key]

    def scorecard(self, key: RunKey) -> Scorecard:
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


_DRILLS = pytest.StashKey[Drills]()


def run_label(scenario: Scenario, seed: int, responder: str, faults: bool) -> str:
    """The report folder of a run: ``bad-schema-migration-seed3`` (``-baseline``, and the
    responder when it is not the scenario's own)."""
    parts = [scenario.name, *(["baseline"] if not faults else []), f"seed{seed}"]
    if responder != scenario.response.responder:
        parts.append(responder)
    return "-".join(parts)


def _shown(path: Path) -> str:
    """A path as a person would type it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _overrides_key(overrides: Mapping[Any, Any] | None) -> str:
    if not overrides:
        return ""
    import json

    return json.dumps({str(k): v for k, v in overrides.items()}, sort_keys=True, default=str)


def _overridden(scenario: Scenario, overrides: Mapping[Any, Any], source: Source) -> Scenario:
    """``scenario`` with ``overrides`` set in its full document (defaults spelt out, so
    ``paging.ack_delay.mean`` changes only the mean), validated again."""
    from sim.scenario.loader import validate_source

    source.data = apply_overrides(scenario.model_dump(mode="json", by_alias=True), overrides)
    return validate_source(source)


def check_responder(scenario: Scenario, name: str) -> None:
    """Refuse an unknown responder with the names that exist (and a did-you-mean)."""
    from sim.response.catalogue import BUILT_IN

    known = sorted({*BUILT_IN, *scenario.runbooks})
    if name not in known:
        from sim.scenario.messages import did_you_mean

        raise ValueError(
            f"no responder named {name!r}{did_you_mean(name, known)} (known: {', '.join(known)})"
        )


def apply_overrides(document: Any, overrides: Mapping[Any, Any]) -> Any:
    """A copy of a scenario document with each ``"a.b.c": value`` (or tuple path) set.

    Mappings along the way are created when missing; a digit names a list item
    (``"monitors.0.for"``). The result is validated like a file, so an unknown key or a
    bad value is reported as usual.
    """
    import copy

    doc = copy.deepcopy(document)
    for dotted, value in overrides.items():
        parts: list[Any] = dotted.split(".") if isinstance(dotted, str) else list(dotted)
        if not parts or any(p == "" for p in parts):
            raise ValueError(
                f"override {dotted!r}: expected a dotted path such as paging.ack_delay"
            )
        node = doc
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            where = ".".join(map(str, parts[:i])) or "the scenario"
            if isinstance(node, list):
                if not str(part).isdigit() or int(part) >= len(node):
                    raise ValueError(
                        f"override {dotted!r}: {where} is a list of {len(node)}; "
                        f"expected an index below {len(node)}, got {part!r}"
                    )
                index = int(part)
                if last:
                    node[index] = copy.deepcopy(value)
                else:
                    node = node[index]
            elif isinstance(node, dict):
                if last:
                    node[part] = copy.deepcopy(value)
                else:
                    if node.get(part) is None:
                        node[part] = {}
                    node = node[part]
            else:
                raise ValueError(f"override {dotted!r}: {where} is {node!r}, not a mapping")
    return doc


# -- expectations: measuring a run, judging a bound, saying it in human units ------------
@dataclass(frozen=True)
class Check:
    """One kind of bound: its key under ``expect``, its words and where its value comes from."""

    key: str
    words: str  # "resolved within"
    kind: str  # time | count | money | budget | score
    source: str  # a phase, an impact key, or pages/alerts/critical_alerts/tickets/score
    verb: str = ""  # for a milestone that never came: "not resolved within the horizon"

    @property
    def at_least(self) -> bool:
        return self.kind == "score"


CHECKS: tuple[Check, ...] = (
    Check("detected_within", "detected within", "time", "detection", "detected"),
    Check("acknowledged_within", "acknowledged within", "time", "acknowledgement", "acknowledged"),
    Check("diagnosed_within", "diagnosed within", "time", "diagnosis", "diagnosed"),
    Check("mitigated_within", "mitigated within", "time", "mitigation", "mitigated"),
    Check("resolved_within", "resolved within", "time", "resolution", "resolved"),
    Check("failed_requests_at_most", "failed requests at most", "count", "failed_requests"),
    Check("failed_checkouts_at_most", "failed checkouts at most", "count", "failed_checkouts"),
    Check("affected_users_at_most", "affected users at most", "count", "affected_users"),
    Check("lost_revenue_at_most", "lost revenue at most", "money", "lost_revenue"),
    Check(
        "error_budget_spent_at_most", "error budget spent at most", "budget", "error_budget_spent"
    ),
    Check("pages_at_most", "pages at most", "count", "pages"),
    Check("alerts_at_most", "alerts at most", "count", "alerts"),
    Check("critical_alerts_at_most", "critical alerts at most", "count", "critical_alerts"),
    Check("tickets_at_most", "support tickets at most", "count", "tickets"),
    Check("score_at_least", "score at least", "score", "score"),
)


@dataclass(frozen=True)
class Measure:
    """A run's value for one check: ``value`` None = the milestone never came (a miss);
    ``no_impact`` = there was no user-facing impact, so no milestone to time (met)."""

    value: float | None
    no_impact: bool = False


def measure(check: Check, journal: Journal, card: Scorecard) -> Measure:
    """The run's value for ``check``, from its journal and scorecard."""
    if check.kind == "time":
        phase = card.phases[check.source]
        if phase.status == "n/a":
            return Measure(None, no_impact=True)
        return Measure(phase.since_impact)
    if check.source in card.impact:
        return Measure(float(card.impact[check.source]))
    if check.source == "score":
        return Measure(float(card.score))
    alerts = journal.data.get("alerts") or []
    if check.source == "alerts":
        return Measure(float(len(alerts)))
    if check.source == "critical_alerts":
        return Measure(float(sum(a.get("severity") == "critical" for a in alerts)))
    return Measure(float(journal.summary.get(check.source) or 0))


def meets(check: Check, bound: float, m: Measure) -> bool:
    if m.no_impact:
        return True
    if m.value is None:
        return False
    slack = 1e-9 * max(1.0, abs(bound))
    return m.value >= bound - slack if check.at_least else m.value <= bound + slack


def badness(check: Check, m: Measure) -> float:
    """Orders runs from best to worst for a check (a milestone never reached is worst)."""
    if m.no_impact:
        return -math.inf
    if m.value is None:
        return math.inf
    return -m.value if check.at_least else m.value


def nearest_rank(q: float, n: int) -> int:
    """The 0-based index of the ``q`` quantile of ``n`` sorted values (nearest rank)."""
    return max(0, min(n - 1, math.ceil(q * n - 1e-9) - 1))


def human(check: Check, value: float, currency: str) -> str:
    """A value in the units a person reads: 52m10s, 1,234, 250,000 USD, 31.5 %, 48.2."""
    from sim.scenario.durations import format_duration

    if check.kind == "time":
        if value < 0:
            return f"{format_duration(-value)} before impact"
        return format_duration(value)
    if check.kind == "money":
        return f"{value:,.0f} {currency}".rstrip()
    if check.kind == "budget":
        return f"{value * 100:.3g} %"
    if check.kind == "score":
        return f"{value:.1f}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def bound_text(check: Check, bound: float, currency: str) -> str:
    if check.kind == "score":
        return f"{check.words} {bound:g}"
    return f"{check.words} {human(check, bound, currency)}"


def outcome_text(check: Check, m: Measure, journal: Journal, currency: str) -> str:
    """``got 52m10s`` or ``but not resolved within the horizon (2h)``."""
    from sim.scenario.durations import format_duration

    if m.value is None:
        horizon = format_duration(float(journal.data["horizon"]))
        return f"but not {check.verb} within the horizon ({horizon})"
    return f"got {human(check, m.value, currency)}"


def given_bounds(bounds: RunBounds) -> list[tuple[Check, float]]:
    """The checks ``bounds`` sets, in the order of :data:`CHECKS`."""
    return [
        (check, float(getattr(bounds, check.key)))
        for check in CHECKS
        if getattr(bounds, check.key, None) is not None
    ]


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
            f"{_shown(self.path)}: seeds {format_seeds(plan.seeds)}, responder {responder}"
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
                order = sorted(range(len(runs)), key=lambda i: badness(check, measures[i]))
                at = order[nearest_rank(q, len(runs))]
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
                    misses.append(line + self._note(check, drills.scorecard(key)))
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

    def _note(self, check: Check, card: Scorecard) -> str:
        if check.kind != "time":
            return ""
        phase = card.phases[check.source]
        return f"\n    {phase.name}: {phase.note}" if phase.note else ""

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
            f"{j.seed}: {_short(check, m, currency)}"
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


def _short(check: Check, m: Measure, currency: str) -> str:
    if m.no_impact:
        return "no impact"
    if m.value is None:
        return f"not {check.verb}"
    return human(check, m.value, currency)


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
            if self._drills._runs.get(key) is journal_or_key:
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
