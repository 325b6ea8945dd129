"""A daemon's page: identity, a master's children, the ad's attributes, and the ways to its config, log and commands."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from daemons.inventory import services
from daemons.models import Daemon, Pool
from devtools import devpool
from tests.helpers import fresh_pool, register, wait_for

pytestmark = pytest.mark.usefixtures("background_jobs")


@pytest.fixture
def pool(db: None) -> Pool:
    return fresh_pool("cluster")


def daemon(pool: Pool, kind: str, name: str, **fields: object) -> Daemon:
    defaults: dict[str, object] = {
        "machine": "node1.example.org",
        "address": f"<127.0.0.1:9618?sock={kind}>",
        "subsystem": kind.upper(),
        "version": "$CondorVersion: 23.9.6 2024-08-08 $",
        "platform": "$CondorPlatform: X86_64-Debian_13 $",
        "start_time": timezone.now() - timedelta(hours=3),
        "last_seen_at": timezone.now(),
    }
    return Daemon.objects.create(pool=pool, kind=kind, name=name, **(defaults | fields))


@pytest.fixture
def master(pool: Pool) -> Daemon:
    return daemon(
        pool,
        "master",
        "node1.example.org",
        children={"SCHEDD": "down", "STARTD": "up", "SHARED_PORT": "up"},
        attributes={"CondorVersion": "23.9.6", "MonitorSelfImageSize": "12345"},
    )


@pytest.fixture
def as_viewer(client: Client, viewer) -> Client:
    client.force_login(viewer)
    return client


def page_of(client: Client, target: Daemon, **headers: str) -> str:
    response = client.get(reverse("daemons:daemon_detail", args=[target.pk]), **headers)
    assert response.status_code == 200
    return response.content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client: Client, master: Daemon) -> None:
    response = client.get(reverse("daemons:daemon_detail", args=[master.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_user_in_no_group_is_forbidden(client: Client, nobody, master: Daemon) -> None:
    client.force_login(nobody)
    assert client.get(reverse("daemons:daemon_detail", args=[master.pk])).status_code == 403


def test_an_unknown_daemon_is_not_found(as_viewer: Client, db: None) -> None:
    assert as_viewer.get(reverse("daemons:daemon_detail", args=[4242])).status_code == 404


def test_it_shows_the_daemons_identity(as_viewer: Client, master: Daemon) -> None:
    page = page_of(as_viewer, master)
    for text in (
        "node1.example.org",
        "&lt;127.0.0.1:9618?sock=master&gt;",
        "$CondorVersion: 23.9.6",
        "X86_64-Debian_13",
        "Started",
        "Last seen",
        "3\xa0hours",
    ):
        assert text in page
    assert "✔</span> Up" in page


def test_a_master_lists_its_children_with_the_state_it_reports(as_viewer: Client, pool: Pool, master: Daemon) -> None:
    schedd = daemon(pool, "schedd", "node1.example.org", state="down")
    page = page_of(as_viewer, master)
    assert "Daemons this master runs" in page
    rows = page.split("Daemons this master runs", 1)[1].split("</table>", 1)[0]
    assert "SCHEDD" in rows and "STARTD" in rows and "SHARED_PORT" in rows
    assert rows.index("SCHEDD") < rows.index("✖</span> Down") < rows.index("SHARED_PORT")
    assert reverse("daemons:daemon_detail", args=[schedd.pk]) in rows
    assert "does not advertise itself" in rows


def test_another_daemon_links_to_its_master(as_viewer: Client, pool: Pool, master: Daemon) -> None:
    startd = daemon(pool, "startd", "slot1@node1.example.org")
    page = page_of(as_viewer, startd)
    assert f'Run by <a href="{reverse("daemons:daemon_detail", args=[master.pk])}">' in page


def test_a_down_daemon_shows_no_uptime(as_viewer: Client, pool: Pool) -> None:
    stopped = daemon(pool, "schedd", "node1.example.org", state="down")
    page = page_of(as_viewer, stopped)
    assert "✖</span> Down" in page
    assert "<dt>Uptime</dt><dd>–</dd>" in page


def test_the_ads_attributes_are_shown_and_escaped(as_viewer: Client, pool: Pool) -> None:
    odd = daemon(pool, "schedd", "s", attributes={"Name": "<img src=x onerror=alert(1)>", "TotalRunningJobs": "7"})
    page = page_of(as_viewer, odd)
    assert "TotalRunningJobs" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_it_links_to_the_daemons_configuration_and_live_log(as_viewer: Client, master: Daemon) -> None:
    page = page_of(as_viewer, master)
    assert f'href="{reverse("configview:daemon_snapshots", args=[master.pk])}">Configuration</a>' in page
    assert f'href="{reverse("daemons:daemon_log", args=[master.pk])}">Live log</a>' in page


def test_it_keeps_places_for_the_log_pane_and_the_command_forms(as_viewer: Client, master: Daemon) -> None:
    page = page_of(as_viewer, master)
    assert '<section id="daemon-log-panel">' in page
    assert '<section id="daemon-commands-panel">' in page


def test_it_links_to_the_pools_page_in_the_breadcrumbs(as_viewer: Client, pool: Pool, master: Daemon) -> None:
    page = page_of(as_viewer, master)
    crumbs = page.split('class="breadcrumbs"', 1)[1].split("</nav>", 1)[0]
    assert reverse("daemons:pool_list") in crumbs
    assert reverse("daemons:pool_detail", args=[pool.pk]) in crumbs


def test_an_htmx_poll_gets_only_the_status(as_viewer: Client, master: Daemon) -> None:
    page = page_of(as_viewer, master, HTTP_HX_REQUEST="true")
    assert page.lstrip().startswith('<div id="daemon-status"')
    assert "<html" not in page and "daemon-log-panel" not in page
    assert 'hx-trigger="every 5s' in page
    assert "Inventory of pool cluster as of <time" in page


@pytest.mark.integration
def test_the_real_master_shows_its_running_children(as_viewer: Client, healthy_pool: devpool.DevPool) -> None:
    real = register(healthy_pool)
    master = wait_for(lambda: services.pool_refresh(pool=real).daemons.filter(kind="master").first(), what="the master")
    page = page_of(as_viewer, master)
    for subsystem in ("SCHEDD", "STARTD", "COLLECTOR", "NEGOTIATOR"):
        assert f'<th scope="row">{subsystem}</th>' in page
    schedd = Daemon.objects.get(pool=real, kind="schedd")
    assert reverse("daemons:daemon_detail", args=[schedd.pk]) in page
