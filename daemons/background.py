"""Work that must not hold up a page: a few threads per process, one job per key at a time.

At the app's top, not in a subpackage: inventory, commands and configview all
queue work here, and a task queue replaces it in a later step.

A page that finds its data stale asks for a refresh here and renders what it
has; its htmx poll shows the new data once the job is done. The threads only
wait: HTCondor calls run in worker processes with a bounded wait, so a
black-holed pool costs one thread for ``CONDORWEB_HTCONDOR_TIMEOUT`` and never
delays a request. Tests put ``hold()`` or ``inline()`` in the threads' place.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import Any, Literal

from django.db import connections

logger = logging.getLogger(__name__)

# Enough for several slow pools at once; more pools simply queue.
MAX_THREADS = 8
# Bulk commands: a batch to many silent daemons holds its thread for minutes,
# so batches have threads of their own and refreshes never queue behind them.
COMMAND_THREADS = 4


class _Executor(ThreadPoolExecutor):
    """Threads that give back their database connections after each job.

    Django closes connections at the end of a request; a background job has no
    request, so a connection kept by an idle thread would never be checked again.
    """

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        return super().submit(_closing_connections, fn, *args, **kwargs)


def _closing_connections(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    finally:
        connections.close_all()


_executors: dict[str, ThreadPoolExecutor] = {
    "jobs": _Executor(max_workers=MAX_THREADS, thread_name_prefix="condorweb-background"),
    "commands": _Executor(max_workers=COMMAND_THREADS, thread_name_prefix="condorweb-commands"),
}
_in_flight: set[Hashable] = set()  # queued or running
_running: set[Hashable] = set()  # running, as a queued job or in run_as
_futures: set[Future] = set()
_lock = threading.Lock()
_key_freed = threading.Condition(_lock)
# What hold() or inline() put in place of the threads; None: the threads.
_instead: Held | Literal["inline"] | None = None


def submit_once(key: Hashable, fn: Callable[..., Any], /, *args: Any, lane: str = "jobs") -> bool:
    """Run ``fn(*args)`` on ``lane``'s threads unless a job with ``key`` is queued or running.

    Returns whether a job was started.
    """
    instead = _instead
    if instead == "inline":
        fn(*args)
        return True
    with _lock:
        if key in _in_flight:
            return False
        _in_flight.add(key)
    if isinstance(instead, Held):
        instead.jobs.append((key, fn, args))
        return True
    try:
        future = _executors[lane].submit(_run, key, fn, *args)
    except BaseException:
        with _key_freed:
            _in_flight.discard(key)
        raise
    with _lock:
        _futures.add(future)
    future.add_done_callback(_forget)
    return True


def wait_all(timeout: float | None = None) -> None:
    """Block until every job started so far has finished (tests, benchmarks)."""
    with _lock:
        futures = list(_futures)
    wait(futures, timeout=timeout)


def _forget(future: Future) -> None:
    with _lock:
        _futures.discard(future)


def run_as(key: Hashable, fn: Callable[..., Any], /, *args: Any, wait: float) -> Any:
    """Run ``fn(*args)`` in this thread as the job with ``key``: after the one with ``key`` running now.

    A job with ``key`` queued meanwhile starts once this one is done. A job
    still running after ``wait`` seconds is stuck past every HTCondor bound;
    ``fn`` then runs anyway rather than never.
    """
    deadline = time.monotonic() + wait
    with _key_freed:
        while key in _running and (remaining := deadline - time.monotonic()) > 0:
            _key_freed.wait(remaining)
        owned = key not in _running
        _running.add(key)
    try:
        return fn(*args)
    finally:
        if owned:
            with _key_freed:
                _running.discard(key)
                _key_freed.notify_all()


def in_flight(key: Hashable) -> bool:
    with _lock:
        return key in _in_flight


def _run(key: Hashable, fn: Callable[..., Any], *args: Any, raising: bool = False) -> None:
    with _key_freed:
        # Only run_as can hold the key now (submit_once queues one job per key), and only for a bounded time.
        while key in _running:
            _key_freed.wait()
        _running.add(key)
    try:
        fn(*args)
    except Exception:
        if raising:
            raise
        logger.exception("Background job %r failed", key)
    finally:
        with _key_freed:
            _running.discard(key)
            _in_flight.discard(key)
            _key_freed.notify_all()


# --------------------------------------------------------------------------
# The seam for tests: jobs held until the test runs them, or run at once.
# Nothing in the console uses it.
# --------------------------------------------------------------------------


class Held:
    """The jobs submitted under ``hold()``, oldest first, as (key, fn, args)."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Hashable, Callable[..., Any], tuple[Any, ...]]] = []

    def kinds(self) -> list[object]:
        """Each held job's kind: its key, or the first part of a tuple key (``"pool_refresh"``)."""
        return [_kind(key) for key, _, _ in self.jobs]

    def run(self, kind: str = "") -> int:
        """Run the held jobs (of ``kind``, if given), and those they submit, in this thread; how many ran.

        They run as the threads run them (one per key, after ``run_as``), in
        the caller's database transaction, and a job's error is raised here.
        """
        done = 0
        while wanted := [job for job in self.jobs if not kind or _kind(job[0]) == kind]:
            key, fn, args = wanted[0]
            self.jobs.remove(wanted[0])
            _run(key, fn, *args, raising=True)
            done += 1
        return done


def _kind(key: Hashable) -> object:
    return key[0] if isinstance(key, tuple) else key


@contextmanager
def hold() -> Iterator[Held]:
    """Tests: jobs wait, one per key as with threads, until ``Held.run``; a page is seen before its work."""
    global _instead
    held, previous = Held(), _instead
    _instead = held
    try:
        yield held
    finally:
        _instead = previous
        with _key_freed:
            _in_flight.difference_update(key for key, _, _ in held.jobs)
        held.jobs.clear()


@contextmanager
def inline() -> Iterator[None]:
    """Tests: every job runs at once, in the caller's thread and transaction, its error raised there."""
    global _instead
    previous, _instead = _instead, "inline"
    try:
        yield
    finally:
        _instead = previous
