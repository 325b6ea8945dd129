"""A console process whose PostgreSQL or Redis goes away says so, and recovers by itself."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import servers
from tests.conftest import PASSWORD

pytestmark = pytest.mark.services


@dataclass
class Site:
    console: servers.Console
    postgres: servers.Postgres
    redis: servers.Redis


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, real_services: servers.Endpoints) -> Iterator[Site]:
    """One console on a PostgreSQL and a Redis of its own, so this test may stop them.

    (``real_services`` only skips this where such servers cannot run.)
    """
    directory: Path = tmp_path_factory.mktemp("outages")
    started = servers.Servers().start()
    assert started.postgres and started.redis
    environment = servers.production_environment(
        directory,
        database_url=started.postgres.url(),
        redis_url=started.redis.url(),
        admin_password=PASSWORD,
        secret_key=secrets.token_urlsafe(64),
    )
    console = servers.Console(environment, log=directory / "daphne.log")
    try:
        console.prepare().start()
        yield Site(console=console, postgres=started.postgres, redis=started.redis)
    finally:
        console.stop()
        started.stop()


@pytest.fixture
def postgres_down(site: Site) -> Iterator[None]:
    site.postgres.stop()
    yield
    site.postgres.start()


@pytest.fixture
def redis_down(site: Site) -> Iterator[None]:
    site.redis.stop()
    yield
    site.redis.start()


@pytest.fixture
def browser(site: Site) -> servers.Browser:
    browser = servers.Browser(site.console.url)
    browser.log_in("admin", PASSWORD)
    return browser


def test_a_page_says_the_database_is_down_when_postgresql_is_stopped(
    browser: servers.Browser, postgres_down: None
) -> None:
    page = browser.get("/")

    assert page.status == 503
    assert "The database server cannot be reached." in page.text
    assert "Traceback" not in page.text


def test_a_change_made_while_postgresql_is_down_is_refused_and_not_made_later(
    site: Site, browser: servers.Browser
) -> None:
    site.postgres.stop()
    try:
        refused = browser.post("/admin/auth/group/add/", {"name": "Lost change", "_save": "Save"})
    finally:
        site.postgres.start()

    assert refused.status == 503
    assert "Lost change" not in browser.get("/admin/auth/group/").text


def test_the_console_recovers_when_postgresql_comes_back(site: Site, browser: servers.Browser) -> None:
    site.postgres.stop()
    assert browser.get("/").status == 503
    site.postgres.start()

    page = browser.get("/")

    assert page.status == 200
    assert '<span class="who">admin</span>' in page.text


def test_pages_still_work_while_redis_is_down(browser: servers.Browser, redis_down: None) -> None:
    assert browser.get("/").status == 200


def test_a_broadcast_while_redis_is_down_is_logged_not_raised(site: Site, redis_down: None) -> None:
    # Another process of the same site, as a service call committing a change would be.
    result = site.console.manage("shell", "-c", "from daemons import events; events.pool_changed(5)")

    assert "Could not broadcast pool.changed to pool.5" in result.stderr
