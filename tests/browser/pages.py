"""Steps of the operator's journey that several browser tests take."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Console


def open_master(page: Any, console: Console, pool_name: str) -> None:
    """From the pools list to the pool's master, by clicking as a person would."""
    page.goto(f"{console.url}/")
    page.locator("main").get_by_role("link", name=pool_name, exact=True).first.click()
    page.locator("tr", has=page.locator("td", has_text="master")).get_by_role("link").first.click()
    page.wait_for_load_state()
