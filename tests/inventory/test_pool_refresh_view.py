"""The Refresh button: it queues a refresh after commit and returns at once."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from daemons.inventory import services
from daemons.models import Pool

pytestmark = pytest.mark.usefixtures("background_jobs")


@pytest.fixture
def pool(db: None) -> Pool:
    return services.pool_save(name="offline", collector="127.0.0.1:9")


def refresh_url(pool: Pool) -> str:
    return reverse("daemons:pool_refresh", args=[pool.pk])


def test_anonymous_visitors_are_sent_to_log_in(client: Client, pool: Pool) -> None:
    response = client.post(refresh_url(pool))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_user_in_no_group_is_forbidden_and_queues_nothing(
    client: Client, nobody, pool: Pool, background_jobs, django_capture_on_commit_callbacks
) -> None:
    client.force_login(nobody)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(refresh_url(pool)).status_code == 403
    assert background_jobs.kinds() == []


def test_it_refuses_get(client: Client, viewer, pool: Pool) -> None:
    client.force_login(viewer)
    assert client.get(refresh_url(pool)).status_code == 405


def test_a_viewer_queues_a_refresh_and_goes_back_to_the_pool(
    client: Client, viewer, pool: Pool, background_jobs, django_capture_on_commit_callbacks
) -> None:
    client.force_login(viewer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(refresh_url(pool))
    assert response.status_code == 302
    assert response["Location"] == reverse("daemons:pool_detail", args=[pool.pk])
    assert background_jobs.kinds() == ["pool_refresh"]
    pool.refresh_from_db()
    assert pool.last_refreshed_at is None
    background_jobs.run()
    pool.refresh_from_db()
    assert "Cannot connect" in pool.last_refresh_error


def test_it_returns_to_the_page_it_was_asked_from(client: Client, viewer, pool: Pool) -> None:
    client.force_login(viewer)
    response = client.post(refresh_url(pool), {"next": "/?from=list"})
    assert response["Location"] == "/?from=list"


def test_it_never_sends_anyone_to_another_site(client: Client, viewer, pool: Pool) -> None:
    client.force_login(viewer)
    response = client.post(refresh_url(pool), {"next": "https://evil.example.org/"})
    assert response["Location"] == reverse("daemons:pool_detail", args=[pool.pk])


@pytest.mark.parametrize("back", ["0", "pool_list"])
def test_a_next_that_looks_like_a_url_name_is_taken_as_a_relative_path_not_a_server_error(
    client: Client, viewer, pool: Pool, back: str
) -> None:
    client.force_login(viewer)
    response = client.post(refresh_url(pool), {"next": back})
    assert response.status_code == 302
    assert response["Location"] == back


def test_a_second_refresh_while_one_waits_in_the_queue_queues_nothing_new(
    client: Client, viewer, pool: Pool, background_jobs, django_capture_on_commit_callbacks
) -> None:
    client.force_login(viewer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(refresh_url(pool))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(refresh_url(pool))
    assert background_jobs.kinds() == ["pool_refresh"]


def test_a_refresh_asked_for_once_the_queued_one_started_is_queued_again(
    client: Client, viewer, pool: Pool, background_jobs, django_capture_on_commit_callbacks
) -> None:
    client.force_login(viewer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(refresh_url(pool))
    background_jobs.run("pool_refresh")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(refresh_url(pool))
    assert background_jobs.kinds() == ["pool_refresh"]


def test_from_htmx_it_answers_no_content_and_tells_the_page_to_poll_now(client: Client, viewer, pool: Pool) -> None:
    client.force_login(viewer)
    response = client.post(refresh_url(pool), HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert json.loads(response["HX-Trigger"]) == {"poolRefresh": {"pool": pool.pk}}


def test_an_unknown_pool_is_not_found(client: Client, viewer, db: None) -> None:
    client.force_login(viewer)
    assert client.post(reverse("daemons:pool_refresh", args=[999])).status_code == 404
