"""A pool's page: its daemons machine by machine, filters, search, pages, and the status grid."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from daemons.inventory import services
from daemons.inventory.selectors import GRID_LIMIT
from daemons.models import Daemon, Pool
from devtools import devpool
from engine import queue
from tests.helpers import add_daemons, fresh_pool, register, schedd_turned_off, wait_for

pytestmark = pytest.mark.usefixtures("background_jobs")


@pytest.fixture
def pool(db: None) -> Pool:
    return fresh_pool("cluster")


@pytest.fixture
def as_viewer(client: Client, viewer) -> Client:
    client.force_login(viewer)
    return client


def url(pool: Pool, **params: object) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("daemons:pool_detail", args=[pool.pk]) + (f"?{query}" if query else "")


def page_of(client: Client, pool: Pool, **params: object) -> str:
    response = client.get(url(pool, **params))
    assert response.status_code == 200
    return response.content.decode()


def table_names(page: str) -> list[str]:
    """Daemon names in the table, in order."""
    table = page.split('<table class="daemons">', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<td><a href="/daemon/\d+/">([^<]+)</a></td>', table)


def grid_states(page: str) -> list[str]:
    return re.findall(r'class="status-cell state-(\w+)"', page)


def test_anonymous_visitors_are_sent_to_log_in(client: Client, pool: Pool) -> None:
    response = client.get(url(pool))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_user_in_no_group_is_forbidden(client: Client, nobody, pool: Pool) -> None:
    client.force_login(nobody)
    assert client.get(url(pool)).status_code == 403


def test_an_unknown_pool_is_not_found(as_viewer: Client, db: None) -> None:
    assert as_viewer.get(reverse("daemons:pool_detail", args=[999])).status_code == 404


def test_daemons_are_grouped_by_machine_with_kind_version_state_and_uptime(as_viewer: Client, pool: Pool) -> None:
    add_daemons(pool, 4, machines=2)
    page = page_of(as_viewer, pool)
    assert page.count('<tr class="machine">') == 2
    assert "node00000.example.org" in page and "node00001.example.org" in page
    assert ">23.9.6<" in page
    assert "✔</span> Up" in page
    # Started just now: each of the four shows an uptime of 0 minutes.
    assert page.count(">0\xa0minutes</span>") == 4


def test_each_daemon_links_to_its_page(as_viewer: Client, pool: Pool) -> None:
    add_daemons(pool, 1)
    daemon = Daemon.objects.get(pool=pool)
    assert reverse("daemons:daemon_detail", args=[daemon.pk]) in page_of(as_viewer, pool)


def test_down_and_missing_daemons_come_first_in_the_status_grid(as_viewer: Client, pool: Pool) -> None:
    add_daemons(pool, 5, prefix="a")
    add_daemons(pool, 1, state="missing", prefix="z")
    add_daemons(pool, 1, state="down", prefix="y", kind="schedd")
    states = grid_states(page_of(as_viewer, pool))
    assert sorted(states[:2]) == ["down", "missing"]
    assert states[2:] == ["up"] * 5


def test_states_read_as_words_not_only_colours(as_viewer: Client, pool: Pool) -> None:
    add_daemons(pool, 1, state="down", prefix="d")
    add_daemons(pool, 1, state="missing", prefix="m")
    page = page_of(as_viewer, pool)
    assert "✖</span> Down" in page
    assert "?</span> Missing" in page
    assert '<span class="visually-hidden">Down</span>' in page


def test_it_filters_by_kind(as_viewer: Client, pool: Pool) -> None:
    add_daemons(pool, 3, kind="startd")
    add_daemons(pool, 1, kind="schedd", prefix="schedd")
    assert table_names(page_of(as_viewer, pool, kind="schedd")) == ["schedd0@node00000"]


def test_it_filters_by_state(as_viewer: Client, pool: Pool) -> None:
    add_daemons(pool, 3)
    add_daemons(pool, 1, state="missing", prefix="gone")
    assert table_names(page_of(as_viewer, pool, state="missing")) == ["gone0@node00000"]


def test_it_filters_by_machine(as_viewer: Client, pool: Pool) -> None:
    add_daemons(pool, 6, machines=3)
    names = table_names(page_of(as_viewer, pool, machine="node00002.example.org"))
    assert names == ["slot2@node00002", "slot5@node00002"]


def test_it_searches_names(as_viewer: Client, pool: Pool) -> None:
    add_daemons(pool, 12)
    assert table_names(page_of(as_viewer, pool, q="slot11")) == ["slot11@node00000"]


def test_an_invalid_filter_is_ignored_not_refused(as_viewer: Client, pool: Pool) -> None:
    add_daemons(pool, 2)
    assert len(table_names(page_of(as_viewer, pool, kind="<script>", state="bogus"))) == 2


def test_it_shows_fifty_daemons_a_page_and_pages_on(as_viewer: Client, pool: Pool) -> None:
    add_daemons(pool, 120)
    first = page_of(as_viewer, pool)
    assert len(table_names(first)) == 50
    assert "Page 1 of 3" in first
    assert 'href="?page=2"' in first
    assert len(table_names(page_of(as_viewer, pool, page=3))) == 20


def test_a_page_past_the_end_shows_the_last_page(as_viewer: Client, pool: Pool) -> None:
    add_daemons(pool, 60)
    assert "Page 2 of 2" in page_of(as_viewer, pool, page=99)


def test_page_links_keep_the_filters(as_viewer: Client, pool: Pool) -> None:
    add_daemons(pool, 120)
    page = page_of(as_viewer, pool, kind="startd", per_page=100)
    assert 'href="?kind=startd&amp;per_page=100&amp;page=2"' in page


def test_an_htmx_request_gets_only_the_live_part(as_viewer: Client, pool: Pool) -> None:
    add_daemons(pool, 3)
    response = as_viewer.get(url(pool, kind="startd"), HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="live"')
    assert "<html" not in page and 'role="search"' not in page
    assert 'hx-trigger="every 5s' in page
    assert f'hx-get="{url(pool, kind="startd")}"' in page
    assert len(table_names(page)) == 3


def test_the_refresh_button_shows_a_spinner_and_cannot_be_pressed_twice_while_sent(
    as_viewer: Client, pool: Pool
) -> None:
    page = page_of(as_viewer, pool)
    form = page.split(f'action="{reverse("daemons:pool_refresh", args=[pool.pk])}"', 1)[1].split("</form>", 1)[0]
    assert 'hx-disabled-elt="find button"' in form
    assert '<span class="spinner" aria-hidden="true"></span>' in form


def test_a_failed_background_request_has_a_place_to_say_so(as_viewer: Client, pool: Pool) -> None:
    assert '<div id="htmx-error" class="errorbox" role="alert" hidden></div>' in page_of(as_viewer, pool)


def test_it_says_when_the_inventory_was_taken(as_viewer: Client, pool: Pool) -> None:
    page = page_of(as_viewer, pool)
    assert "Inventory as of <time" in page
    assert pool.last_refreshed_at.strftime("%Y-%m-%d %H:%M:%S") in page


def test_a_pool_page_never_starts_a_refresh_and_says_the_pool_was_not_refreshed_yet(
    as_viewer: Client, pool: Pool, background_jobs, django_capture_on_commit_callbacks
) -> None:
    Pool.objects.filter(pk=pool.pk).update(last_refreshed_at=None, collector="127.0.0.1:9")
    with django_capture_on_commit_callbacks(execute=True):
        page = page_of(as_viewer, pool)
    assert background_jobs.kinds() == []
    assert "Not refreshed yet" in page
    assert "refreshing…" not in page


def test_a_pool_page_says_how_old_its_reading_is(as_viewer: Client, pool: Pool) -> None:
    Pool.objects.filter(pk=pool.pk).update(last_refreshed_at=timezone.now() - timedelta(hours=3))
    page = page_of(as_viewer, pool).replace("\xa0", " ")
    assert "Inventory as of" in page
    assert "3 hours ago" in page


def test_a_queued_refresh_shows_refreshing_until_it_has_run(
    as_viewer: Client, pool: Pool, background_jobs, django_capture_on_commit_callbacks
) -> None:
    Pool.objects.filter(pk=pool.pk).update(collector="127.0.0.1:9")
    with django_capture_on_commit_callbacks(execute=True):
        services.pool_refresh_start(pool=pool)
    page = page_of(as_viewer, pool)
    assert "refreshing…" in page
    assert '<noscript><meta http-equiv="refresh"' in page
    background_jobs.run("pool_refresh")
    after = as_viewer.get(url(pool), HTTP_HX_REQUEST="true").content.decode()
    assert "refreshing…" not in after
    assert "Cannot connect to the collector at 127.0.0.1:9" in after


def test_a_refresh_running_in_a_worker_shows_refreshing(as_viewer: Client, pool: Pool) -> None:
    with queue.exclusive(pool_id=pool.pk, lock="refresh", ttl=60):
        assert "refreshing…" in page_of(as_viewer, pool)
    assert "refreshing…" not in page_of(as_viewer, pool)


def test_a_failed_refresh_is_shown_above_the_daemons_as_last_seen(as_viewer: Client, pool: Pool) -> None:
    add_daemons(pool, 2)
    Pool.objects.filter(pk=pool.pk).update(last_refresh_error="Cannot connect to the collector at cm:9618.")
    page = page_of(as_viewer, pool)
    assert "The last refresh failed:" in page
    assert len(table_names(page)) == 2


def test_a_big_pool_shows_problems_first_and_says_how_many_more(as_viewer: Client, pool: Pool) -> None:
    add_daemons(pool, 200, machines=20)
    add_daemons(pool, 3, state="down", prefix="broken")
    page = page_of(as_viewer, pool)
    states = grid_states(page)
    assert len(states) == GRID_LIMIT
    assert states[:3] == ["down"] * 3
    assert f"{203 - GRID_LIMIT} more are in the table" in page


@pytest.mark.parametrize("per_page", [50, 200])
def test_the_number_of_queries_does_not_grow_with_the_pool(as_viewer: Client, pool: Pool, per_page: int) -> None:
    add_daemons(pool, 10, machines=2)
    as_viewer.get(url(pool, per_page=per_page))
    with CaptureQueriesContext(connection) as small:
        as_viewer.get(url(pool, per_page=per_page))
    add_daemons(pool, 1000, machines=40, prefix="more")
    add_daemons(pool, 50, state="missing", prefix="gone")
    with CaptureQueriesContext(connection) as large:
        as_viewer.get(url(pool, per_page=per_page))
    assert len(large) == len(small)


@pytest.mark.integration
def test_after_a_refresh_the_real_pools_daemons_are_listed(as_viewer: Client, healthy_pool: devpool.DevPool) -> None:
    real = register(healthy_pool)
    wait_for(
        lambda: Daemon.objects.filter(pool=services.pool_refresh(pool=real), state="up").count() >= 5,
        what="five daemons up",
    )
    page = page_of(as_viewer, real)
    for kind in ("master", "schedd", "startd", "collector", "negotiator"):
        daemon = Daemon.objects.get(pool=real, kind=kind)
        assert f"<td>{kind}</td>" in page
        assert reverse("daemons:daemon_detail", args=[daemon.pk]) in page
    assert "0 down" in page


@pytest.mark.integration
def test_a_schedd_turned_off_reads_down_on_the_page_then_up(
    as_viewer: Client, healthy_pool: devpool.DevPool, credentials
) -> None:
    real = register(healthy_pool)
    services.pool_refresh(pool=real)
    master = Daemon.objects.get(pool=real, kind="master")

    def schedd_row() -> str:
        services.pool_refresh(pool=real)
        page = as_viewer.get(url(real, kind="schedd"), HTTP_HX_REQUEST="true").content.decode()
        return page.split("<td>schedd</td>", 1)[1].split("</tr>", 1)[0]

    with schedd_turned_off(master.target, credentials):
        wait_for(lambda: "✖</span> Down" in schedd_row(), interval=1, what="the schedd to read Down")
        assert "1 down" in as_viewer.get(url(real)).content.decode()
    wait_for(lambda: "✔</span> Up" in schedd_row(), interval=1, what="the schedd to read Up again")
