"""engine.tasks.engine_ping, the no-op job bench/engine.py queues: it notes its start in the queue's storage."""

from __future__ import annotations

from huey.contrib.djhuey import HUEY as huey
from huey.storage import MemoryStorage

from engine import tasks
from tests.helpers import swapped_storage


def test_ping_notes_its_start_under_its_key() -> None:
    with swapped_storage(MemoryStorage(huey.name)):
        tasks.engine_ping.call_local(1.5)
        started = huey.get(tasks.ping_key(1.5))
        assert isinstance(started, float)
        assert huey.get(tasks.ping_key(2.5)) is None


def test_a_queued_ping_runs_as_a_worker_runs_it() -> None:
    with swapped_storage(MemoryStorage(huey.name)):
        tasks.engine_ping(7.25)
        task = huey.dequeue()
        assert task is not None and task.name.endswith("engine_ping")
        huey.execute(task)
        assert isinstance(huey.get(tasks.ping_key(7.25), peek=True), float)
