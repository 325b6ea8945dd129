"""engine.queue on the memory storage the tests run with: jobs after commit, one per key, a pool's slots and locks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from django.db import transaction
from huey.contrib.djhuey import HUEY as huey

from engine import queue
from tests.helpers import Queued

done: list[tuple[Any, ...]] = []


@huey.task(name="queue_probe")
def probe(*args: Any) -> None:
    done.append(args)


@pytest.fixture(autouse=True)
def nothing_done() -> Iterator[None]:
    done.clear()
    yield
    done.clear()


# Outside a transaction (autocommit), as a worker or a management command runs.
autocommit = pytest.mark.django_db(transaction=True)


def held() -> list[Any]:
    return huey.pending() + huey.scheduled()


def test_a_job_reaches_the_queue_only_once_its_transaction_commits(
    db: None, background_jobs: Queued, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        queue.enqueue(probe, 1)
        assert background_jobs.kinds() == []
    assert background_jobs.kinds() == ["queue_probe"]
    assert background_jobs.run("queue_probe") == 1
    assert done == [(1,)]


@pytest.mark.django_db(transaction=True)
def test_a_job_of_a_transaction_rolled_back_is_never_queued(background_jobs: Queued) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        queue.enqueue(probe, 1)
        raise RuntimeError("rolled back")
    assert background_jobs.kinds() == []


@autocommit
def test_outside_a_transaction_a_job_is_queued_at_once(background_jobs: Queued) -> None:
    queue.enqueue(probe, 1)
    assert background_jobs.kinds() == ["queue_probe"]


@autocommit
def test_a_delayed_job_waits_in_the_schedule(background_jobs: Queued) -> None:
    queue.enqueue(probe, 1, delay=30)
    [job] = held()
    assert job.eta is not None
    assert done == []
    background_jobs.run()
    assert done == [(1,)]


@autocommit
def test_a_key_queues_its_job_once_until_it_has_started(background_jobs: Queued) -> None:
    queue.enqueue(probe, 1, key="k")
    queue.enqueue(probe, 2, key="k")
    assert queue.is_queued("k")
    assert [job.args for job in held()] == [(1,)]
    queue.started("k")
    assert not queue.is_queued("k")
    queue.enqueue(probe, 3, key="k")
    assert [job.args for job in held()] == [(1,), (3,)]


@autocommit
def test_jobs_of_different_keys_are_both_queued(background_jobs: Queued) -> None:
    queue.enqueue(probe, 1, key="a")
    queue.enqueue(probe, 2, key="b")
    assert len(held()) == 2


def test_first_is_true_for_the_first_caller_only_until_forgotten(background_jobs: Queued) -> None:
    assert queue.first("minute", ttl=60) is True
    assert queue.first("minute", ttl=60) is False
    assert queue.first("another", ttl=60) is True
    queue.forget("minute")
    assert queue.first("minute", ttl=60) is True


def test_a_pool_has_as_many_holders_as_its_concurrency_and_no_more(background_jobs: Queued, settings) -> None:
    settings.CONDORWEB_POOL_CONCURRENCY = 3
    with ExitStack() as stack:
        for _ in range(3):
            stack.enter_context(queue.exclusive(pool_id=1, ttl=60))
        with pytest.raises(queue.Busy), queue.exclusive(pool_id=1, ttl=60):
            pass
        # Another pool's slots are its own.
        with queue.exclusive(pool_id=2, ttl=60):
            pass
    with queue.exclusive(pool_id=1, ttl=60):
        pass


def test_a_lock_has_one_holder_even_with_slots_free(background_jobs: Queued, settings) -> None:
    settings.CONDORWEB_POOL_CONCURRENCY = 4
    with queue.exclusive(pool_id=1, lock="refresh", ttl=60):
        assert queue.is_locked(pool_id=1, lock="refresh")
        with pytest.raises(queue.Busy, match="refresh lock"), queue.exclusive(pool_id=1, lock="refresh", ttl=60):
            pass
        # A job without the lock still has a slot.
        with queue.exclusive(pool_id=1, ttl=60):
            pass
    assert not queue.is_locked(pool_id=1, lock="refresh")


def test_a_lock_refused_for_want_of_a_slot_is_freed(background_jobs: Queued, settings) -> None:
    settings.CONDORWEB_POOL_CONCURRENCY = 1
    with queue.exclusive(pool_id=1, ttl=60):
        with pytest.raises(queue.Busy, match="slot"), queue.exclusive(pool_id=1, lock="refresh", ttl=60):
            pass
        assert not queue.is_locked(pool_id=1, lock="refresh")


def test_exclusive_frees_its_slot_and_lock_when_the_job_fails(background_jobs: Queued, settings) -> None:
    settings.CONDORWEB_POOL_CONCURRENCY = 1
    with pytest.raises(ValueError, match="job failed"), queue.exclusive(pool_id=1, lock="refresh", ttl=60):
        raise ValueError("job failed")
    assert not queue.is_locked(pool_id=1, lock="refresh")
    with queue.exclusive(pool_id=1, lock="refresh", ttl=60):
        pass


def test_a_lock_not_named_in_pool_locks_is_refused(background_jobs: Queued) -> None:
    with pytest.raises(ValueError, match="POOL_LOCKS"), queue.exclusive(pool_id=1, lock="nonsense", ttl=60):
        pass


def test_flush_locks_frees_what_a_stopped_worker_left_of_the_pools_named(background_jobs: Queued, settings) -> None:
    settings.CONDORWEB_POOL_CONCURRENCY = 1
    left = ExitStack()
    left.enter_context(queue.exclusive(pool_id=1, lock="refresh", ttl=60))
    left.enter_context(queue.exclusive(pool_id=2, lock="refresh", ttl=60))
    queue.flush_locks(pool_ids=[1])
    assert not queue.is_locked(pool_id=1, lock="refresh")
    with queue.exclusive(pool_id=1, lock="refresh", ttl=60):
        pass
    assert queue.is_locked(pool_id=2, lock="refresh")
    with pytest.raises(queue.Busy), queue.exclusive(pool_id=2, ttl=60):
        pass
    left.close()
