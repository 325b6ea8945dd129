"""engine.tasks.job_failed: a job that raises leaves a row for the diagnostics page, as a worker runs it."""

from __future__ import annotations

from huey.contrib.djhuey import HUEY as huey

from engine import tasks, workers
from engine.models import JobFailure


@huey.task()
def _failing(pool_id: int) -> None:
    raise KeyError(f"pool {pool_id}")


def test_a_job_that_raises_is_recorded_with_its_arguments_error_and_worker(db, background_jobs) -> None:
    assert tasks.job_failed  # the handler is connected once engine.tasks is imported, as the worker does
    _failing(7)
    (task,) = huey.pending()
    huey.execute(task)
    (failure,) = JobFailure.objects.all()
    assert (failure.task, failure.arguments, failure.error) == ("_failing", "(7,)", "KeyError: 'pool 7'")
    assert failure.worker == workers.current_name()


@huey.task()
def _succeeding() -> None:
    pass


def test_a_job_that_succeeds_leaves_no_row(db, background_jobs) -> None:
    _succeeding()
    (task,) = huey.pending()
    huey.execute(task)
    assert not JobFailure.objects.exists()
