"""“Fetch now”: a snapshot is created and filled by a job on the task queue, never in the request."""

from __future__ import annotations

from django.urls import reverse

from configview.models import ConfigSnapshot
from tests.configview.helpers import client_for, committed, make_daemon


def url(daemon) -> str:
    return reverse("configview:snapshot_fetch", args=[daemon.pk])


def test_the_request_only_creates_the_snapshot_and_hands_the_fetch_to_a_job(
    operator, htcondor, background_jobs
) -> None:
    with committed():
        response = client_for(operator).post(url(make_daemon()))
    snapshot = ConfigSnapshot.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("configview:snapshot_detail", args=[snapshot.pk])
    assert snapshot.status == ConfigSnapshot.Status.PENDING
    assert background_jobs.kinds() == ["config_fetch"] and htcondor.progress == []
    background_jobs.run()
    snapshot.refresh_from_db()
    assert snapshot.status == ConfigSnapshot.Status.COMPLETE


def test_fetch_and_compare_comes_back_to_the_diff_once_done(operator, htcondor, inline_jobs) -> None:
    response = client_for(operator).post(url(make_daemon()), {"then": "diff"})
    assert response["Location"].endswith("?then=diff")


def test_a_fetch_refused_by_a_full_queue_says_so_on_the_daemons_page_and_writes_nothing(
    operator, htcondor, settings
) -> None:
    settings.CONDORWEB_POOL_QUEUE_LIMIT = 1
    daemon = make_daemon()
    ConfigSnapshot.objects.create(daemon=daemon, pool_name="pool-a", daemon_name=daemon.name, daemon_kind="master")
    response = client_for(operator).post(url(daemon), follow=True)
    assert response.redirect_chain[-1][0] == reverse("configview:daemon_snapshots", args=[daemon.pk])
    assert "Nothing was fetched: 1 configuration fetches from this pool are unfinished" in response.content.decode()
    assert ConfigSnapshot.objects.count() == 1


def test_a_viewer_may_not_fetch(viewer, htcondor) -> None:
    assert client_for(viewer).post(url(make_daemon())).status_code == 403
    assert not ConfigSnapshot.objects.exists()


def test_fetching_is_a_post(operator, htcondor) -> None:
    assert client_for(operator).get(url(make_daemon())).status_code == 405
