"""Fixtures shared by several test folders: the roles, the real HTCondor pool, stand-ins for HTCondor and its logs.

A folder's own fixtures are in its conftest.py; plain helpers in tests/helpers.py and <folder>/helpers.py.

The pool is started once per test session by the same code as
``manage.py devpool up`` (instance "test", its own port, so tests that stop
daemons never touch the pool ``make run`` uses); so is the fleet (instance
"fleet": the same with four execute nodes, for slots, jobs and drains), when a
test asks for it.
"""

from __future__ import annotations

import io
import logging
import os
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, User

import condor.client
import condor.tools
import condor.workers
from condor.types import Credentials
from daemons.logs import logstream
from daemons.models import Daemon
from daemons.permissions import ADMINISTRATORS, OPERATORS, VIEWERS, sync_default_groups
from devtools import devpool
from tests import servers
from tests.helpers import FakeHTCondor, Queued, fresh_pool

TEST_POOL_NAME = os.environ.get("CONDORWEB_TEST_POOL_NAME", "test")
TEST_POOL_PORT = int(os.environ.get("CONDORWEB_TEST_POOL_PORT", "9718"))
TEST_FLEET_NAME = os.environ.get("CONDORWEB_TEST_FLEET_NAME", "fleet")
TEST_FLEET_PORT = int(os.environ.get("CONDORWEB_TEST_FLEET_PORT", "9728"))
TEST_FLEET_NODES = 4
REQUIRE_POOL = os.environ.get("CONDORWEB_REQUIRE_POOL") == "1"
KEEP_TEST_POOLS = os.environ.get("CONDORWEB_KEEP_TEST_POOL") == "1"

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
_fleet_state: dict[str, object] = {}


def _session_pool(state: dict[str, object], name: str, port: int, execute_nodes: int = 0) -> devpool.DevPool:
    """An instance started once per session, on first use; a skip (a failure when CONDORWEB_REQUIRE_POOL=1)."""
    if "error" in state:
        _skip_or_fail(str(state["error"]))
    if "pool" not in state:
        try:
            state["pool"] = devpool.up(name, port, execute_nodes=execute_nodes)
        except (devpool.DevPoolUnavailable, RuntimeError, TimeoutError, OSError) as exc:
            state["error"] = exc
            _skip_or_fail(str(exc))
    return state["pool"]  # type: ignore[return-value]


@pytest.fixture(scope="session")
def real_pool() -> devpool.DevPool:
    """The real dev pool, or a skip (a failure when CONDORWEB_REQUIRE_POOL=1)."""
    return _session_pool(_pool_state, TEST_POOL_NAME, TEST_POOL_PORT)


@pytest.fixture(scope="session")
def fleet_pool() -> devpool.DevPool:
    """A real pool with TEST_FLEET_NODES execute nodes (exec01@<host>, ...), or a skip as for ``real_pool``."""
    return _session_pool(_fleet_state, TEST_FLEET_NAME, TEST_FLEET_PORT, TEST_FLEET_NODES)


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
def healthy_fleet(fleet_pool: devpool.DevPool) -> devpool.DevPool:
    """The fleet, brought back up if an earlier test stopped it (or some of its daemons)."""
    return devpool.up(fleet_pool.name, fleet_pool.port, execute_nodes=TEST_FLEET_NODES)


@pytest.fixture
def credentials(healthy_pool: devpool.DevPool) -> Credentials:
    return Credentials(token_file=healthy_pool.token_file, config_val=tuple(healthy_pool.config_val))


@pytest.fixture(scope="session")
def real_services() -> Iterator[servers.Endpoints]:
    """PostgreSQL and Redis: those ``python -m tests.servers run`` started, else our own for the session."""
    given = servers.given_endpoints()
    if given:
        yield given
        return
    started = servers.Servers()
    try:
        started.start()
    except servers.ServerUnavailable as exc:
        message = f"SERVICE TESTS NOT RUN: PostgreSQL and Redis could not start: {exc}"
        print(f"\n*** {message} ***\n", file=sys.stderr)
        pytest.skip(message)
    try:
        yield started.endpoints()
    finally:
        started.stop()


def pytest_configure(config: pytest.Config) -> None:
    # SIGTERM (a CI time limit, kill) ends the run as Ctrl-C does, so fixtures
    # still stop the servers and daphne processes they started.
    signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    condor.workers.shutdown_workers()
    if KEEP_TEST_POOLS:
        return
    if "pool" in _pool_state:
        devpool.down(TEST_POOL_NAME)
    if "pool" in _fleet_state:
        devpool.down(TEST_FLEET_NAME)


@pytest.fixture(autouse=True)
def background_jobs() -> Iterator[Queued]:
    """The task queue in memory, its jobs held: a test runs them (``.run()``) after it has seen the page.

    Every test has it, so none puts a job in the queue a `make run` worker reads.
    """
    queued = Queued()
    with queued.installed():
        yield queued


@pytest.fixture
def inline_jobs(background_jobs: Queued) -> Iterator[None]:
    """Jobs run as they are queued (Huey's immediate mode), in the test's thread and transaction."""
    with background_jobs.immediate():
        yield


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


# HTCondor's configuration calls, faked (configview, commands, security, project).


@pytest.fixture
def htcondor(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHTCondor]:
    fake = FakeHTCondor()
    for name in (
        "remote_config_all",
        "remote_config_sources",
        "remote_config_value",
        "remote_config_values",
        "check_authorization",
        "remote_config_set",
        "remote_config_unset",
        "remote_runtime_values",
        "send_command",
        "local_config",
        "local_reload",
        "client_defaults",
    ):
        monkeypatch.setattr(condor.client, name, getattr(fake, name))
    monkeypatch.setattr(condor.tools, "tools_available", fake.tools_available)
    yield fake


# A daemon whose log is a real file on the console host (logs, security, inventory).

DAEMON_LOG_DIR = "/var/log/condor"


@pytest.fixture
def knobs(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The fake daemon's configuration, as it answers the console; a test may change it."""
    config = {
        "LOG": DAEMON_LOG_DIR,
        "MASTER_LOG": f"{DAEMON_LOG_DIR}/MasterLog",
        "SCHEDD_LOG": f"{DAEMON_LOG_DIR}/SchedLog",
    }
    monkeypatch.setattr(condor.client, "remote_config_value", lambda target, key, credentials: config.get(key))
    monkeypatch.setattr(condor.client, "remote_config_names", lambda target, credentials: [*config, "Log"])
    logstream.forget_cached_paths()
    return config


@pytest.fixture
def log_dir(tmp_path: Path, knobs: dict[str, str]) -> Path:
    """Where the fake daemon's /var/log/condor is on the console host."""
    (tmp_path / "log").mkdir()
    return tmp_path / "log"


@pytest.fixture
def master(log_dir: Path) -> Daemon:
    pool = fresh_pool("logs")
    pool.log_path_from = DAEMON_LOG_DIR
    pool.log_path_to = str(log_dir)
    pool.save()
    return Daemon.objects.create(
        pool=pool, kind="master", name="master@node1", address="<127.0.0.1:9618>", subsystem="MASTER"
    )


# Pools that never answer, in bounded time (condor, inventory).


@pytest.fixture
def black_hole() -> Iterator[int]:
    """A loopback port that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    yield listener.getsockname()[1]
    listener.close()


@pytest.fixture
def short_timeout() -> Iterator[None]:
    condor.workers.configure(timeout=1.5)
    yield
    condor.workers.configure(timeout=10.0)
    condor.workers.shutdown_workers()
