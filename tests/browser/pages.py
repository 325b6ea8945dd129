"""Steps of the operator's journey that several browser tests take."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import Console


def open_master(page: Any, console: Console, pool_name: str) -> None:
    """From the pools list to the pool's master, by clicking as a person would."""
    page.goto(f"{console.url}/")
    page.locator("main").get_by_role("link", name=pool_name, exact=True).first.click()
    page.locator("tr", has=page.locator("td", has_text="master")).get_by_role("link").first.click()
    page.wait_for_load_state()


def compare_master_with_console_host(page: Any, console: Console, pool_name: str) -> None:
    """The master's "Fetch now", then "Compare with the console host" once the snapshot is in."""
    open_master(page, console, pool_name)
    page.get_by_role("link", name="Configuration").click()
    page.get_by_role("button", name="Fetch now", exact=True).click()
    compare = page.get_by_role("link", name="Compare with the console host")
    expect(compare).to_be_visible(timeout=30_000)
    compare.click()


LOG_PANE = "#daemon-log-panel [role=log]"


def log_count(page: Any, text: str) -> int:
    """How often ``text`` is in the daemon page's live log pane now."""
    return page.locator(LOG_PANE).inner_text().count(text)


def wait_for_more_in_log(page: Any, text: str, before: int, *, timeout: float = 30_000) -> None:
    """Until the pane holds ``text`` more often than ``before``: a line streamed live, not the backlog."""
    page.wait_for_function(
        "([pane, text, before]) => document.querySelector(pane).innerText.split(text).length - 1 > before",
        arg=[LOG_PANE, text, before],
        timeout=timeout,
    )
