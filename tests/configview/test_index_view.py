"""The configuration landing page: the local configuration, a diff chooser, a daemon finder."""

from __future__ import annotations

from django.urls import reverse

from tests.configview.helpers import client_for, make_daemon, make_snapshot

URL = reverse("configview:index")


def test_it_links_the_local_configuration_and_offers_every_recent_snapshot_to_compare(viewer) -> None:
    daemon = make_daemon()
    older = make_snapshot(daemon, {"A": "1"})
    latest = make_snapshot(daemon, {"A": "2"})
    response = client_for(viewer).get(URL)
    assert response.status_code == 200
    assert response.context["nav"] == "configs"
    body = response.content.decode()
    assert reverse("configview:local") in body
    assert f'action="{reverse("configview:diff")}"' in body
    assert f'<option value="{older.pk}">' in body
    assert f'<option value="{latest.pk}" selected>' in body
    assert '<option value="local" selected>' in body


def test_a_running_snapshot_is_not_offered(viewer) -> None:
    running = make_snapshot(make_daemon(), {}, status="running")
    assert f'value="{running.pk}"' not in client_for(viewer).get(URL).content.decode()


def test_the_daemon_finder_links_each_match_to_its_snapshots(viewer) -> None:
    daemon = make_daemon(name="schedd@submit-7", kind="schedd")
    make_daemon(name="startd@worker-1", kind="startd")
    response = client_for(viewer).get(URL, {"q": "submit"})
    body = response.content.decode()
    assert reverse("configview:daemon_snapshots", args=[daemon.pk]) in body
    assert "worker-1" not in body


def test_htmx_gets_only_the_finders_results(viewer) -> None:
    make_daemon(name="schedd@submit-7", kind="schedd")
    body = client_for(viewer).get(URL, {"q": "nothing-like-it"}, HTTP_HX_REQUEST="true").content.decode()
    assert body.lstrip().startswith('<div id="daemons">')
    assert "No daemon matches" in body


def test_a_user_in_no_group_is_refused(nobody) -> None:
    assert client_for(nobody).get(URL).status_code == 403
