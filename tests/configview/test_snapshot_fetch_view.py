"""“Fetch now”: a snapshot is created and filled in the background, never in the request."""

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
    assert len(background_jobs.jobs) == 1 and htcondor.progress == []
    background_jobs.run()
    snapshot.refresh_from_db()
    assert snapshot.status == ConfigSnapshot.Status.COMPLETE


def test_fetch_and_compare_comes_back_to_the_diff_once_done(operator, htcondor, inline_jobs) -> None:
    response = client_for(operator).post(url(make_daemon()), {"then": "diff"})
    assert response["Location"].endswith("?then=diff")


def test_a_viewer_may_not_fetch(viewer, htcondor) -> None:
    assert client_for(viewer).post(url(make_daemon())).status_code == 403
    assert not ConfigSnapshot.objects.exists()


def test_fetching_is_a_post(operator, htcondor) -> None:
    assert client_for(operator).get(url(make_daemon())).status_code == 405
