"""The engine's own jobs: failures recorded for the diagnostics page, old rows pruned, and a no-op ping."""

from __future__ import annotations

import time
from datetime import timedelta

from django.utils import timezone
from huey import crontab
from huey.api import Task
from huey.contrib.djhuey import HUEY as huey
from huey.contrib.djhuey import db_periodic_task, task
from huey.signals import SIGNAL_ERROR

from engine import workers
from engine.models import JobFailure, Worker

# Failures and stopped workers kept this long (the diagnostics page shows the last hour).
KEEP = timedelta(days=7)


@huey.signal(SIGNAL_ERROR)
def job_failed(signal: str, task: Task, exc: BaseException | None = None) -> None:
    JobFailure.objects.create(
        task=task.name[:100],
        arguments=repr(task.args)[:500],
        error=f"{type(exc).__name__}: {exc}"[:10_000] if exc is not None else "",
        worker=workers.current_name(),
    )


@db_periodic_task(crontab(minute="17"))
def engine_prune() -> None:
    cutoff = timezone.now() - KEEP
    JobFailure.objects.filter(failed_at__lt=cutoff).delete()
    Worker.objects.filter(beat_at__lt=cutoff).delete()


def ping_key(sent_at: float) -> str:
    return f"engine-ping.{sent_at!r}"


@task()
def engine_ping(sent_at: float) -> None:
    """Note when this job started, in the queue's storage under ``ping_key(sent_at)``: nothing else.

    For ``make bench`` (bench/engine.py), which measures enqueue-to-start on a
    real worker and needs a job every worker knows that does no work of its
    own; the queue's storage is the one place both processes read without a
    database write that would blur the figure. Harmless if anyone queues it.
    """
    huey.put(ping_key(sent_at), time.time())
