"""Journey steps 2 and 5: an operator's Reconfig asks for nothing and shows live, marked in the log with who sent it; auditors find it with its user and outcome."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Console, login
from tests.browser.pages import log_count, open_master, wait_for_more_in_log

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_reconfig_is_sent_without_confirmation_and_the_audit_page_and_admin_list_it(
    browser, console: Console, real_pool
) -> None:
    page = login(browser, console, "olga")
    open_master(page, console, real_pool.name)
    expect(page.locator("#daemon-log-panel [data-log-status]")).to_have_text("connected", timeout=10_000)
    expect(page.locator("#daemon-log-panel [role=log]")).to_contain_text("condor_master", timeout=10_000)
    before = log_count(page, "Sent SIGHUP to SCHEDD")
    panel = page.locator("#command-panel")
    reconfig = panel.locator("form", has=page.get_by_role("button", name="Send Reconfig", exact=True))

    panel.locator("summary", has_text="Reconfig").first.click()
    expect(reconfig.locator("input[name=confirm]")).to_have_count(0)
    reconfig.get_by_role("button", name="Send Reconfig", exact=True).click()

    expect(panel.get_by_text("Sent.", exact=False)).to_be_visible(timeout=15_000)
    wait_for_more_in_log(page, "Sent SIGHUP to SCHEDD", before)
    marks = page.locator("#daemon-log-panel [role=log] .l-mark")
    expect(marks.filter(has_text="Reconfig by olga to master")).to_contain_text(": Sent", timeout=15_000)

    auditor = login(browser, console, "adam")
    auditor.goto(f"{console.url}/audit/?command=Reconfig")
    newest = auditor.locator("#records tbody tr").first
    expect(newest).to_contain_text("olga")
    expect(newest).to_contain_text("Reconfig")
    expect(newest).to_contain_text("Sent")

    auditor.goto(f"{console.url}/admin/daemons/commandrecord/?command=Reconfig")
    first_row = auditor.locator("#result_list tbody tr").first
    expect(first_row).to_contain_text("olga")
    expect(first_row).to_contain_text("Reconfig")
    expect(first_row).to_contain_text("Sent")
