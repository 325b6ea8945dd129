"""What benchmark areas share: a scratch database and the real dev pool."""

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
    """Sets up a throw-away database (migrated) and a bench pool instance."""

    def __enter__(self) -> BenchContext:
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connections

        self._tmp = tempfile.TemporaryDirectory(prefix="condorweb-bench-")
        if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
            settings.DATABASES["default"]["NAME"] = os.path.join(self._tmp.name, "bench.sqlite3")
            connections["default"].close()
        call_command("migrate", verbosity=0, interactive=False)
        self.pool = devpool.up(BENCH_POOL_NAME, BENCH_POOL_PORT)
        self.credentials = Credentials(token_file=self.pool.token_file, config_val=tuple(self.pool.config_val))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        condor.workers.shutdown_workers()
        devpool.down(BENCH_POOL_NAME)
        self._tmp.cleanup()
