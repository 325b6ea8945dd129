"""The daemons app's jobs on the task queue: each unpacks its arguments and calls one service.

A job that finds its pool's slots or its lock taken (``engine.queue.Busy``) waits in
the queue's schedule and tries again; it holds no worker thread meanwhile.
"""

from __future__ import annotations

import contextlib
import uuid

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from daemons.commands import services as command_services
from daemons.inventory import services as inventory_services
from engine import queue, workers


@db_task()
def pool_refresh(pool_id: int, reason: str) -> None:
    if reason == "watch":
        # The refresh running now is as new as this one would be.
        with contextlib.suppress(queue.Busy):
            inventory_services.pool_refresh_queued(pool_id=pool_id, reason=reason)
        return
    with queue.retried_when_busy():
        inventory_services.pool_refresh_queued(pool_id=pool_id, reason=reason)


@db_task()
def command_batch(batch: str) -> None:
    with queue.retried_when_busy():
        command_services.command_batch_send(batch=uuid.UUID(batch))


@db_periodic_task(crontab())
def pool_watch() -> None:
    """Every minute (and as each worker starts): the watch's refreshes of every pool for the coming minute."""
    inventory_services.pools_watch(minute=timezone.now().replace(second=0, microsecond=0))


@db_periodic_task(crontab())
def command_batches_recover() -> None:
    """Every minute (and as each worker starts): what a stopped worker left of bulk commands."""
    command_services.command_batches_recover(alive=workers.alive_names())
