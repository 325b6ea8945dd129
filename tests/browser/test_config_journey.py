"""An operator compares the master's configuration with the console host's and shares it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Console, login
from tests.browser.pages import compare_master_with_console_host

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_a_shared_local_vs_master_diff_opens_for_a_viewer_and_asks_strangers_to_log_in(
    browser, console: Console, real_pool
) -> None:
    page = login(browser, console, "olga")
    compare_master_with_console_host(page, console, real_pool.name)

    row = page.locator("tr", has=page.get_by_text("UPDATE_INTERVAL", exact=True))
    expect(row).to_contain_text("300")
    expect(row).to_contain_text("5")
    expect(row).to_contain_text(re.compile("changed", re.I))
    # Issue 19: a directory under a token knob is no secret; both sides show where their tokens are.
    tokens = page.locator("tr", has=page.get_by_text("SEC_TOKEN_SYSTEM_DIRECTORY", exact=True))
    expect(tokens).to_contain_text(f"/{real_pool.name}/tokens.d")
    expect(tokens).not_to_contain_text("‹hidden›")

    page.get_by_label("Title (optional)").fill("Update interval on the test pool")
    page.get_by_role("button", name="Create a share link").click()
    link = page.locator("#share-link").input_value()
    assert "/config/s/" in link

    as_viewer = login(browser, console, "vera")
    as_viewer.goto(link)
    expect(as_viewer.get_by_role("heading", name="Update interval on the test pool")).to_be_visible()
    expect(as_viewer.locator("tr", has=as_viewer.get_by_text("UPDATE_INTERVAL", exact=True))).to_contain_text("300")

    stranger = browser.new_context().new_page()
    stranger.goto(link)
    assert "/login/" in stranger.url
