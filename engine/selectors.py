"""Reads of the engine for the diagnostics page: workers alive, the queue's length, recent failures."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone
from huey.contrib.djhuey import HUEY as huey

from engine import workers
from engine.models import JobFailure, Worker

logger = logging.getLogger(__name__)

FAILURES_SHOWN = 20


@dataclass(frozen=True)
class EngineStatus:
    workers: list[Worker]
    # Jobs waiting for a worker thread, and jobs waiting for their time (retries, delayed refreshes).
    queued: int | None
    scheduled: int | None
    queue_error: str
    failures: list[JobFailure]
    failures_last_hour: int


def engine_status() -> EngineStatus:
    """What the engine is doing now; a queue that cannot be read is said so, not raised."""
    try:
        queued, scheduled, error = huey.pending_count(), huey.scheduled_count(), ""
    except Exception as exc:
        logger.warning("The task queue could not be read", exc_info=True)
        queued, scheduled, error = None, None, f"The task queue cannot be read: {exc}"
    recent = JobFailure.objects.filter(failed_at__gte=timezone.now() - timedelta(hours=1))
    return EngineStatus(
        workers=workers.alive(),
        queued=queued,
        scheduled=scheduled,
        queue_error=error,
        failures=list(recent[:FAILURES_SHOWN]),
        failures_last_hour=recent.count(),
    )
