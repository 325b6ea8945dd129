"""An operator stops the schedd from the master's page, sees it down, and starts it again; a viewer sees no commands."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Console, login
from tests.browser.pages import log_count, open_master, wait_for_more_in_log

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_an_operator_turns_the_schedd_off_and_on_with_the_typed_name_and_sees_each_effect(
    browser, console: Console, real_pool
) -> None:
    page = login(browser, console, "olga")
    open_master(page, console, real_pool.name)
    master_name = page.locator("dt:text-is('Name') + dd").inner_text().strip()
    panel = page.locator("#command-panel")
    schedd_row = page.locator("#daemon-status tr", has=page.locator("th", has_text="SCHEDD"))

    expect(page.locator("#daemon-log-panel [data-log-status]")).to_have_text("connected", timeout=10_000)
    exits_before = log_count(page, "The SCHEDD (pid")

    page.locator("summary", has_text="DaemonOff").first.click()
    off = panel.locator("form", has=page.get_by_role("button", name="Send DaemonOff", exact=True))
    off.get_by_label("Daemon").select_option("SCHEDD")
    off.get_by_label(f"Type {master_name} to confirm").fill(master_name)
    off.get_by_role("button", name="Send DaemonOff", exact=True).click()
    expect(panel.get_by_text("Sent.", exact=False)).to_be_visible(timeout=15_000)
    expect(panel.locator("table.history tr").nth(1)).to_contain_text("DaemonOff SCHEDD")
    expect(schedd_row).to_contain_text("Down", timeout=45_000)
    wait_for_more_in_log(page, "The SCHEDD (pid", exits_before)
    if os.environ.get("CONDORWEB_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["CONDORWEB_SCREENSHOTS"], "commands.png"), full_page=True)

    page.locator("summary", has_text="DaemonOn").first.click()
    on = panel.locator("form", has=page.get_by_role("button", name="Send DaemonOn", exact=True))
    on.get_by_label("Daemon").select_option("SCHEDD")
    on.get_by_role("button", name="Send DaemonOn", exact=True).click()
    expect(panel.locator("table.history tr").nth(1)).to_contain_text("DaemonOn SCHEDD", timeout=15_000)
    expect(schedd_row).to_contain_text("Up", timeout=45_000)


def test_a_viewer_sees_the_history_but_no_command(browser, console: Console, real_pool) -> None:
    page = login(browser, console, "vera")
    open_master(page, console, real_pool.name)
    expect(page.get_by_text("You may not send commands to this daemon.")).to_be_visible()
    expect(page.get_by_role("button", name="Send Reconfig")).to_have_count(0)
    expect(page.get_by_role("heading", name="Recent commands")).to_be_visible()
