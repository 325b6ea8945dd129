"""Background work of this process: full configuration fetches.

A fetch takes about half a second and up to several HTCondor timeouts, so it
never runs in a request: the request creates the snapshot row and returns,
a thread here fills it in, and the page polls the row for progress.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

from django.db import connections

logger = logging.getLogger(__name__)

# The protocol's worker processes bound how many fetches really overlap;
# this only keeps a burst of clicks from starting threads without limit.
_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="configview-job")
_pending: set[Future[None]] = set()
_lock = threading.Lock()


def submit(job: Callable[[], None]) -> Future[None]:
    future = _executor.submit(_run, job)
    with _lock:
        _pending.add(future)
    future.add_done_callback(_forget)
    return future


def wait_all(timeout: float | None = None) -> None:
    """Block until every job submitted so far has finished (tests, benchmarks)."""
    with _lock:
        futures = list(_pending)
    wait(futures, timeout=timeout)


def _forget(future: Future[None]) -> None:
    with _lock:
        _pending.discard(future)


def _run(job: Callable[[], None]) -> None:
    try:
        job()
    except Exception:
        logger.exception("A configview background job failed")
        raise
    finally:
        # Threads here outlive requests, so nothing else closes their connections.
        connections.close_all()
