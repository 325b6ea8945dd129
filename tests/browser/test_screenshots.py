"""`make screenshots`: the console's main pages as an operator sees them, for the README."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, Console
from tests.browser.pages import open_master
from tests.browser.test_pool_timeline import send

pytestmark = [pytest.mark.screenshots, pytest.mark.browser, pytest.mark.integration]

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
# The dev pool answers within seconds, but on a loaded machine more slowly than Playwright's default 5 s.
WAIT = 60_000


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    # The spinner's animation and the caret would differ from one run to the next.
    page.screenshot(path=str(SHOTS / f"{name}.png"), animations="disabled", caret="hide")


def test_the_main_pages_are_captured(browser, console: Console, real_pool) -> None:
    context = browser.new_context(viewport=VIEWPORT, color_scheme="light")
    page = context.new_page()
    page.goto(f"{console.url}/login/")
    page.get_by_label("Username").fill("olga")
    shoot(page, "login")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("main")).to_contain_text(real_pool.collector, timeout=WAIT)
    expect(page.locator("main")).to_contain_text("5 up", timeout=WAIT)
    shoot(page, "pools")

    # Something for the timeline to show.
    page.locator("main").get_by_role("link", name=real_pool.name, exact=True).first.click()
    schedd = page.locator("table.daemons tr", has=page.locator("td", has_text="schedd"))
    expect(schedd).to_contain_text("Up", timeout=WAIT)
    send(console, real_pool.name, "DaemonOff")
    try:
        expect(schedd).to_contain_text("Down", timeout=WAIT)
    finally:
        send(console, real_pool.name, "DaemonOn")
    expect(schedd).to_contain_text("Up", timeout=WAIT)
    expect(page.locator("#timeline li").first).to_contain_text("→ ✔ Up", timeout=WAIT)
    expect(page.locator(".counts")).to_contain_text("0 down", timeout=WAIT)
    shoot(page, "pool")

    open_master(page, console, real_pool.name)
    # A line in the live log pane: the master logs the SIGHUP a Reconfig makes it send.
    expect(page.locator("[data-log-status]")).to_contain_text("connected", timeout=WAIT)
    send(console, real_pool.name, "Reconfig", subsystem="")
    expect(page.locator("[data-log-lines]")).to_contain_text("SIGHUP", timeout=WAIT)
    shoot(page, "daemon")

    page.get_by_role("link", name="Configuration").click()
    page.get_by_role("button", name="Fetch now", exact=True).click()
    compare = page.get_by_role("link", name="Compare with the console host")
    expect(compare).to_be_visible(timeout=WAIT)
    compare.click()
    update_interval = page.locator("tr", has=page.get_by_text("UPDATE_INTERVAL", exact=True))
    expect(update_interval).to_contain_text("300", timeout=WAIT)
    shoot(page, "config-diff")

    page.get_by_label("Title (optional)").fill("Update interval on the test pool")
    page.get_by_role("button", name="Create a share link").click()
    expect(page.locator("#share-link")).to_be_visible(timeout=WAIT)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Shares").click()
    shoot(page, "shares")
    context.close()
