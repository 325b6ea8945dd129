"""What benchmark areas share: a scratch database, an in-memory task queue and the real dev pool."""

from __future__ import annotations

import os
import tempfile
from types import TracebackType

import condor.workers
from condor.types import Credentials
from devtools import devpool

BENCH_POOL_NAME = os.environ.get("CONDORWEB_BENCH_POOL_NAME", "bench")
BENCH_POOL_PORT = int(os.environ.get("CONDORWEB_BENCH_POOL_PORT", "9818"))


class BenchContext:
    """Sets up a throw-away database (migrated), the task queue in memory, and a bench pool instance.

    Jobs the measured code queues land in the in-memory queue, never in the
    console's own (``var/queue.sqlite3`` or Redis); no worker runs them unless
    an area executes them in-process (``run_queued``) or starts its own.
    """

    def __enter__(self) -> BenchContext:
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connections

        self._tmp = tempfile.TemporaryDirectory(prefix="condorweb-bench-")
        if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
            settings.DATABASES["default"]["NAME"] = os.path.join(self._tmp.name, "bench.sqlite3")
            connections["default"].close()
        call_command("migrate", verbosity=0, interactive=False)
        from huey.contrib.djhuey import HUEY as huey
        from huey.storage import MemoryStorage

        self._storage = huey.storage
        huey.storage = MemoryStorage(huey.name)
        self.pool = devpool.up(BENCH_POOL_NAME, BENCH_POOL_PORT)
        self.credentials = Credentials(token_file=self.pool.token_file, config_val=tuple(self.pool.config_val))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        from huey.contrib.djhuey import HUEY as huey

        condor.workers.shutdown_workers()
        huey.storage = self._storage
        devpool.down(BENCH_POOL_NAME)
        self._tmp.cleanup()


def run_queued() -> int:
    """Run, in this process and in order, the jobs queued now (not the scheduled ones): as a worker would; how many."""
    from huey.contrib.djhuey import HUEY as huey

    ran = 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
        ran += 1
    return ran
