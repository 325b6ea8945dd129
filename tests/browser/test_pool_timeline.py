"""The pool page's timeline shows a schedd turned off and on, with the commands that did it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Console, login

pytestmark = [pytest.mark.browser, pytest.mark.integration]

# Runs inside the console's own process environment, so the commands land in its database.
SEND = """
from condor.commands import Command
from daemons.commands import services
from daemons.models import Daemon, Pool
from django.contrib.auth.models import User
master = Daemon.objects.get(pool__name={pool!r}, kind="master")
services.command_send(
    user=User.objects.get(username="olga"), daemon=master, command=Command.{command}, subsystem={subsystem!r},
    client=services.ClientInfo(),
)
"""


def send(console: Console, pool: str, command: str, subsystem: str = "SCHEDD") -> None:
    """``command`` to the pool's master, as olga, through daemons.commands.services (HTCondor, no page)."""
    console.manage("shell", "-c", SEND.format(pool=pool, command=command, subsystem=subsystem))


def test_the_timeline_shows_the_schedd_going_down_and_up_with_the_commands(
    browser, console: Console, real_pool
) -> None:
    page = login(browser, console, "olga")
    page.locator("main").get_by_role("link", name=real_pool.name, exact=True).first.click()
    schedd = page.locator("table.daemons tr", has=page.locator("td", has_text="schedd"))
    expect(schedd).to_contain_text("Up", timeout=30_000)
    timeline = page.locator("#timeline")

    send(console, real_pool.name, "DaemonOff")
    try:
        expect(timeline.locator("li", has_text="DaemonOff SCHEDD").first).to_contain_text("Sent", timeout=15_000)
        # The table shows the state now; the timeline's newest line is then the change that led to it
        # (earlier tests of the session may have left older changes further down).
        expect(schedd).to_contain_text("Down", timeout=60_000)
        newest = timeline.locator("li").first
        expect(newest).to_contain_text("schedd")
        expect(newest).to_contain_text("→ ✖ Down")
    finally:
        send(console, real_pool.name, "DaemonOn")
    expect(timeline.locator("li", has_text="DaemonOn SCHEDD").first).to_contain_text("olga")
    expect(schedd).to_contain_text("Up", timeout=60_000)
    newest = timeline.locator("li").first
    expect(newest).to_contain_text("schedd")
    expect(newest).to_contain_text("→ ✔ Up")
