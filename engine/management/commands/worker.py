"""``manage.py worker``: one process of the console's task queue (its jobs, the pool watch, recoveries)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import autodiscover_modules
from huey.consumer_options import ConsumerConfig
from huey.contrib.djhuey import HUEY as huey
from huey.storage import BaseSqlStorage

from engine import signals, workers

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Run a worker of the console's task queue: refreshes, commands, fetches, the pool watch. "
        "Stop it with SIGINT or SIGTERM: running jobs finish first."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--threads", type=int, default=settings.CONDORWEB_WORKER_THREADS, help="jobs run at once (threads)"
        )

    def handle(self, *args: Any, threads: int, **options: Any) -> None:
        # Each app's jobs are in its tasks.py (Huey's Django convention).
        autodiscover_modules("tasks")
        if isinstance(huey.storage, BaseSqlStorage):
            others = workers.alive()
            if others:
                raise CommandError(
                    f"Another worker ({others[0].name}) uses the embedded queue: it serves one worker process. "
                    "Stop that one, or set CONDORWEB_QUEUE_URL to a Redis URL for several workers."
                )
            signals.embedded_worker_starting.send(sender=self.__class__)
        worker = workers.register()
        workers.start_heartbeat()
        self.stdout.write(f"Worker {worker.name}: {threads} threads, queue {type(huey.storage).__name__}.")
        config = ConsumerConfig(**{**settings.HUEY.get("consumer", {}), "workers": threads})
        config.validate()
        consumer = huey.create_consumer(**config.values)
        try:
            consumer.run()
        finally:
            workers.stopped()
