"""The pytest plugin (sim/pytest_plugin.py), driven through ``pytester``.

Every test writes a small project into a temporary folder and runs pytest on it in-process
(the plugin is loaded from its ``pytest11`` entry point, as in any project). The drills use
a short copy of the seed incident: the migration at 5m and a 40m horizon (about half a
second a run); detection comes at 100 s, acknowledgement and mitigation vary by seed, and
nobody resolves it within 40 minutes.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest

import sim
from sim.expect import format_seeds, nearest_rank, parse_seeds
from sim.scenario import parse_duration
from tests.conftest import SEED_SCENARIO

# Runs whole pytest sessions of scenario files: in CI, not in the quick loop.
pytestmark = pytest.mark.slow

pytest_plugins = ["pytester"]

HORIZON = "40m"


def short_scenario(expect: str = "", extra: str = "") -> str:
    """The seed incident, cut short: migration at 5m, horizon 40m, no scripted actions."""
    text = SEED_SCENARIO.read_text(encoding="utf-8")
    text = text.split("\nactions:")[0].split("\nexpect:")[0]
    # the seed scenario takes its 2h horizon from the seed shop it extends: set here instead
    text = text.replace(
        "\nname: bad-schema-migration\n", f"\nname: bad-schema-migration\nhorizon: {HORIZON}\n"
    )
    text = text.replace("    at: 40m\n", "    at: 5m\n")
    assert f"horizon: {HORIZON}" in text
    assert "    at: 5m\n" in text
    return text + "\n" + extra + ("\nexpect:\n" + expect if expect else "")


@pytest.fixture(scope="module", autouse=True)
def _preload(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Import everything a drill and its report load lazily, here, before any inner session.

    ``pytester`` removes the modules an in-process session imported when it ends; numpy
    cannot be imported twice in one process, and re-importing the engine in every inner
    session would be slow.
    """
    from sim.report.postmortem import write_report
    from sim.scenario.catalogue import resolve

    journal = sim.run(sim.load_scenario(resolve(None)), horizon=60)
    write_report(journal, tmp_path_factory.mktemp("preload"))
    with contextlib.suppress(ImportError):  # hypothesis's plugin imports it in every session
        import hypothesis.internal.observability  # noqa: F401


@pytest.fixture
def drill(pytester: pytest.Pytester) -> pytest.Pytester:
    """A project holding ``drill.yaml`` without expectations (marker tests point at it)."""
    pytester.makefile(".yaml", drill=short_scenario())
    return pytester


def write(pytester: pytest.Pytester, name: str, text: str) -> Path:
    path = pytester.path / name
    path.write_text(text, encoding="utf-8")
    return path


def got(message: str, words: str) -> float:
    """The duration after ``<words> … expected, got`` in a failure message, in seconds."""
    match = re.search(rf"{re.escape(words)} \S+ expected, got (\S+) at seed", message)
    assert match, message
    return parse_duration(match[1])


# -- helpers ------------------------------------------------------------------------------
def test_seed_specs_parse_and_print() -> None:
    """1-3,7 is seeds 1, 2, 3, 7 and prints back the same; a bad spec says what it wants."""
    assert parse_seeds("1-3,7") == (1, 2, 3, 7)
    assert parse_seeds("3, 5, 8") == (3, 5, 8)
    assert format_seeds((1, 2, 3, 7)) == "1-3,7"
    assert format_seeds((4, 5)) == "4,5"
    with pytest.raises(ValueError, match="such as 1-10"):
        parse_seeds("one")
    with pytest.raises(ValueError, match="low to high"):
        parse_seeds("5-1")


def test_seed_limit_is_the_schema_s() -> None:
    """``--chaosdrill-seeds`` and marker seeds allow as many seeds as ``expect.seeds``
    (sim.expect.seeds keeps its own copy of the limit so that the plugin imports no pydantic)."""
    from sim.expect.seeds import MAX_SEEDS
    from sim.scenario import schema

    assert MAX_SEEDS == schema.MAX_SEEDS


def test_nearest_rank() -> None:
    """p50 of 5 is the 3rd, p90 of 5 the 5th, p50 of 2 the 1st (half the seeds meet it)."""
    assert nearest_rank(0.5, 5) == 2
    assert nearest_rank(0.9, 5) == 4
    assert nearest_rank(0.5, 2) == 0
    assert nearest_rank(0.9, 10) == 8


# -- scenario files as tests --------------------------------------------------------------
def test_passing_scenario_file(pytester: pytest.Pytester) -> None:
    """One item per seed, named seed[N]; bounds that hold pass."""
    write(
        pytester,
        "drill.yaml",
        short_scenario(
            "  seeds: [2, 3]\n"
            "  each:\n"
            "    detected_within: 5m\n"
            "    acknowledged_within: 10m\n"
            "    failed_checkouts_at_most: 5000\n"
        ),
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["*drill.yaml::seed?2? PASSED*", "*drill.yaml::seed?3? PASSED*"], consecutive=False
    )


def test_failing_scenario_file_says_what_where_and_writes_the_report(
    pytester: pytest.Pytester,
) -> None:
    """The message names the expectation, the bound and the value in human units, the seed
    and the report, which exists; a milestone never reached reads as such, never as 0."""
    write(
        pytester,
        "drill.yaml",
        short_scenario(
            "  seeds: [2]\n"
            "  each:\n"
            "    mitigated_within: 10m\n"
            "    resolved_within: 30m\n"
            "    lost_revenue_at_most: 1000\n"
            "    detected_within: 5m\n"
        ),
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert got(out, "mitigated within") > 600
    line = re.search(r"mitigated within 10m expected, got \S+ at seed 2 — report: (\S+)", out)
    assert line, out
    report = Path(line[1])
    assert report.name == "report.html"
    assert report.is_file()
    assert (report.parent / "journal.json").is_file()
    assert report.parent.name == "bad-schema-migration-seed2"
    assert (
        f"resolved within 30m expected, but not resolved within the horizon ({HORIZON}) at seed 2"
        in out
    )
    assert re.search(r"lost revenue at most 1,000 USD expected, got [\d,]+ USD at seed 2", out)
    assert "3 of 4 expectations of drill.yaml not met (seed 2, responder seed)" in out
    assert "detected within" not in out  # met, so not mentioned
    assert "Traceback" not in out
    assert "sim/pytest_plugin.py" not in out
    result.stdout.fnmatch_lines(["chaosdrill: journal and post-mortem of 1 failing run in *"])


def test_p50_item_lists_the_seeds_and_each_value(pytester: pytest.Pytester) -> None:
    """p50 is one item over all seeds; its failure shows the seed list and every seed's value."""
    write(
        pytester,
        "drill.yaml",
        short_scenario(
            "  seeds: [2, 3, 4]\n  p50:\n    mitigated_within: 40m\n  p90:\n    mitigated_within: 15m\n"
        ),
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*drill.yaml::p50 PASSED*", "*drill.yaml::p90 FAILED*"])
    out = result.stdout.str()
    match = re.search(
        r"p90: mitigated within 15m expected, got (\S+) at seed (\d) \(the p90 of seeds 2-4\) "
        r"— report: (\S+)",
        out,
    )
    assert match, out
    assert parse_duration(match[1]) > 900
    assert Path(match[3]).is_file()
    per_seed = re.search(r"per seed: 2: (\S+), 3: (\S+), 4: (\S+)", out)
    assert per_seed, out
    values = sorted(parse_duration(v) for v in per_seed.groups())
    assert parse_duration(match[1]) == values[-1]  # nearest rank: p90 of three is the worst


def test_runs_are_shared_between_the_items_of_a_file(pytester: pytest.Pytester) -> None:
    """Two seeds checked by each, p50 and p90, plus the baseline: three runs, not seven."""
    pytester.makeconftest(
        """
        import sim.runner

        calls = []
        _run = sim.runner.run

        def counting(*args, **kwargs):
            calls.append((args[1], kwargs.get("faults")))
            return _run(*args, **kwargs)

        sim.runner.run = counting

        def pytest_unconfigure(config):
            sim.runner.run = _run
            (config.rootpath / "calls.txt").write_text(repr(sorted(calls)))
        """
    )
    write(
        pytester,
        "drill.yaml",
        short_scenario(
            "  seeds: [2, 3]\n"
            "  each: {detected_within: 5m}\n"
            "  p50: {detected_within: 5m}\n"
            "  p90: {detected_within: 5m}\n"
            "  baseline: {pages_at_most: 0}\n"
        ),
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=5)
    assert (pytester.path / "calls.txt").read_text() == "[(2, False), (2, True), (3, True)]"


def test_baseline_item(pytester: pytest.Pytester) -> None:
    """The baseline runs without faults: quiet with the default monitors; a monitor that
    fires on any latency pages even there, and the message says it was the baseline."""
    write(
        pytester,
        "quiet.yaml",
        short_scenario(
            "  seeds: [2]\n  baseline: {pages_at_most: 0, critical_alerts_at_most: 0}\n"
        ),
    )
    noisy = short_scenario(
        "  seeds: [2]\n  baseline: {pages_at_most: 0}\n",
        extra="monitors:\n"
        "  - {name: any-latency, kind: latency, threshold: 0, for: 1m, severity: critical}\n",
    )
    write(pytester, "noisy.yaml", noisy)
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*noisy.yaml::baseline FAILED*", "*quiet.yaml::baseline PASSED*"])
    out = result.stdout.str()
    assert re.search(
        r"pages at most 0 expected, got [1-9]\d* in the baseline \(faults removed\) at seed 2 "
        r"— report: \S+/bad-schema-migration-baseline-seed2/report.html",
        out,
    ), out


def test_invalid_expect_block_is_one_failing_item_with_file_and_line(
    pytester: pytest.Pytester,
) -> None:
    """A defect in expect: is one failing item, FILE::validate, whose message is the
    file:line problem (with a did-you-mean), not a traceback; nothing is run."""
    text = short_scenario("  seeds: [2]\n  each:\n    resolved_witin: 45m\n")
    write(pytester, "broken.yaml", text)
    line = text.splitlines().index("    resolved_witin: 45m") + 1
    result = pytester.runpytest("-v")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*broken.yaml::validate FAILED*"])
    out = result.stdout.str()
    assert (
        f"broken.yaml:{line}: expect.each.resolved_witin: unknown field 'resolved_witin'; "
        "did you mean 'resolved_within'?"
    ) in out
    assert "Traceback" not in out
    assert "ScenarioError" not in out
    assert "chaosdrill: journal and post-mortem" not in out


def test_a_yaml_file_without_expect_is_ignored(pytester: pytest.Pytester) -> None:
    """Scenario files without an expect: key (even with '# expect:' in a comment), and other
    YAML, are not collected and raise nothing."""
    write(pytester, "plain.yaml", "# expect: nothing here\n" + short_scenario())
    write(pytester, "config.yml", "steps:\n  - expect: 1\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.assert_outcomes()


# -- fixtures and the marker --------------------------------------------------------------
def test_marker_parametrises_chaosdrill_seed_and_drill_run_uses_it(drill: pytest.Pytester) -> None:
    """@pytest.mark.scenario(path, seeds=[…]) makes one test per seed; drill_run() runs the
    marker's scenario at that seed; without seeds, the scenario's own seed; without a
    marker, 7; an explicit seed wins."""
    drill.makepyfile(
        """
        import pytest

        @pytest.mark.scenario("drill.yaml", seeds=[2, 3])
        def test_detected_fast(drill_run, chaosdrill_seed):
            journal = drill_run()
            assert journal.seed == chaosdrill_seed
            assert journal.scenario_name == "bad-schema-migration"
            assert journal.summary["time_to_detect"] < 300

        @pytest.mark.scenario("drill.yaml")
        def test_marker_without_seeds(chaosdrill_seed):
            assert chaosdrill_seed == 7

        def test_no_marker(chaosdrill_seed, drill_run):
            assert chaosdrill_seed == 7
            assert drill_run("drill.yaml", seed=4, horizon="6m").seed == 4

        @pytest.mark.scenario(path="drill.yaml", seeds=2, responder="none")
        def test_marker_responder(drill_run):
            journal = drill_run(horizon="6m")
            assert journal.data["response"]["responder"] == "none"
            assert drill_run(responder="oracle", horizon="6m").data["response"]["responder"] == "oracle"
        """
    )
    result = drill.runpytest("-v", "--strict-markers")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(
        [
            "*test_detected_fast?seed2? PASSED*",
            "*test_detected_fast?seed3? PASSED*",
            "*test_marker_responder?seed1? PASSED*",
            "*test_marker_responder?seed2? PASSED*",
        ],
        consecutive=False,
    )


def test_own_chaosdrill_seed_fixture_wins(drill: pytest.Pytester) -> None:
    """A project that defines chaosdrill_seed chooses the seed; the marker's seeds then do not
    parametrise, and drill_run uses the project's seed."""
    drill.makeconftest(
        """
        import pytest

        @pytest.fixture
        def chaosdrill_seed():
            return 42
        """
    )
    drill.makepyfile(
        """
        import pytest

        @pytest.mark.scenario("drill.yaml", seeds=[2, 3])
        def test_it(drill_run, chaosdrill_seed):
            assert chaosdrill_seed == 42
            assert drill_run(horizon="6m").seed == 42
        """
    )
    drill.runpytest().assert_outcomes(passed=1)


def test_drill_run_overrides_and_objects(drill: pytest.Pytester) -> None:
    """Overrides are dotted paths set before validation (only the named field changes); a
    misspelt one is refused with a did-you-mean; a Scenario object runs too."""
    drill.makepyfile(
        """
        import pytest
        import sim

        def test_overrides(drill_run):
            loaded = drill_run.load("drill.yaml", overrides={"paging.ack_delay.mean": "20m"})
            assert loaded.paging.ack_delay.mean == 1200
            assert loaded.paging.ack_delay.dist == "lognormal"  # the rest as it was
            changed = drill_run.load("drill.yaml", overrides={("traffic", "arrival_rate"): 1.0})
            assert changed.traffic.arrival_rate == 1.0

        def test_bad_override(drill_run):
            with pytest.raises(sim.ScenarioError, match="did you mean 'group_wait'"):
                drill_run("drill.yaml", overrides={"paging.group_wiat": "60s"})
            with pytest.raises(ValueError, match="changes is a list of 4"):
                drill_run("drill.yaml", overrides={"changes.7.at": "1m"})

        def test_object(drill_run):
            scenario = sim.load_scenario("drill.yaml")
            journal = drill_run(scenario, seed=3, horizon=300, overrides={"window": "30s"})
            assert journal.data["window"] == 30
            assert journal.seed == 3
        """
    )
    drill.runpytest().assert_outcomes(passed=3)


def test_failing_drill_run_test_names_its_report(drill: pytest.Pytester) -> None:
    """A failing test that used drill_run gets a 'chaosdrill reports' section with the
    post-mortem of each run it made."""
    drill.makepyfile(
        """
        import pytest

        @pytest.mark.scenario("drill.yaml", seeds=[3])
        def test_resolved(drill_run):
            assert drill_run().data["response"]["resolved_at"] is not None
        """
    )
    result = drill.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*chaosdrill reports*", "bad-schema-migration-seed3: *report.html"]
    )
    path = re.search(r"bad-schema-migration-seed3: (\S+)", result.stdout.str())
    assert path
    assert Path(path[1]).is_file()


# -- options, header, markers -------------------------------------------------------------
def test_header_shows_the_seeds_and_the_option_overrides_them(drill: pytest.Pytester) -> None:
    """--chaosdrill-seeds replaces expect.seeds and marker seeds; the header and the
    collection summary print the seeds used."""
    write(drill, "check.yaml", short_scenario("  seeds: [2]\n  each: {detected_within: 5m}\n"))
    drill.makepyfile(
        """
        import pytest

        @pytest.mark.scenario("drill.yaml", seeds=[2, 3])
        def test_it(chaosdrill_seed):
            pass
        """
    )
    result = drill.runpytest("--collect-only", "--chaosdrill-seeds", "1-3,7")
    result.stdout.fnmatch_lines(
        [
            "chaosdrill *: seeds 1-3,7 (from --chaosdrill-seeds), reports in *",
            "*collected 8 items*",
            "chaosdrill: check.yaml: seeds 1-3,7, responder seed",
        ]
    )
    out = result.stdout.str()
    for seed in (1, 2, 3, 7):
        assert f"seed[{seed}]" in out
        assert f"test_it[seed{seed}]" in out
    default = drill.runpytest("--collect-only")
    default.stdout.fnmatch_lines(
        [
            "chaosdrill *: seeds from each scenario's expect.seeds or marker*",
            "chaosdrill: check.yaml: seeds 2, responder seed",
        ]
    )


def test_ini_options(drill: pytest.Pytester) -> None:
    """chaosdrill_seeds and chaosdrill_responder in the ini file work like the options."""
    drill.makeini("[pytest]\nchaosdrill_seeds = 4,5\nchaosdrill_responder = oracle\n")
    write(drill, "check.yaml", short_scenario("  each: {detected_within: 5m}\n"))
    result = drill.runpytest("--collect-only")
    result.stdout.fnmatch_lines(
        [
            "chaosdrill *: seeds 4,5 (from the chaosdrill_seeds ini option), responder oracle, *",
            "*check.yaml: seeds 4,5, responder oracle",
        ]
    )


def test_bad_seeds_option_is_a_usage_error(drill: pytest.Pytester) -> None:
    result = drill.runpytest("--chaosdrill-seeds", "lots")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--chaosdrill-seeds: expected seeds such as 1-10 or 3,5,8*"])


def test_report_dir_option(pytester: pytest.Pytester, tmp_path: Path) -> None:
    """--chaosdrill-report-dir puts the failing run's journal and post-mortem there."""
    write(pytester, "drill.yaml", short_scenario("  seeds: [3]\n  each: {mitigated_within: 5m}\n"))
    reports = tmp_path / "reports"
    result = pytester.runpytest("--chaosdrill-report-dir", str(reports))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"chaosdrill *: *reports in {reports}"])
    folder = reports / "bad-schema-migration-seed3"
    assert {p.name for p in folder.iterdir()} >= {"journal.json", "report.html", "report.md"}
    assert f"report: {folder / 'report.html'}" in result.stdout.str()
    assert sim.Journal.read(folder / "journal.json").seed == 3


def test_unknown_responder_option_fails_readably(drill: pytest.Pytester) -> None:
    write(drill, "check.yaml", short_scenario("  seeds: [2]\n  each: {detected_within: 5m}\n"))
    result = drill.runpytest("--chaosdrill-responder", "novcie")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["no responder named 'novcie'; did you mean 'novice'?*"])
    assert "Traceback" not in result.stdout.str()


def test_strict_markers_users_get_no_warning(drill: pytest.Pytester) -> None:
    """The scenario marker is registered: --strict-markers and -W error pass, --markers lists it."""
    drill.makepyfile(
        """
        import pytest

        @pytest.mark.scenario("drill.yaml")
        def test_it():
            pass
        """
    )
    # In-process, `sim` is already imported by the outer run; when that run was started as
    # `pytest` (not `python -m pytest`) it was imported before it could be marked for assert
    # rewriting, and the inner run would say so: an artefact of running pytest inside pytest.
    result = drill.runpytest(
        "--strict-markers", "-W", "error", "-W", "ignore::pytest.PytestAssertRewriteWarning"
    )
    result.assert_outcomes(passed=1, warnings=0)
    assert "PytestUnknownMarkWarning" not in result.stdout.str()
    drill.runpytest("--markers").stdout.fnmatch_lines(["@pytest.mark.scenario(path, seeds=None*"])


def test_plugin_can_be_switched_off(drill: pytest.Pytester) -> None:
    """-p no:chaosdrill: no header, no scenario items."""
    write(drill, "check.yaml", short_scenario("  each: {detected_within: 5m}\n"))
    result = drill.runpytest("-p", "no:chaosdrill", "--collect-only")
    assert "chaosdrill" not in result.stdout.str()
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


# -- a regression, demonstrated -----------------------------------------------------------
EXPECT_FAST_RESPONSE = (
    "  seeds: [2, 3]\n  each:\n    detected_within: 3m\n    acknowledged_within: 10m\n"
)
DEFAULT_ENDPOINT_ERRORS = (
    "monitors:\n"
    "  - {name: endpoint-errors, kind: error_ratio, threshold: 0.05, for: FOR, severity: critical}\n"
    "  - {name: endpoint-latency, kind: latency, threshold: 2.0, over: 5m, for: 5m}\n"
)


def test_regression_slower_alert_is_caught(pytester: pytest.Pytester) -> None:
    """The same scenario and expectation: with the endpoint-errors alert holding for 1m it
    passes; lengthened to 10m (nothing pages until customers escalate), it fails and says
    by how much."""
    fast = DEFAULT_ENDPOINT_ERRORS.replace("FOR", "1m")
    slow = DEFAULT_ENDPOINT_ERRORS.replace("FOR", "10m")
    write(pytester, "before.yaml", short_scenario(EXPECT_FAST_RESPONSE, extra=fast))
    write(pytester, "after.yaml", short_scenario(EXPECT_FAST_RESPONSE, extra=slow))
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*after.yaml::seed?2? FAILED*",
            "*after.yaml::seed?3? FAILED*",
            "*before.yaml::seed?2? PASSED*",
            "*before.yaml::seed?3? PASSED*",
        ]
    )
    out = result.stdout.str()
    assert got(out, "detected within") > 180
    assert got(out, "acknowledged within") > 600
    assert re.search(
        r"detected within 3m expected, got \S+ at seed 2 — report: \S+/report.html\n"
        r"    detection: detected by customer escalation at ",
        out,
    ), out


def test_regression_no_responder_is_caught(pytester: pytest.Pytester) -> None:
    """The same file passes with its runbook and fails when nobody responds: mitigation
    never comes, and the message says so instead of a zero."""
    write(
        pytester, "drill.yaml", short_scenario("  seeds: [2]\n  each:\n    mitigated_within: 30m\n")
    )
    pytester.runpytest().assert_outcomes(passed=1)
    result = pytester.runpytest("--chaosdrill-responder", "none")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            f"mitigated within 30m expected, but not mitigated within the horizon ({HORIZON}) "
            "at seed 2 — report: *bad-schema-migration-seed2-none/report.html",
            "    mitigation: users still failing at the horizon*",
            "1 of 1 expectation of drill.yaml not met (seed 2, responder none)",
        ]
    )
