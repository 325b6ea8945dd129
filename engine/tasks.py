"""The engine's own jobs: failures recorded for the diagnostics page, and old rows pruned."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from huey import crontab
from huey.api import Task
from huey.contrib.djhuey import HUEY as huey
from huey.contrib.djhuey import db_periodic_task
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
