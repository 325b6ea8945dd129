"""Background fetches run in a thread of their own; the request that started them has long returned."""

from __future__ import annotations

import pytest
from django.db import transaction

from configview import services
from configview.models import ConfigSnapshot
from daemons import background
from tests.configview.helpers import make_daemon


# Transactional, so the job's own connection sees the row (the role fixtures re-create the groups a flush removed).
@pytest.mark.django_db(transaction=True)
def test_a_fetch_started_by_the_service_completes_in_the_background(operator, htcondor) -> None:
    snapshot = services.config_snapshot_fetch(user=operator, daemon=make_daemon())
    background.wait_all(timeout=30)
    snapshot.refresh_from_db()
    assert snapshot.status == ConfigSnapshot.Status.COMPLETE
    assert snapshot.values["UPDATE_INTERVAL"] == "5"


@pytest.mark.django_db(transaction=True)
def test_a_fetch_started_inside_a_transaction_runs_once_that_transaction_commits(operator, htcondor) -> None:
    daemon = make_daemon()
    with transaction.atomic():
        snapshot = services.config_snapshot_fetch(user=operator, daemon=daemon)
        # Not yet started: the job's own connection could not see the uncommitted row.
        background.wait_all(timeout=30)
        assert ConfigSnapshot.objects.get(pk=snapshot.pk).status == ConfigSnapshot.Status.PENDING
    background.wait_all(timeout=30)
    snapshot.refresh_from_db()
    assert snapshot.status == ConfigSnapshot.Status.COMPLETE
    assert snapshot.values["UPDATE_INTERVAL"] == "5"


def test_a_fetch_is_scheduled_only_on_commit(
    operator, htcondor, background_jobs, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        snapshot = services.config_snapshot_fetch(user=operator, daemon=make_daemon())
        assert background_jobs.jobs == []

    for callback in callbacks:
        callback()
    assert background_jobs.run() == 1
    snapshot.refresh_from_db()
    assert snapshot.status == ConfigSnapshot.Status.COMPLETE
