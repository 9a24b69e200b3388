"""The seed incident as the seed tells it (scenarios/site-wide-schema-migration.yaml): every
page fails at once and answers faster than it used to; in bad-schema-migration, which differs
only in where the session is looked up, browsing goes on."""

from __future__ import annotations

from typing import Any

import pandas as pd

import sim
from tests.conftest import SCENARIOS

MIGRATION = 40 * 60  # mig-2041, from bad-schema-migration


def windows(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Endpoint windows of seed 1 with nobody responding: the 20 minutes before the migration,
    and 2-18 minutes after it."""
    journal = sim.run(
        sim.load_scenario(SCENARIOS / f"{name}.yaml"), 1, responder="none", horizon=3600
    )
    f = journal.metrics_frame()
    ep = f[f.scope == "endpoint"]
    before = ep[(ep.t >= MIGRATION - 1200) & (ep.t < MIGRATION)]
    after = ep[(ep.t >= MIGRATION + 120) & (ep.t < MIGRATION + 1080)]
    return before, after


def failed_share(rows: pd.DataFrame) -> dict[str, Any]:
    grouped = rows.groupby("name")[["requests", "errors", "timeouts", "rejected"]].sum()
    grouped = grouped[grouped.requests > 0]
    failed = grouped.errors + grouped.timeouts + grouped.rejected
    return (failed / grouped.requests).round(3).to_dict()


def test_site_wide_every_page_fails_and_answers_faster() -> None:
    before, after = windows("site-wide-schema-migration")
    assert set(failed_share(before).values()) == {0.0}
    during = failed_share(after)
    assert "home" in during
    assert all(share == 1.0 for share in during.values()), during  # every page that is asked for
    home_before = before[before.name == "home"].p95.median()
    home_after = after[after.name == "home"].p95.median()
    assert home_after < home_before  # "a corresponding drop in server response times"


def test_in_the_login_only_variant_browsing_goes_on() -> None:
    _, after = windows("bad-schema-migration")
    during = failed_share(after)
    assert during["home"] == 0.0
    assert during["login"] == 1.0
