"""The live log in a browser: lines arrive as text, pause keeps them, a restart of the console loses none."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Console, login
from tests.browser.pages import log_count, open_master, wait_for_more_in_log

pytestmark = [pytest.mark.browser, pytest.mark.integration]

PAYLOAD = '<img src=x onerror="window.__pwned = 1"> ERROR from a hostile log'


def append(path: Path, *lines: str) -> None:
    with path.open("a") as handle:
        handle.write("".join(line + "\n" for line in lines))


def test_the_client_log_streams_as_text_pauses_and_survives_a_console_restart(browser, console: Console) -> None:
    client_log = Path(console.environment["CONDORWEB_DATA_DIR"]) / "htcondor-client.log"
    append(client_log, "rendered by the server")
    page = login(browser, console, "adam")
    page.get_by_role("link", name="Diagnostics").click()
    pane = page.get_by_role("log")
    status = page.locator("[data-log-status]")
    expect(status).to_have_text("connected", timeout=10_000)

    append(client_log, PAYLOAD)
    expect(pane).to_contain_text(PAYLOAD, timeout=10_000)
    assert page.evaluate("window.__pwned") is None
    expect(pane.locator("div.l-error")).to_have_text(PAYLOAD)

    page.get_by_role("button", name="Pause").click()
    append(client_log, "arrived while paused")
    expect(page.locator("[data-log-paused]")).to_have_text("1 new lines while paused", timeout=10_000)
    expect(pane).not_to_contain_text("arrived while paused")
    page.get_by_role("button", name="Resume").click()
    expect(pane).to_contain_text("arrived while paused")

    console.stop()
    expect(status).to_have_text("reconnecting…", timeout=10_000)
    append(client_log, "written while the console was down")
    console.start()
    expect(pane).to_contain_text("written while the console was down", timeout=30_000)
    expect(status).to_have_text("connected")

    texts = pane.locator("div").all_inner_texts()
    for line in ("rendered by the server", PAYLOAD, "arrived while paused", "written while the console was down"):
        assert texts.count(line) == 1, (line, texts)

    # Text in any case; slashes are part of the text, not a regular expression.
    page.get_by_label("Filter").fill("ARRIVED while")
    expect(pane.locator("div:visible")).to_have_text(["arrived while paused"])
    page.get_by_label("Filter").fill("/arrived/")
    expect(pane.locator("div:visible")).to_have_count(0)
    page.get_by_label("regex").check()
    page.get_by_label("Filter").fill("([")
    expect(page.locator("[data-log-filter-error]")).to_contain_text("Not a valid regular expression")
    page.get_by_label("Filter").fill("^arrived")
    expect(pane.locator("div:visible")).to_have_text(["arrived while paused"])


def test_the_masters_page_shows_the_sighup_of_a_reconfig_live(browser, console: Console, real_pool) -> None:
    import condor.client
    from condor.commands import Command
    from condor.types import Credentials
    from tests.helpers import master_of, target

    credentials = Credentials(token_file=real_pool.token_file, config_val=tuple(real_pool.config_val))
    page = login(browser, console, "vera")
    open_master(page, console, real_pool.name)
    panel = page.locator("#daemon-log-panel")
    expect(panel.locator("[data-log-status]")).to_have_text("connected", timeout=10_000)
    expect(panel.get_by_role("log")).to_contain_text("condor_master", timeout=10_000)
    before = log_count(page, "Sent SIGHUP to SCHEDD")

    condor.client.send_command(target(master_of(real_pool, credentials)), Command.Reconfig, credentials)

    # One more than the backlog held: the line the Reconfig caused, streamed live.
    wait_for_more_in_log(page, "Sent SIGHUP to SCHEDD", before)
