"""The configuration pages as an operator meets them: the console host's page opens on what its files set,
marks prefixed values, pages through every knob; a local-vs-daemon diff names both versions and leaves out
what only one defines; no blank Type; the collector has an uptime."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Console, login
from tests.browser.pages import compare_master_with_console_host, open_master

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_the_console_hosts_page_opens_on_its_files_and_marks_a_prefixed_value(browser, console: Console) -> None:
    page = login(browser, console, "vera")
    page.goto(f"{console.url}/config/local/")
    status = page.get_by_role("status")
    expect(status).to_contain_text(re.compile(r"\d+ knobs? set in its files"))
    expect(page.locator("tr", has=page.get_by_text("TEST_FOO", exact=True))).to_contain_text("foo")

    page.get_by_label("Seen as").select_option("SCHEDD")
    row = page.locator("tr", has=page.get_by_text("TEST_FOO", exact=True))
    expect(row).to_contain_text("bar")
    expect(row).to_contain_text("from SCHEDD.TEST_FOO, over TEST_FOO = foo")

    page.get_by_label("Show", exact=True).select_option("all")
    expect(page.get_by_role("navigation", name="Pages")).to_contain_text(re.compile(r"Page 1 of \d+"))


def test_a_local_vs_master_diff_names_both_versions_and_leaves_out_what_only_one_defines(
    browser, console: Console, real_pool
) -> None:
    page = login(browser, console, "olga")
    compare_master_with_console_host(page, console, real_pool.name)

    expect(page.locator("dl.facts")).to_contain_text(re.compile(r"25\.\d+\.\d+.*·.*23\.\d+\.\d+"))
    counts = page.get_by_role("status").first
    expect(counts).to_contain_text(re.compile(r"\d+ knobs only one side's HTCondor version defines left out"))
    expect(page.locator("tr", has=page.get_by_text("LIBRARIAN_UPDATE_INTERVAL", exact=True))).to_have_count(0)

    page.get_by_label("Version differences").select_option("all")
    librarian = page.locator("tr", has=page.get_by_text("LIBRARIAN_UPDATE_INTERVAL", exact=True))
    expect(librarian).to_have_count(1)
    expect(page.locator("table.diff td", has_text="unknown to this client").first).to_be_visible()


def test_every_daemon_of_the_pool_shows_an_uptime_the_collector_included(browser, console: Console, real_pool) -> None:
    page = login(browser, console, "vera")
    page.goto(f"{console.url}/")
    page.locator("main").get_by_role("link", name=real_pool.name, exact=True).first.click()
    collector = page.locator("table.daemons tr", has=page.locator("td", has_text=re.compile(r"^collector$")))
    expect(collector).to_have_count(1)
    # The watch reads the pool every 3 s; a collector advertises its age from its first self-monitoring.
    expect(collector.locator("td").nth(4)).not_to_have_text("–", timeout=60_000)


def test_switching_the_consoles_client_logging_on_and_off_leaves_the_console_hosts_page_alone(
    browser, console: Console
) -> None:
    page = login(browser, console, "adam")
    page.goto(f"{console.url}/diagnostics/")
    page.get_by_label("TOOL_DEBUG").select_option("D_FULLDEBUG")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("main")).to_contain_text("on at D_FULLDEBUG")
    try:
        page.goto(f"{console.url}/config/local/?view=all&q=TOOL_")
        expect(page.get_by_role("status")).to_contain_text("as TOOL")
        expect(page.locator("table")).not_to_contain_text("D_FULLDEBUG")
    finally:
        page.goto(f"{console.url}/diagnostics/")
        page.get_by_label("TOOL_DEBUG").select_option("")
        page.get_by_role("button", name="Apply").click()
    page.goto(f"{console.url}/config/local/?view=all&q=TOOL_")
    expect(page.locator("table")).not_to_contain_text("D_FULLDEBUG")


def test_a_runtime_set_the_master_would_refuse_names_its_settable_list_and_sends_nothing(
    browser, console: Console, real_pool
) -> None:
    page = login(browser, console, "olga")
    open_master(page, console, real_pool.name)
    master = page.url.rstrip("/").rsplit("/", 1)[-1]
    page.goto(f"{console.url}/config/daemon/{master}/runtime/")
    page.get_by_label("Knob").fill("UPDATE_INTERVAL")
    page.get_by_label("Value (for set)").fill("60")
    page.get_by_role("button", name="Send to the daemon").click()
    expect(page.locator("main")).to_contain_text("UPDATE_INTERVAL is not in this daemon's SETTABLE_ATTRS_CONFIG")
    expect(page.locator("main")).to_contain_text("TEST_*")
