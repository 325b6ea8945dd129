"""The diagnostics page's engine panel: workers alive, the queue, the watch per pool, recent failures."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from daemons.models import CommandRecord, Pool
from engine import workers
from engine.models import JobFailure, Worker


def page(client, admin) -> str:
    client.force_login(admin)
    return client.get(reverse("daemons:diagnostics")).content.decode()


def test_with_no_worker_alive_the_page_says_what_waits_and_how_to_start_one(client, admin) -> None:
    Worker.objects.create(name="gone", host="elsewhere", pid=1, beat_at=timezone.now() - timedelta(hours=1))
    body = page(client, admin)
    assert "No worker is running." in body and "manage.py worker" in body


def test_the_workers_alive_are_listed_by_name(client, admin) -> None:
    Worker.objects.create(name="elsewhere:42:1", host="elsewhere", pid=42, beat_at=timezone.now())
    body = page(client, admin)
    assert "1 worker alive." in body and "elsewhere:42:1" in body
    assert [w.name for w in workers.alive()] == ["elsewhere:42:1"]


def test_each_pool_shows_its_last_reading_how_long_it_took_and_its_bulk_work_waiting(
    client, admin, background_jobs
) -> None:
    pool = Pool.objects.create(
        name="cluster",
        collector="cm:9618",
        last_refreshed_at=timezone.now(),
        last_refresh_ms=123.4,
        last_refresh_error="Cannot reach the collector.",
    )
    CommandRecord.objects.create(pool=pool, batch="6f1c1c8e-6d5e-4f38-9a57-1d1f5d0e2a11", command="Reconfig")
    body = page(client, admin)
    assert ">cluster</a>" in body and "123 ms" in body and "Cannot reach the collector." in body
    assert "<td>1</td>" in body


def test_jobs_failed_in_the_last_hour_are_shown_with_their_errors(client, admin) -> None:
    JobFailure.objects.create(task="pool_refresh", arguments="(7, 'watch')", error="KeyError: 'x'", worker="w")
    old = JobFailure.objects.create(task="config_fetch", arguments="(1,)", error="old one", worker="w")
    JobFailure.objects.filter(pk=old.pk).update(failed_at=timezone.now() - timedelta(hours=2))
    body = page(client, admin)
    assert "Jobs failed in the last hour: 1" in body and "KeyError: &#x27;x&#x27;" in body
    assert "old one" not in body


def test_the_queue_length_is_shown(client, admin, background_jobs) -> None:
    from daemons import tasks

    tasks.pool_refresh(1, "asked")
    assert "1 job waiting for a worker; 0 waiting for their time" in page(client, admin)
