"""A real console for browser tests: daphne in a subprocess, a scratch
database, the real test pool, and Debian's Chromium driven by Playwright.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools import devpool, run
from tests.servers import Console, Worker

CHROMIUM = os.environ.get("CONDORWEB_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps trying hosts this
# closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PASSWORD = "browser-test-password-1"
USERS = {"olga": "Operators", "vera": "Viewers", "adam": "Administrators"}

SETUP_SCRIPT = """
import sys
from django.contrib.auth.models import Group, User
password = sys.argv[1]
for spec in sys.argv[2:]:
    name, group = spec.split(":")
    user = User.objects.create_user(username=name, password=password, is_staff=(group == "Administrators"))
    user.groups.add(Group.objects.get(name=group))
"""


@pytest.fixture(scope="session")
def console(real_pool: devpool.DevPool, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: make test installs Debian's chromium (scripts/system-deps.sh).")
    data = tmp_path_factory.mktemp("console")
    # The console host's own configuration as make run writes it (the tutorial's prefixed pair).
    local_config = run.console_host_config(data, {})["CONDORWEB_LOCAL_CONDOR_CONFIG"]
    console = Console(
        {
            "DJANGO_SETTINGS_MODULE": "condorweb.settings",
            "CONDORWEB_LOCAL_CONDOR_CONFIG": local_config,
            "CONDORWEB_DATA_DIR": str(data),
            "DATABASE_URL": f"sqlite:///{data / 'db.sqlite3'}",
            "REDIS_URL": "",
            "CONDORWEB_ALLOWED_HOSTS": "127.0.0.1,localhost",
            # The watch reads the pool every 3 s, as pages once did when they found it stale.
            "CONDORWEB_WATCH_INTERVAL": "3",
        },
        log=data / "daphne.log",
    )
    console.manage("migrate", "--noinput")
    users = [f"{u}:{g}" for u, g in USERS.items()]
    console.manage(
        "shell", "-c", SETUP_SCRIPT.replace("sys.argv[1]", repr(PASSWORD)).replace("sys.argv[2:]", repr(users))
    )
    console.manage("devpool", "up", "--name", real_pool.name, "--port", str(real_pool.port))
    console.start()
    worker = Worker(console.environment, log=data / "worker.log").start()
    yield console
    worker.stop()
    console.stop()
    shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def login(browser: object, console: Console, username: str) -> object:
    """A fresh browser context logged in as ``username``; returns its page."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{console.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    return page
