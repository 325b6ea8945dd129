"""Shared fixtures: the three roles, and the real HTCondor pool.

The pool is started once per test session by the same code as
``manage.py devpool up`` (instance "test", its own port, so tests that stop
daemons never touch the pool ``make run`` uses).
"""

from __future__ import annotations

import io
import logging
import os
import signal
import sys
from collections.abc import Iterator

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, User

import condor.workers
from condor.types import Credentials
from devtools import devpool
from daemons.permissions import ADMINISTRATORS, OPERATORS, VIEWERS, sync_default_groups
from tests import services

TEST_POOL_NAME = os.environ.get("CONDORWEB_TEST_POOL_NAME", "test")
TEST_POOL_PORT = int(os.environ.get("CONDORWEB_TEST_POOL_PORT", "9718"))
REQUIRE_POOL = os.environ.get("CONDORWEB_REQUIRE_POOL") == "1"

PASSWORD = "correct-horse-battery-staple"


def _user(username: str, group: str, **extra: object) -> User:
    if not Group.objects.filter(name=group).exists():
        # A transactional test before this one flushed what the migrations created.
        sync_default_groups(django_apps)
    user = User.objects.create_user(username=username, password=PASSWORD, **extra)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def admin(db: None) -> User:
    return _user("alice-admin", ADMINISTRATORS, is_staff=True)


@pytest.fixture
def operator(db: None) -> User:
    return _user("oscar-operator", OPERATORS)


@pytest.fixture
def viewer(db: None) -> User:
    return _user("victor-viewer", VIEWERS)


@pytest.fixture
def nobody(db: None) -> User:
    """A logged-in user in no group."""
    return User.objects.create_user(username="nora-nogroup", password=PASSWORD)


_pool_state: dict[str, object] = {}


@pytest.fixture(scope="session")
def real_pool() -> Iterator[devpool.DevPool]:
    """The real dev pool, or a skip (a failure when CONDORWEB_REQUIRE_POOL=1)."""
    if "error" in _pool_state:
        _skip_or_fail(str(_pool_state["error"]))
    if "pool" not in _pool_state:
        try:
            _pool_state["pool"] = devpool.up(TEST_POOL_NAME, TEST_POOL_PORT)
        except (devpool.DevPoolUnavailable, RuntimeError, TimeoutError, OSError) as exc:
            _pool_state["error"] = exc
            _skip_or_fail(str(exc))
    yield _pool_state["pool"]  # type: ignore[misc]


def _skip_or_fail(reason: str) -> None:
    message = f"REAL-POOL TESTS NOT RUN: the HTCondor dev pool could not start: {reason}"
    if REQUIRE_POOL:
        pytest.fail(message, pytrace=False)
    print(f"\n*** {message} ***\n", file=sys.stderr)
    pytest.skip(message)


@pytest.fixture
def healthy_pool(real_pool: devpool.DevPool) -> devpool.DevPool:
    """The real pool, brought back up if an earlier test stopped it."""
    return devpool.up(real_pool.name, real_pool.port)


@pytest.fixture
def credentials(healthy_pool: devpool.DevPool) -> Credentials:
    return Credentials(token_file=healthy_pool.token_file, config_val=tuple(healthy_pool.config_val))


@pytest.fixture(scope="session")
def real_services() -> Iterator[services.Endpoints]:
    """PostgreSQL and Redis: those ``python -m tests.services run`` started, else our own for the session."""
    given = services.given_endpoints()
    if given:
        yield given
        return
    servers = services.Services()
    try:
        servers.start()
    except services.ServiceUnavailable as exc:
        message = f"SERVICE TESTS NOT RUN: PostgreSQL and Redis could not start: {exc}"
        print(f"\n*** {message} ***\n", file=sys.stderr)
        pytest.skip(message)
    try:
        yield servers.endpoints()
    finally:
        servers.stop()


def pytest_configure(config: pytest.Config) -> None:
    # SIGTERM (a CI time limit, kill) ends the run as Ctrl-C does, so fixtures
    # still stop the servers and daphne processes they started.
    signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    condor.workers.shutdown_workers()
    if "pool" in _pool_state and os.environ.get("CONDORWEB_KEEP_TEST_POOL") != "1":
        devpool.down(TEST_POOL_NAME)


def _job_kind(job: tuple[object, tuple[object, ...]]) -> object:
    key = job[1][0]  # jobs are queued as background._run(key, fn, *args)
    return key[0] if isinstance(key, tuple) else key


class QueuedJobs:
    """Stands in for daemons.background's threads: jobs wait until a test runs them."""

    def __init__(self) -> None:
        self.jobs: list[tuple[object, tuple[object, ...]]] = []

    def submit(self, fn, /, *args):  # noqa: ANN001, ANN202 - the executor's own signature
        self.jobs.append((fn, args))

    def run(self, kind: str = "") -> int:
        """Run the queued jobs (those whose key starts with ``kind``, if given) in the test's thread
        and database transaction, with the jobs they queue; how many ran."""
        done = 0
        while wanted := [job for job in self.jobs if not kind or _job_kind(job) == kind]:
            fn, args = wanted[0]
            self.jobs.remove(wanted[0])
            fn(*args)
            done += 1
        return done


@pytest.fixture
def background_jobs(monkeypatch: pytest.MonkeyPatch) -> Iterator[QueuedJobs]:
    """Background work (e.g. stale-pool refreshes) queued, not threaded: pages are seen before it runs."""
    from daemons import background

    queued = QueuedJobs()
    monkeypatch.setattr(background, "_executors", dict.fromkeys(background._executors, queued))
    yield queued
    queued.jobs.clear()
    background._in_flight.clear()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Playwright's sync API keeps an event loop running in the main thread
    # while its browser is open; tests after it would see an async context.
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
    # Screenshots rewrite files in docs/: only `make screenshots` (-m screenshots) takes them.
    if "screenshots" not in (config.option.markexpr or ""):
        shots = [item for item in items if item.get_closest_marker("screenshots") is not None]
        if shots:
            config.hook.pytest_deselected(items=shots)
            items[:] = [item for item in items if item.get_closest_marker("screenshots") is None]


@pytest.fixture
def console_log() -> Iterator[io.StringIO]:
    """What the console's own log handler writes (settings.LOGGING), formatted and filtered as in production."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    written = io.StringIO()
    previous = handler.setStream(written)
    try:
        yield written
    finally:
        handler.setStream(previous)
