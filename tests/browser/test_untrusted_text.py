"""Text from a pool is shown as text: no script from a daemon ever runs in the console."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

import condor.client
from condor.commands import Command
from condor.types import Credentials
from tests.browser.conftest import Console, login
from tests.browser.pages import open_master
from tests.helpers import master_of, target, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.integration]

PAYLOAD = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'


def test_a_config_value_with_a_script_renders_as_text(browser, console: Console, real_pool) -> None:
    credentials = Credentials(token_file=real_pool.token_file, config_val=tuple(real_pool.config_val))
    master = target(master_of(real_pool, credentials))
    condor.client.remote_config_set(master, "CONDORWEB_TEST_XSS", PAYLOAD, credentials)
    condor.client.send_command(master, Command.Reconfig, credentials)
    wait_for(lambda: condor.client.remote_config_value(master, "CONDORWEB_TEST_XSS", credentials) == PAYLOAD)
    try:
        page = login(browser, console, "olga")
        open_master(page, console, real_pool.name)
        page.get_by_role("link", name="Configuration").click()
        page.get_by_role("button", name="Fetch now", exact=True).click()
        search = page.get_by_role("searchbox")
        expect(search).to_be_visible(timeout=30_000)
        search.fill("CONDORWEB_TEST_XSS")
        search.press("Enter")
        expect(page.locator("main")).to_contain_text(PAYLOAD, timeout=10_000)
        assert page.evaluate("window.__pwned") is None
    finally:
        condor.client.remote_config_unset(master, "CONDORWEB_TEST_XSS", credentials)
        condor.client.send_command(master, Command.Reconfig, credentials)
