"""An operator sends Reconfig to several daemons of the pool at once; the outcomes arrive on a page of their own."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Console, login

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_a_bulk_reconfig_answers_at_once_and_its_outcomes_fill_in_on_their_own_page(
    browser, console: Console, real_pool
) -> None:
    page = login(browser, console, "olga")
    page.goto(f"{console.url}/")
    page.locator("main").get_by_role("link", name=real_pool.name, exact=True).first.click()
    page.get_by_role("link", name="Commands to several daemons").click()
    page.get_by_label("Command").select_option("Reconfig")
    page.get_by_label("Kind", exact=True).select_option("schedd")
    page.get_by_role("button", name="Show the daemons").click()
    expect(page.get_by_role("heading", name="Reconfig to 1 daemon")).to_be_visible()

    page.get_by_role("button", name="Send Reconfig to the checked daemons").click()

    outcome = page.locator("#bulk")
    expect(outcome.get_by_role("status")).to_have_text("1 of 1 sent.", timeout=20_000)
    expect(outcome.locator("table.outcomes tbody tr")).to_contain_text("Sent")
    expect(page).to_have_url(re.compile(r"/pool/\d+/commands/[0-9a-f-]{36}/$"))
    page.reload()
    expect(page.locator("#bulk").get_by_role("status")).to_have_text("1 of 1 sent.")
