"""The console's one door to its task queue (Huey): jobs queued after commit, one per key, a pool's slots.

Every kind of background work is a Huey task in an app's ``tasks.py``, run
by ``manage.py worker`` processes. What must survive a worker's death is a
row in the console's database (a pending audit row, a pending snapshot),
never only a message in the queue: a job may be lost with the worker that ran
it, and each app's recovery task (run when a worker starts and every minute)
finds the rows whose job was lost. The locks below are Huey's own, in the
queue's storage, so they hold across every worker on every host.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import transaction
from huey.api import TaskLock, TaskWrapper
from huey.contrib.djhuey import HUEY as huey
from huey.exceptions import RetryTask, TaskLockedException
from huey.storage import BaseSqlStorage

logger = logging.getLogger(__name__)

# Seconds a queued-job marker lives at most (expiring storages only): longer
# than any wait in the queue, so a marker a lost enqueue left frees itself.
QUEUED_TTL = 3600
# Seconds before a job that found its pool's slots or its lock taken tries
# again: it waits in the queue's schedule, not in a worker thread.
RETRY_DELAY = 2.0


class Busy(Exception):
    """The pool's slots, or the job's own lock, are held by jobs running elsewhere."""


def _ttl(seconds: float) -> int | None:
    # The embedded (SQLite) storage has no expiry: its locks are freed by the
    # worker that starts on its one host (flush_locks); Redis's expire.
    return None if isinstance(huey.storage, BaseSqlStorage) else max(1, int(seconds))


def _queued(key: str) -> str:
    return f"queued.{key}"


def enqueue(job: TaskWrapper, *args: Any, key: str = "", delay: float = 0.0) -> None:
    """Queue ``job(*args)`` once the caller's transaction commits (at once outside one).

    With ``key``, not if a job with that key is queued and has not started
    (``started``); with ``delay``, to run that many seconds from now. An
    unreachable queue is logged, never raised into the request that
    committed: the rows the job would work on stay, and the recovery tasks
    queue them again.
    """

    def send() -> None:
        if key and not huey.put_if_empty(_queued(key), "1", _ttl(QUEUED_TTL)):
            return
        if delay > 0:
            job.schedule(args, delay=delay)
        else:
            job(*args)

    transaction.on_commit(send, robust=True)


def is_queued(key: str) -> bool:
    return huey.get(_queued(key), peek=True) is not None


def started(key: str) -> None:
    """The job queued with ``key`` runs now: the next ``enqueue`` with that key queues another."""
    huey.delete(_queued(key))


def first(key: str, *, ttl: float) -> bool:
    """True for the first caller with ``key`` across every worker: a marker in the queue's storage, kept
    ``ttl`` seconds where the storage expires keys, else until ``forget``."""
    return huey.put_if_empty(f"first.{key}", "1", _ttl(ttl))


def forget(key: str) -> None:
    huey.delete(f"first.{key}")


# The locks a pool's jobs may take beside a slot (``exclusive(lock=)``); named here so the embedded
# queue's worker can free them all as it starts.
POOL_LOCKS = ("refresh",)


def _slot_names(pool_id: int) -> list[str]:
    return [f"pool-{int(pool_id)}-slot-{i}" for i in range(settings.CONDORWEB_POOL_CONCURRENCY)]


def _lock_name(pool_id: int, lock: str) -> str:
    if lock not in POOL_LOCKS:
        raise ValueError(f"{lock!r} is not one of POOL_LOCKS")
    return f"pool-{int(pool_id)}-{lock}"


def _take(names: Iterable[str], ttl: float) -> TaskLock | None:
    for name in names:
        taken = huey.lock_task(name, ttl=_ttl(ttl))
        try:
            taken.acquire()
        except TaskLockedException:
            continue
        return taken
    return None


def is_locked(*, pool_id: int, lock: str) -> bool:
    return huey.is_locked(_lock_name(pool_id, lock))


@contextmanager
def exclusive(*, pool_id: int, lock: str = "", ttl: float) -> Iterator[None]:
    """Run as one of ``pool_id``'s ``CONDORWEB_POOL_CONCURRENCY`` slots and, with ``lock``, the pool's only holder.

    Across every worker on every host. Raises ``Busy`` at once if either is
    taken; ``ttl`` bounds how long the job can run, after which an expiring
    storage frees what a killed worker held.

    The slots are the per-pool limit, the one place it lives: a pool whose
    daemons never answer holds at most that many worker threads, however
    much of its work is queued, and every other pool's jobs still run.
    """
    held: list[TaskLock] = []
    try:
        if lock:
            if (owned := _take([_lock_name(pool_id, lock)], ttl)) is None:
                raise Busy(f"the pool's {lock} lock is held")
            held.append(owned)
        if (slot := _take(_slot_names(pool_id), ttl)) is None:
            raise Busy("every slot of the pool is held")
        held.append(slot)
        yield
    finally:
        for taken in reversed(held):
            taken.release()


@contextmanager
def retried_when_busy() -> Iterator[None]:
    """In a job: ``Busy`` sends the job back to the queue's schedule for ``RETRY_DELAY`` seconds."""
    try:
        yield
    except Busy:
        raise RetryTask(delay=RETRY_DELAY) from None


def flush_locks(*, pool_ids: Iterable[int]) -> None:
    """Free every lock of ``pool_ids``: the embedded queue's worker does this as it starts, since
    any lock then is one a stopped worker left (the embedded queue serves one host)."""
    # Not huey.flush_locks(*names): it also frees every lock this process has made, any pool's.
    for pool_id in pool_ids:
        for name in (*_slot_names(pool_id), *(_lock_name(pool_id, lk) for lk in POOL_LOCKS)):
            huey.lock_task(name).clear()
