"""Logging in and out in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Console, login

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_an_anonymous_visitor_is_sent_to_the_login_page(browser, console: Console) -> None:
    page = browser.new_context().new_page()
    page.goto(f"{console.url}/")
    assert "/login/" in page.url
    assert page.get_by_role("heading", name="Log in to condorweb").is_visible()


def test_an_operator_logs_in_and_sees_the_dev_pool(browser, console: Console, real_pool) -> None:
    page = login(browser, console, "olga")
    assert page.get_by_role("heading", name="Pools").is_visible()
    assert page.get_by_text("olga").is_visible()
    assert page.locator("main").get_by_text(real_pool.collector).first.is_visible()


def test_the_dev_pools_page_lists_its_daemons_up(browser, console: Console, real_pool) -> None:
    page = login(browser, console, "olga")
    page.locator("main").get_by_role("link", name=real_pool.name, exact=True).first.click()
    expect(page.get_by_role("heading", name=f"Pool {real_pool.name}")).to_be_visible()
    daemons = page.locator("table.daemons")
    for kind in ("master", "collector", "negotiator", "schedd", "startd"):
        row = daemons.locator("tr", has=page.locator("td", has_text=kind))
        expect(row.first).to_contain_text("Up", timeout=30_000)


def test_a_wrong_password_says_so(browser, console: Console) -> None:
    page = browser.new_context().new_page()
    page.goto(f"{console.url}/login/")
    page.get_by_label("Username").fill("olga")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").is_visible()
