"""The Pools page: every pool's health in one line."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from daemons.inventory import services
from daemons.models import Daemon, Pool
from devtools import devpool
from engine import queue
from tests.helpers import add_daemons, fresh_pool, register

pytestmark = pytest.mark.usefixtures("background_jobs")

URL = reverse("daemons:pool_list")


def login(client: Client, user) -> Client:
    client.force_login(user)
    return client


def test_anonymous_visitors_are_sent_to_log_in(client: Client, db: None) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_user_in_no_group_is_forbidden(client: Client, nobody) -> None:
    assert login(client, nobody).get(URL).status_code == 403


def test_a_viewer_sees_each_pool_with_its_daemons_counted_by_state(client: Client, viewer) -> None:
    pool = fresh_pool("cluster")
    add_daemons(pool, 7, state="up")
    add_daemons(pool, 2, state="down", prefix="down")
    add_daemons(pool, 1, state="missing", prefix="gone")
    fresh_pool("empty")
    page = login(client, viewer).get(URL).content.decode()
    assert "7 up" in page and "2 down" in page and "1 missing" in page
    assert "empty" in page and "0 up" in page
    assert reverse("daemons:pool_detail", args=[pool.pk]) in page
    assert "Reachable" in page


def test_a_viewer_gets_no_add_or_edit_links(client: Client, viewer) -> None:
    pool = fresh_pool("cluster")
    page = login(client, viewer).get(URL).content.decode()
    assert reverse("daemons:pool_add") not in page
    assert reverse("daemons:pool_edit", args=[pool.pk]) not in page


def test_an_administrator_gets_add_and_edit_links(client: Client, admin) -> None:
    pool = fresh_pool("cluster")
    page = login(client, admin).get(URL).content.decode()
    assert reverse("daemons:pool_add") in page
    assert reverse("daemons:pool_edit", args=[pool.pk]) in page


def test_every_pool_has_a_refresh_button_that_posts(client: Client, viewer) -> None:
    pool = fresh_pool("cluster")
    page = login(client, viewer).get(URL).content.decode()
    assert f'method="post" action="{reverse("daemons:pool_refresh", args=[pool.pk])}"' in page


def test_an_unreachable_collector_shows_its_error_and_the_other_pools_still_show(
    client: Client, viewer, background_jobs, django_capture_on_commit_callbacks
) -> None:
    healthy = fresh_pool("healthy")
    add_daemons(healthy, 3)
    with django_capture_on_commit_callbacks(execute=True):
        services.pool_save(name="offline", collector="127.0.0.1:9")
    login(client, viewer)
    first = client.get(URL)
    assert first.status_code == 200
    assert "refreshing…" in first.content.decode()
    background_jobs.run("pool_refresh")
    page = client.get(URL).content.decode()
    assert "refreshing…" not in page
    assert "Unreachable" in page
    assert "Cannot connect to the collector at 127.0.0.1:9" in page
    assert "3 up" in page


def test_the_page_never_starts_a_refresh_even_of_a_pool_never_read(
    client: Client, viewer, background_jobs, django_capture_on_commit_callbacks
) -> None:
    pool = services.pool_save(name="stale", collector="127.0.0.1:9")
    with django_capture_on_commit_callbacks(execute=True):
        page = login(client, viewer).get(URL).content.decode()
    assert background_jobs.kinds() == []
    assert "never" in page
    assert "refreshing…" not in page
    pool.refresh_from_db()
    assert pool.last_refreshed_at is None


def test_the_page_shows_how_old_each_reading_is(client: Client, viewer) -> None:
    pool = fresh_pool("cluster")
    Pool.objects.filter(pk=pool.pk).update(last_refreshed_at=timezone.now() - timedelta(minutes=7))
    page = login(client, viewer).get(URL).content.decode().replace("\xa0", " ")
    assert "7 minutes ago" in page


def test_a_pool_whose_refresh_runs_now_shows_refreshing(client: Client, viewer) -> None:
    pool = fresh_pool("busy")
    with queue.exclusive(pool_id=pool.pk, lock="refresh", ttl=60):
        page = login(client, viewer).get(URL).content.decode()
    assert "refreshing…" in page
    assert "refreshing…" not in client.get(URL).content.decode()


def test_a_page_open_without_javascript_reloads_itself_while_refreshing(
    client: Client, viewer, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.pool_save(name="queued", collector="127.0.0.1:9")
    page = login(client, viewer).get(URL).content.decode()
    assert '<noscript><meta http-equiv="refresh"' in page


def test_a_page_with_no_refresh_under_way_does_not_reload_itself(client: Client, viewer) -> None:
    fresh_pool("cluster")
    page = login(client, viewer).get(URL).content.decode()
    assert '<meta http-equiv="refresh"' not in page


def test_an_htmx_poll_gets_only_the_pools_table(client: Client, viewer) -> None:
    fresh_pool("cluster")
    response = login(client, viewer).get(URL, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="pools"')
    assert "<html" not in page
    assert 'hx-trigger="every 5s' in page
    assert "cluster" in page


def test_pool_names_and_errors_are_escaped(client: Client, viewer) -> None:
    pool = fresh_pool("<b>bold</b>")
    Pool.objects.filter(pk=pool.pk).update(last_refresh_error="<script>alert(1)</script>")
    page = login(client, viewer).get(URL).content.decode()
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    assert "<script>alert(1)</script>" not in page


def test_the_number_of_queries_does_not_grow_with_pools_or_daemons(client: Client, viewer) -> None:
    login(client, viewer)
    add_daemons(fresh_pool("one"), 5)
    client.get(URL)
    with CaptureQueriesContext(connection) as small:
        client.get(URL)
    for name in ("two", "three", "four"):
        add_daemons(fresh_pool(name), 300, machines=10)
    with CaptureQueriesContext(connection) as large:
        client.get(URL)
    assert len(large) == len(small)


@pytest.mark.integration
def test_the_real_pool_shows_as_reachable_with_its_daemons_up(
    client: Client, viewer, healthy_pool: devpool.DevPool, background_jobs, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        pool = register(healthy_pool)
    assert "not checked yet" in login(client, viewer).get(URL).content.decode()
    assert background_jobs.run("pool_refresh") == 1
    page = client.get(URL).content.decode()
    assert "Reachable" in page
    up = Daemon.objects.filter(pool=pool, state="up").count()
    assert up >= 5
    assert f"{up} up" in page
