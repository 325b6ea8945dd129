"""Background fetches run in a thread of their own; the request that started them has long returned."""

from __future__ import annotations

import threading

import pytest

from configview import jobs, services
from configview.models import ConfigSnapshot
from tests.configview_helpers import htcondor, make_daemon  # noqa: F401 - fixture


def test_a_job_runs_outside_the_calling_thread_and_can_be_waited_for() -> None:
    ran_in: list[str] = []
    jobs.submit(lambda: ran_in.append(threading.current_thread().name))
    jobs.wait_all(timeout=10)
    assert ran_in and ran_in[0].startswith("configview-job")


# Transactional, so the job's own connection sees the row; serialized so the groups survive the flush.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_fetch_started_by_the_service_completes_in_the_background(operator, htcondor) -> None:
    snapshot = services.config_snapshot_fetch(user=operator, daemon=make_daemon())
    jobs.wait_all(timeout=30)
    snapshot.refresh_from_db()
    assert snapshot.status == ConfigSnapshot.Status.COMPLETE
    assert snapshot.values["UPDATE_INTERVAL"] == "5"
