"""A whole game day in a real browser: headless Chromium driven by Playwright.

A facilitator creates the game day from the front page and runs it from the control room;
operations and the commander join from their links, each in a browser context of its own.
They see the page, acknowledge it, search the logs, act, chat — a chat line carrying a
script stays text — while the facilitator injects a red herring and hints operations
privately (the commander never receives either); the facilitator ends it and everyone sees
the scorecard and can open the post-mortem. Screenshots of each step are kept in
``test-artifacts/gameday/``.

Chromium comes from the system (Debian's ``chromium`` package: ``.ci/run`` installs it when
missing); without one the test is skipped, unless ``CHAOSDRILL_REQUIRE_BROWSER`` is set (CI).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

KEY = "browser-test-key-42"
ARTIFACTS = ROOT / "test-artifacts" / "gameday"
INSTALL_WAIT = 900.0  # seconds to wait for CI's background install of Chromium
# the flags a closed network needs (no background connections) and a root user needs
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.slow


def _chromium() -> str | None:
    """The system's Chromium, once CI's background install of it (``.ci/run`` sets
    ``CHAOSDRILL_BROWSER_INSTALL`` to where its exit status will be written) has finished."""
    status = os.environ.get("CHAOSDRILL_BROWSER_INSTALL")
    if status:
        rc = Path(status + ".rc")
        deadline = time.monotonic() + INSTALL_WAIT
        while not rc.exists() and time.monotonic() < deadline:
            time.sleep(1.0)
        if not rc.exists():
            pytest.fail(f"Chromium's install did not finish in {INSTALL_WAIT:.0f} s")
        if rc.read_text().strip() != "0":
            log = Path(status + ".log").read_text(errors="replace")[-2000:]
            pytest.fail(f"installing Chromium failed:\n{log}")
    return next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser")) if p), None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """The system's Chromium, headless, driven by Playwright (its own download is not needed,
    nor reachable from a closed network). Playwright is used without its pytest plugin, whose
    per-test assertion scope cannot nest inside the pytester sessions that test chaosdrill's
    own plugin."""
    executable = _chromium()
    if executable is None:
        if os.environ.get("CHAOSDRILL_REQUIRE_BROWSER"):
            pytest.fail("no chromium on PATH, and CHAOSDRILL_REQUIRE_BROWSER is set")
        pytest.skip("no chromium on PATH (apt-get install chromium)")
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=FLAGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``chaosdrill serve``'s app on a free port of 127.0.0.1, the clock ticking fast."""
    import uvicorn

    from sim.web.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(tmp_path_factory.mktemp("gamedays"), KEY, tick=0.25)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_a_team_takes_a_game_day_together_in_the_browser(browser: Any, server: str) -> None:
    dialogs: list[str] = []

    def context(width: int = 1400) -> Any:
        ctx = browser.new_context(viewport={"width": width, "height": 1000})
        ctx.set_default_timeout(20_000)
        return ctx

    # -- the facilitator creates the game day on the front page ------------------------------
    fac = context().new_page()
    fac.goto(f"{server}/?key={KEY}")
    fac.select_option("#scenario", "payment-provider-outage")
    fac.fill("#seed", "1")
    # the scribe is left out of this one
    fac.locator('tr[data-role="scribe"] .role-on').uncheck()
    # and a role of the facilitator's own, which may look and chat
    fac.fill("#new-role", "db-expert")
    fac.click("#add-role-button")
    fac.click("#create-button")
    expect(fac.locator("#created")).to_be_visible()
    shot(fac, "01-created")
    links = {
        fac.locator("#join-links li .pill").nth(i).inner_text(): fac.locator("#join-links li input")
        .nth(i)
        .input_value()
        for i in range(fac.locator("#join-links li").count())
    }
    assert set(links) == {"commander", "operations", "communications", "db-expert"}
    fac.goto(fac.locator("#facilitator-link").get_attribute("href"))
    expect(fac.locator("#scenario-name")).to_have_text("payment-provider-outage")
    expect(fac.locator("#charts figure")).to_have_count(4)

    # -- two participants join ---------------------------------------------------------------
    ops = context().new_page()
    cmd = context().new_page()
    for page in (ops, cmd):
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    ops.goto(links["operations"])
    cmd.goto(links["commander"])
    for page in (ops, cmd):
        expect(page.locator("#console")).to_contain_text("PAGE")
        expect(page.locator("#pages")).to_contain_text("not acknowledged")
    assert "payment-provider-outage" not in ops.content()
    # the dependency graph opens as a picture
    ops.click("#graph summary")
    picture = ops.locator("#graph img")
    expect(picture).to_be_visible()
    deadline = time.monotonic() + 30  # (wait_for_function would need eval, which CSP forbids)
    while picture.evaluate("img => img.naturalWidth") < 100:
        assert time.monotonic() < deadline, "the dependency graph never loaded"
        time.sleep(0.1)
    shot(ops, "02-operations-paged")

    # the page is acknowledged by operations, and everyone sees it
    ops.click("#ack")
    expect(cmd.locator("#pages")).to_contain_text("acknowledged by operations")

    # the facilitator starts the clock; the dashboards move with it
    before = cmd.locator("#clock").inner_text()
    fac.select_option("#speed", "60")
    fac.click("#start")
    expect(cmd.locator("#clock-state")).to_contain_text("60")
    expect(cmd.locator("#clock")).not_to_have_text(before)

    # operations searches the logs and acts; the commander sees the action in the channel
    ops.fill("#search-text", "payment")
    ops.click("#search button")
    expect(ops.locator("#console")).to_contain_text("logs --grep payment")
    ops.fill("#command-line", "failover payment-provider")
    ops.press("#command-line", "Enter")
    expect(cmd.locator("#channel")).to_contain_text("failover payment-provider")

    # a role without the right is told why, and nothing runs
    cmd.fill("#command-line", "restart payments")
    cmd.press("#command-line", "Enter")
    expect(cmd.locator("#console")).to_contain_text("needs the right to act")

    # chat with a script in it is shown as text, and runs nothing
    evil = "<script>window.__pwned = 1; alert('x')</script><b id=bold>loud</b>"
    cmd.fill("#chat-text", evil)
    cmd.press("#chat-text", "Enter")
    expect(ops.locator("#channel")).to_contain_text(evil)
    assert ops.evaluate("window.__pwned") is None
    assert ops.locator("#channel #bold").count() == 0
    assert ops.locator("#channel script").count() == 0

    # privately: a red herring injected and a hint for operations only
    fac.select_option("#inject-kind", "herring")
    fac.fill("#inject-entry", "{id: noisy-cart, kind: log_noise, target: cart, message: 'miss'}")
    fac.click("#inject button[type=submit]")
    expect(fac.locator("#channel")).to_contain_text("red herring noisy-cart injected")
    fac.select_option("#hint-to", "operations")
    fac.fill("#hint-text", "the vendors' status page is worth a look")
    fac.click("#hint button[type=submit]")
    expect(ops.locator("#channel")).to_contain_text("the vendors' status page is worth a look")
    shot(ops, "03-operations-hinted")
    # something public after them: once the commander has it, anything leaked would be there
    fac.select_option("#speed", "30")
    expect(cmd.locator("#channel")).to_contain_text("speed is now 30")
    channel = cmd.locator("#channel").inner_text()
    assert "vendors' status page" not in channel
    assert "noisy-cart" not in channel
    assert "inject" not in channel
    shot(cmd, "04-commander")
    shot(fac, "05-control-room")

    # the facilitator ends it: everyone gets the scorecard, and the post-mortem opens
    fac.once("dialog", lambda d: d.accept())
    fac.click("#end")
    for page in (fac, ops, cmd):
        expect(page.locator("#scorecard")).to_contain_text("team score", timeout=90_000)
    expect(ops.locator("#scorecard")).to_contain_text("payment-provider-outage")
    expect(ops.locator("#scorecard")).to_contain_text("page acknowledged")
    shot(ops, "06-scorecard")
    with ops.expect_popup() as popup:
        ops.click("#report-link")
    report = popup.value
    report.wait_for_load_state()
    expect(report.locator("h1").first).to_be_visible()
    assert "Timeline" in report.content()
    shot(report, "07-post-mortem")
    assert dialogs == []  # no alert() ever ran in a participant's page
    assert (
        Path(ARTIFACTS / "06-scorecard.png").stat().st_size > 10_000
    )  # a real picture, not a blank
