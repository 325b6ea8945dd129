"""services.config_snapshots_recover: what a stopped worker left of fetches is failed with the reason, or queued again.

The same with a real worker killed mid-fetch: tests/engine/test_worker_real.py.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from configview import services
from configview.models import ConfigSnapshot
from tests.configview.helpers import make_daemon


def _snapshot(status: str, *, claimed_by: str = "", age: float = 0.0, name: str = "master@host-a") -> ConfigSnapshot:
    daemon = make_daemon(name=name)
    snapshot = ConfigSnapshot.objects.create(
        daemon=daemon, pool_name="pool-a", daemon_name=daemon.name, daemon_kind="master", status=status
    )
    ConfigSnapshot.objects.filter(pk=snapshot.pk).update(
        claimed_by=claimed_by, updated_at=timezone.now() - timedelta(seconds=age)
    )
    return snapshot


def test_a_fetch_a_stopped_worker_was_running_is_failed_with_that_reason(db) -> None:
    snapshot = _snapshot(ConfigSnapshot.Status.RUNNING, claimed_by="host:1:gone")
    assert services.config_snapshots_recover(alive={"host:2:alive"}) == (1, 0)
    snapshot.refresh_from_db()
    assert snapshot.status == ConfigSnapshot.Status.FAILED
    assert snapshot.error == services.WORKER_STOPPED
    assert snapshot.completed_at is not None


def test_a_fetch_a_live_worker_runs_is_left_to_it(db) -> None:
    snapshot = _snapshot(ConfigSnapshot.Status.RUNNING, claimed_by="host:2:alive")
    assert services.config_snapshots_recover(alive={"host:2:alive"}) == (0, 0)
    snapshot.refresh_from_db()
    assert snapshot.status == ConfigSnapshot.Status.RUNNING


def test_a_snapshot_pending_for_a_minute_is_queued_again_after_commit(
    db, background_jobs, django_capture_on_commit_callbacks
) -> None:
    waiting = _snapshot(ConfigSnapshot.Status.PENDING, age=services.REQUEUE_AFTER + 1)
    _snapshot(ConfigSnapshot.Status.PENDING, name="master@host-b")  # just created: its job is in the queue
    with django_capture_on_commit_callbacks(execute=True):
        assert services.config_snapshots_recover(alive=set()) == (0, 1)
    assert background_jobs.kinds() == ["config_fetch"]
    assert [task.args for task in background_jobs.pending()] == [(waiting.pk,)]


def test_a_second_job_for_a_snapshot_already_claimed_does_nothing(db, htcondor) -> None:
    snapshot = _snapshot(ConfigSnapshot.Status.RUNNING, claimed_by="host:2:alive")
    services.config_snapshot_fill(snapshot_id=snapshot.pk)
    snapshot.refresh_from_db()
    assert snapshot.status == ConfigSnapshot.Status.RUNNING and htcondor.progress == []
