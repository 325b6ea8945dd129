"""Every page keeps working under the Content-Security-Policy: Chromium reports no violation anywhere."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Console, login
from tests.browser.pages import LOG_PANE, open_master

pytestmark = [pytest.mark.browser, pytest.mark.integration]

# Chromium reports a blocked script, style, connection or frame both as this
# event and as a console message starting "Refused to"; the event is recorded
# by a script the browser runs before the page's own (not subject to the policy).
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__violations.push(e.effectiveDirective + ' blocked ' + (e.blockedURI || 'inline')));
"""

PAGES = [
    "/",
    "/config/",
    "/config/local/",
    "/config/shares/",
    "/audit/",
    "/diagnostics/",
    "/admin/",
    "/admin/daemons/commandrecord/",
    "/admin/daemons/pool/",
]


def test_no_page_reports_a_policy_violation_and_the_live_log_still_streams(
    browser, console: Console, real_pool
) -> None:
    page = login(browser, console, "adam")
    page.context.add_init_script(RECORD_VIOLATIONS)
    refused: list[str] = []
    page.on(
        "console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None
    )

    seen = {}
    for path in PAGES:
        response = page.goto(f"{console.url}{path}")
        assert response is not None and response.status == 200, path
        seen[path] = page.evaluate("window.__violations")
    open_master(page, console, real_pool.name)
    # The live log arrives over the console's own websocket (connect-src).
    expect(page.locator(LOG_PANE)).to_contain_text("condor_master", timeout=30_000)
    seen["daemon page"] = page.evaluate("window.__violations")
    page.get_by_role("link", name="Live log").first.click()
    page.wait_for_load_state()
    seen["log page"] = page.evaluate("window.__violations")

    assert not refused, refused
    assert all(not violations for violations in seen.values()), seen


def test_the_policy_reaches_the_browser(browser, console: Console) -> None:
    page = browser.new_context().new_page()

    response = page.goto(f"{console.url}/login/")

    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    page.context.close()
