"""Who runs jobs: each worker process's name, its heartbeat, and which workers are alive.

A job claims a row (an audit row it sends, a snapshot it fills) in the name
of the worker running it. When that worker dies, its claims are what is left:
the recovery tasks tell the rows of a stopped worker from those of a live one
by these heartbeats, so a command a dead worker may have sent is reported as
unknown, never sent twice.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from engine.models import Worker

logger = logging.getLogger(__name__)

_HOST = socket.gethostname()
# Beats a worker may miss before it counts as stopped.
MISSED_BEATS = 3
_name = f"{_HOST}:{os.getpid()}:inline"


def current_name() -> str:
    """The name rows claimed by this process carry: its worker's, or host:pid:inline outside a worker (tests)."""
    return _name


def register() -> Worker:
    """This process is a worker from now on: its row, under a name no other process has had."""
    global _name
    now = timezone.now()
    _name = f"{_HOST}:{os.getpid()}:{int(now.timestamp() * 1000)}"
    return Worker.objects.create(name=_name, host=_HOST, pid=os.getpid(), beat_at=now)


def beat() -> None:
    Worker.objects.filter(name=_name).update(beat_at=timezone.now())


def stopped() -> None:
    Worker.objects.filter(name=_name).update(stopped_at=timezone.now())


def start_heartbeat() -> threading.Thread:
    """A daemon thread that beats every ``CONDORWEB_WORKER_HEARTBEAT`` seconds while the process lives."""

    def run() -> None:
        while True:
            time.sleep(settings.CONDORWEB_WORKER_HEARTBEAT)
            try:
                beat()
            except Exception:
                logger.exception("The worker's heartbeat could not be written")
            finally:
                close_old_connections()

    thread = threading.Thread(target=run, name="condorweb-heartbeat", daemon=True)
    thread.start()
    return thread


def _running_here(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def alive() -> list[Worker]:
    """The workers that beat recently and have not stopped; on this host, only those whose process runs."""
    cutoff = timezone.now() - timedelta(seconds=MISSED_BEATS * settings.CONDORWEB_WORKER_HEARTBEAT)
    workers = Worker.objects.filter(stopped_at__isnull=True, beat_at__gte=cutoff)
    return [w for w in workers if w.host != _HOST or _running_here(w.pid)]


def alive_names() -> set[str]:
    return {worker.name for worker in alive()}
