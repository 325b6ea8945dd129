"""Fixtures of the engine tests: the queue a real worker reads, and real `manage.py worker` processes.

A worker is a process of its own, so it needs what the test writes committed
(``django_db(transaction=True)``) in a database it can open: these tests run
in the PostgreSQL phase of `make test` (marker ``services``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection
from huey.contrib.djhuey import HUEY as huey
from huey.storage import RedisExpireStorage, SqliteStorage

from tests import servers
from tests.helpers import swapped_storage


def _database_url() -> str:
    """The test database (pytest-django's test_* on the PostgreSQL server), for the worker to open."""
    s = connection.settings_dict
    if s["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail("A real worker needs a database another process can open: run under `python -m tests.servers run`.")
    return f"postgres://{s['USER']}:{s['PASSWORD'] or ''}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


@pytest.fixture
def sqlite_queue(tmp_path: Path) -> Iterator[str]:
    """The embedded queue in a file of this test's, shared by the test and its workers; its URL."""
    path = tmp_path / "queue.sqlite3"
    with swapped_storage(SqliteStorage(huey.name, filename=str(path))):
        yield f"sqlite:///{path}"


@pytest.fixture
def redis_queue() -> Iterator[str]:
    """Production's queue on the test Redis server (its database 3), emptied before and after; its URL."""
    url = os.environ.get("REDIS_URL", "")
    if not url:
        pytest.fail("The Redis queue needs REDIS_URL: run under `python -m tests.servers run`.")
    url = url.rsplit("/", 1)[0] + "/3"
    storage = RedisExpireStorage(huey.name, url=url)
    storage.flush_all()
    with swapped_storage(storage):
        yield url
    storage.flush_all()


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., servers.Worker]]:
    """Start `manage.py worker` on ``queue`` (a URL) with extra settings; every one is stopped at the end."""
    started: list[servers.Worker] = []

    def start(queue: str, **environment: str) -> servers.Worker:
        env = {
            "DATABASE_URL": _database_url(),
            "CONDORWEB_QUEUE_URL": queue,
            "CONDORWEB_DATA_DIR": str(tmp_path),
            "CONDORWEB_WORKER_HEARTBEAT": "0.5",
            "CONDORWEB_HTCONDOR_TIMEOUT": "1",
            **environment,
        }
        worker = servers.Worker(env, log=tmp_path / f"worker-{len(started)}.log")
        started.append(worker)
        try:
            return worker.start()
        except servers.ServerUnavailable as exc:
            pytest.fail(str(exc))

    yield start
    for worker in started:
        worker.stop()
