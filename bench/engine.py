"""The task queue and the pool watch: a job's wait to start, a watch cycle's cost, an idle worker's memory.

- Enqueue-to-start: a no-op job (``engine.tasks.engine_ping``) queued from
  this process, one at a time, each at a random moment after the previous one
  started, run by a real ``manage.py worker`` on the embedded SQLite queue and
  on Redis; the job notes when it started in the queue's storage. Anchor: the
  same function called directly.
- A watch cycle: ``daemons.inventory.services.pool_refresh`` of 100 pools, one
  after another, the collectors' answers simulated (as bench/inventory.py
  does); wall and CPU time per pool, projected to 1,000 pools at the default
  60 s interval. Anchor: one real ``condor.client.discover`` of the bench pool,
  the part a real pool adds that the simulation leaves out.
- The resident memory of one idle worker after start, beside a bare
  ``python -c "import django"``.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import Row, percentile
from tests import servers

JOBS = 200
JOB_TIMEOUT = 30.0
POOLS = 100
DAEMONS_PER_POOL = 50
CYCLES = 3
PROJECTED_POOLS = 1_000
DEFAULT_INTERVAL = 60.0
IDLE_SECONDS = 3.0
MANAGE = Path(__file__).resolve().parent.parent / "manage.py"


def run(context: Any) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="condorweb-bench-engine-") as tmp:
        directory = Path(tmp)
        queues, rss = _queue_rows(directory)
    return queues + _watch_rows(context) + rss


# --------------------------------------------------------------------------
# Enqueue-to-start on a real worker, and the worker's memory.
# --------------------------------------------------------------------------


def _queue_rows(directory: Path) -> tuple[list[Row], list[Row]]:
    from huey.contrib.djhuey import HUEY as huey
    from huey.storage import RedisExpireStorage, SqliteStorage

    from engine import tasks
    from tests.helpers import swapped_storage

    environment = _worker_environment(directory)
    direct = _latencies(lambda sent: tasks.engine_ping.call_local(sent), huey)

    sqlite_url = f"sqlite:///{directory / 'queue.sqlite3'}"
    with swapped_storage(SqliteStorage(huey.name, filename=str(directory / "queue.sqlite3"))):
        with _worker({**environment, "CONDORWEB_QUEUE_URL": sqlite_url}, directory / "worker-sqlite.log") as worker:
            rss, idle_children = _rss_kib(worker.process.pid), servers.child_processes(worker.process.pid)
            embedded = _latencies(tasks.engine_ping, huey)

    redis_server: servers.Redis | None = None
    given = servers.given_endpoints()
    if given is not None:
        redis_url = given.redis_db(5)
    else:
        redis_server = servers.Redis(directory / "redis").start()
        redis_url = redis_server.url(5)
    try:
        storage = RedisExpireStorage(huey.name, url=redis_url)
        storage.flush_all()
        with (
            swapped_storage(storage),
            _worker({**environment, "CONDORWEB_QUEUE_URL": redis_url}, directory / "worker-redis.log") as worker,
        ):
            redis_rss = _rss_kib(worker.process.pid)
            redis = _latencies(tasks.engine_ping, huey)
        storage.flush_all()
    finally:
        if redis_server is not None:
            redis_server.stop()

    bare = _bare_django_rss_kib()
    anchor = "direct call of the same function"
    queue_rows = []
    for label, samples in (("embedded SQLite queue", embedded), ("Redis queue", redis)):
        for pct in (50, 99):
            queue_rows.append(
                Row(
                    figure=f"job enqueue to start, {label}, a real worker, p{pct} of {JOBS}",
                    value=percentile(samples, pct),
                    unit="ms",
                    target="-",
                    met=None,
                    anchor=anchor,
                    anchor_value=percentile(direct, pct),
                    note=(
                        "one job at a time, each queued at a random moment after the previous started; "
                        "an idle worker polls the SQLite file every 0.05-0.5 s"
                        if label.startswith("embedded")
                        else "one job at a time, as above; the worker blocks on Redis (BRPOP)"
                    )
                    if pct == 50
                    else f"max {max(samples):.1f} ms",
                )
            )
    rss_rows = [
        Row(
            figure=f"resident memory of one idle worker ({IDLE_SECONDS:g} s after start, embedded queue)",
            value=rss / 1024,
            unit="MiB",
            target="-",
            met=None,
            anchor='a bare python -c "import django"',
            anchor_value=bare / 1024,
            note=f"VmRSS; the same on Redis {redis_rss / 1024:.1f} MiB; "
            f"{len(idle_children)} child processes (HTCondor helpers start at a job's first HTCondor call)",
        )
    ]
    return queue_rows, rss_rows


def _worker_environment(directory: Path) -> dict[str, str]:
    """The workers' own database, migrated: the bench's holds pools the worker's watch would refresh at start."""
    environment = {
        "CONDORWEB_DATA_DIR": str(directory),
        "DATABASE_URL": f"sqlite:///{directory / 'worker.sqlite3'}",
        "CONDORWEB_QUEUE_URL": f"sqlite:///{directory / 'migrate-queue.sqlite3'}",
    }
    subprocess.run(
        [sys.executable, str(MANAGE), "migrate", "--verbosity", "0"],
        env={**os.environ, **environment},
        check=True,
        timeout=300,
    )
    return environment


@contextmanager
def _worker(environment: dict[str, str], log: Path) -> Iterator[servers.Worker]:
    worker = servers.Worker(environment, log=log).start()
    try:
        # Its start-up jobs (watch, recoveries) run first: measure it idle.
        time.sleep(IDLE_SECONDS)
        yield worker
    finally:
        worker.stop()


def _latencies(send: Any, huey: Any) -> list[float]:
    """Milliseconds from queueing each of JOBS pings to its start, one at a time."""
    from engine.tasks import ping_key

    samples = []
    for _ in range(JOBS):
        # A random moment in the worker's poll cycle, not just after its last job.
        time.sleep(random.uniform(0.0, 0.1))
        sent = time.time()
        send(sent)
        deadline = time.monotonic() + JOB_TIMEOUT
        while (started := huey.get(ping_key(sent))) is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the ping job did not start within {JOB_TIMEOUT:g} s")
            time.sleep(0.002)
        samples.append((started - sent) * 1000)
    return samples


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def _bare_django_rss_kib() -> int:
    output = subprocess.run(
        [sys.executable, "-c", "import django; print(open('/proc/self/status').read())"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return next(int(line.split()[1]) for line in output.splitlines() if line.startswith("VmRSS:"))


# --------------------------------------------------------------------------
# A watch cycle.
# --------------------------------------------------------------------------


def _watch_rows(context: Any) -> list[Row]:
    from django.conf import settings

    import condor.client
    from bench.inventory import collector_answer
    from condor.types import DaemonInfo
    from daemons.inventory import services
    from daemons.models import Pool
    from tests.helpers import add_daemons

    pools = []
    answers: dict[str, list[DaemonInfo]] = {}
    for n in range(POOLS):
        pool = services.pool_save(name=f"bench-watch-{n:03d}", collector=f"cm{n}.bench.invalid:9618")
        add_daemons(pool, DAEMONS_PER_POOL, machines=DAEMONS_PER_POOL // 5)
        answers[pool.collector] = collector_answer(pool)
        pools.append(pool.pk)
    # The refreshes pool_save queued for the new pools: not run (the cycle below is the watch's).
    from huey.contrib.djhuey import HUEY as huey

    huey.storage.flush_all()

    def cycle() -> tuple[float, float]:
        started, cpu = time.perf_counter(), time.process_time()
        for pool_id in pools:
            # What the watch's job does for each pool, less the queue's locks (the rows above).
            services.pool_refresh(pool=Pool.objects.get(pk=pool_id))
        return time.perf_counter() - started, time.process_time() - cpu

    real_discover = condor.client.discover
    condor.client.discover = lambda collector, credentials: answers[collector]
    try:
        cycle()  # the first refresh of each pool writes what add_daemons left out
        measured = [cycle() for _ in range(CYCLES)]
    finally:
        condor.client.discover = real_discover
    failed = Pool.objects.filter(pk__in=pools).exclude(last_refresh_error="").count()
    assert failed == 0, f"{failed} simulated refreshes failed"

    discover_ms = []
    for _ in range(10):
        started = time.perf_counter()
        condor.client.discover(context.pool.collector, context.credentials)
        discover_ms.append((time.perf_counter() - started) * 1000)

    wall_ms = statistics.median(w for w, _ in measured) / POOLS * 1000
    cpu_ms = statistics.median(c for _, c in measured) / POOLS * 1000
    cpu_per_minute = cpu_ms / 1000 * PROJECTED_POOLS * (60 / DEFAULT_INTERVAL)
    database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    anchor = "condor.client.discover of the real bench pool, p50"
    return [
        Row(
            figure=f"watch cycle over {POOLS} pools ({DAEMONS_PER_POOL} daemons each, answers simulated): wall time per pool, median of {CYCLES} cycles",
            value=wall_ms,
            unit="ms",
            target="-",
            met=None,
            anchor=anchor,
            anchor_value=percentile(discover_ms, 50),
            note=f"pool_refresh one pool after another; a cycle {wall_ms * POOLS / 1000:.2f} s; database {database}",
        ),
        Row(
            figure="  CPU time per pool of the same cycle",
            value=cpu_ms,
            unit="ms",
            target="-",
            met=None,
            anchor="its wall time per pool",
            anchor_value=wall_ms,
            note="this process's CPU (a PostgreSQL server's own is not counted)",
        ),
        Row(
            figure=f"  projected: {PROJECTED_POOLS:,} pools at the default {DEFAULT_INTERVAL:g} s interval, CPU seconds per minute",
            value=cpu_per_minute,
            unit="s",
            target="-",
            met=None,
            note=f"{cpu_per_minute / 60:.0%} of one core; discover's own CPU (HTCondor helpers) not included",
        ),
    ]
