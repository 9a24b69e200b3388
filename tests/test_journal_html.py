"""Journal._repr_html_: the card a notebook shows for a run."""

from __future__ import annotations

import sim
from sim.journal import Journal
from tests.conftest import SEED_SCENARIO


def test_journal_card_shows_the_run_and_escapes_everything() -> None:
    """The card names scenario, seed, engine, responder, milestones and cost, escaped."""
    journal = sim.run(sim.load_scenario(SEED_SCENARIO), seed=1, horizon=2700, responder="oracle")
    html = journal._repr_html_()
    summary = journal.summary
    detected = summary["detected_at"] - summary["errors_started"]
    for text in (
        "<th",
        "bad-schema-migration",
        '<td style="text-align:left">1</td>',
        "request",
        "oracle",
        f"{detected / 60:.1f} min after errors started",
        "not within the horizon",  # errors stop and resolution: cut off at 45 minutes
        f"{summary['failed_checkouts']:,}",
        f"{summary['lost_revenue']:,.0f} USD",
    ):
        assert text in html, text
    data = dict(journal.data)
    data["scenario"] = {**data["scenario"], "name": "a<b", "description": "<script>x</script> & co"}
    card = Journal(data)._repr_html_()
    assert "<script>" not in card
    assert "&lt;script&gt;x&lt;/script&gt; &amp; co" in card
    assert "a&lt;b" in card


def test_a_journal_prints_short() -> None:
    """repr() names the run in one line, not its megabytes of document."""
    journal = Journal({"scenario": {"name": "x"}, "seed": 3, "engine": "flow", "horizon": 60.0})
    assert repr(journal) == "Journal(scenario='x', seed=3, engine='flow', horizon=60.0)"
