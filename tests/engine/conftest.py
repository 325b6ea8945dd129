"""Fixtures of the engine tests: the queue a real worker reads, and real `manage.py worker` processes.

A worker is a process of its own, so it needs what the test writes committed
(``django_db(transaction=True)``) in a database it can open: these tests run
in the PostgreSQL phase of `make test` (marker ``services``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection
from huey.contrib.djhuey import HUEY as huey
from huey.storage import RedisExpireStorage, SqliteStorage

from tests.helpers import swapped_storage, wait_for

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class WorkerProcess:
    process: subprocess.Popen
    log: Path

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: nothing of it runs after."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


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
def start_worker(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start `manage.py worker` on ``queue`` (a URL) with extra settings; every one is stopped at the end."""
    started: list[WorkerProcess] = []

    def start(queue: str, **environment: str) -> WorkerProcess:
        log = tmp_path / f"worker-{len(started)}.log"
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "CONDORWEB_QUEUE_URL": queue,
            "CONDORWEB_DATA_DIR": str(tmp_path),
            "CONDORWEB_WORKER_HEARTBEAT": "0.5",
            "CONDORWEB_HTCONDOR_TIMEOUT": "1",
            "PYTHONUNBUFFERED": "1",
            **environment,
        }
        with log.open("w") as out:
            process = subprocess.Popen(
                [sys.executable, "manage.py", "worker"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        worker = WorkerProcess(process, log)
        started.append(worker)
        wait_for(lambda: "Worker " in worker.output() or process.poll() is not None, timeout=60, what="the worker")
        if process.poll() is not None:
            pytest.fail(f"The worker stopped at once:\n{worker.output()}")
        return worker

    yield start
    for worker in started:
        worker.stop()
