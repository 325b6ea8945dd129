"""configview's jobs on the task queue: each unpacks its arguments and calls one service."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from configview import services
from engine import queue, workers


@db_task()
def config_fetch(snapshot_id: int) -> None:
    with queue.retried_when_busy():
        services.config_snapshot_fill(snapshot_id=snapshot_id)


@db_periodic_task(crontab())
def config_snapshots_recover() -> None:
    """Every minute (and as each worker starts): what a stopped worker left of configuration fetches."""
    services.config_snapshots_recover(alive=workers.alive_names())
