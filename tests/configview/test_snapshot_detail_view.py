"""One snapshot: progress while it is fetched, then its knobs, searchable."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from configview import services
from configview.models import ConfigSnapshot
from tests.configview.helpers import client_for, make_daemon, make_snapshot


def url(snapshot) -> str:
    return reverse("configview:snapshot_detail", args=[snapshot.pk])


def test_a_running_fetch_shows_its_progress_and_polls(viewer) -> None:
    snapshot = make_snapshot(make_daemon(), {}, status="running")
    ConfigSnapshot.objects.filter(pk=snapshot.pk).update(progress_done=320, progress_total=1128)
    body = client_for(viewer).get(url(snapshot)).content.decode()
    assert '<progress id="fetch-progress" class="progress" max="1128" value="320">' in body
    assert 'hx-trigger="every 1s"' in body
    assert '<meta http-equiv="refresh"' in body  # without JavaScript the page reloads itself


def test_htmx_polls_get_only_the_body_which_stops_polling_when_complete(viewer) -> None:
    snapshot = make_snapshot(make_daemon(), {"UPDATE_INTERVAL": "5"})
    body = client_for(viewer).get(url(snapshot), HTTP_HX_REQUEST="true").content.decode()
    assert body.lstrip().startswith('<div id="snapshot-body">')
    assert "every 1s" not in body
    assert "UPDATE_INTERVAL" in body


def test_a_failed_fetch_shows_the_protocol_error(viewer) -> None:
    snapshot = make_snapshot(make_daemon(), {}, status="failed")
    ConfigSnapshot.objects.filter(pk=snapshot.pk).update(
        error="Cannot connect to the daemon at <1.2.3.4:9618>. Check it."
    )
    body = client_for(viewer).get(url(snapshot)).content.decode()
    assert "The fetch failed." in body and "Cannot connect to the daemon at &lt;1.2.3.4:9618&gt;. Check it." in body
    again = reverse("configview:daemon_snapshots", args=[snapshot.daemon_id])
    assert f'<a href="{again}">fetch again from the daemon' in body


def test_a_fetch_whose_worker_stopped_says_so_and_stops_polling(viewer) -> None:
    snapshot = make_snapshot(make_daemon(), {}, status="running")
    ConfigSnapshot.objects.filter(pk=snapshot.pk).update(status="failed", error=services.WORKER_STOPPED)
    body = client_for(viewer).get(url(snapshot)).content.decode()
    assert "The fetch failed." in body and "The worker fetching it stopped before it finished" in body
    assert "every 1s" not in body


def test_a_running_fetch_polls_however_long_it_has_been_quiet(viewer) -> None:
    snapshot = make_snapshot(make_daemon(), {}, status="running")
    ConfigSnapshot.objects.filter(pk=snapshot.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    assert "every 1s" in client_for(viewer).get(url(snapshot)).content.decode()


def test_a_complete_snapshot_lists_values_types_and_sources_searchable_by_name(viewer) -> None:
    snapshot = make_snapshot(
        make_daemon(),
        {"UPDATE_INTERVAL": "5", "SCHEDD_NAME": "s"},
        types={"UPDATE_INTERVAL": "int"},
        sources={"UPDATE_INTERVAL": "/etc/condor/condorweb.config, line 25"},
    )
    response = client_for(viewer).get(url(snapshot), {"q": "update"})
    assert [(r.name, r.type, r.cell.text, r.cell.source) for r in response.context["rows"]] == [
        ("UPDATE_INTERVAL", "int", "5", "/etc/condor/condorweb.config, line 25")
    ]


def test_a_search_from_htmx_gets_only_the_table(viewer) -> None:
    snapshot = make_snapshot(make_daemon(), {"UPDATE_INTERVAL": "5", "SCHEDD_NAME": "s"})
    body = (
        client_for(viewer)
        .get(url(snapshot), {"q": "sched"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="knobs")
        .content.decode()
    )
    assert body.lstrip().startswith('<div id="knobs">')
    assert "SCHEDD_NAME" in body and "UPDATE_INTERVAL" not in body


def test_missing_sources_are_explained(viewer) -> None:
    snapshot = make_snapshot(make_daemon(), {"A": "1"})
    ConfigSnapshot.objects.filter(pk=snapshot.pk).update(
        sources_note="HTCondor's command-line tools are not installed."
    )
    body = client_for(viewer).get(url(snapshot)).content.decode()
    assert "Where each value comes from is unavailable: HTCondor&#x27;s command-line tools are not installed." in body


def test_it_links_what_changed_since_the_previous_snapshot(viewer) -> None:
    daemon = make_daemon()
    previous = make_snapshot(daemon, {"A": "1"}, created_at=timezone.now() - timedelta(days=1))
    snapshot = make_snapshot(daemon, {"A": "2"})
    body = client_for(viewer).get(url(snapshot)).content.decode()
    assert f"?left={previous.pk}&amp;right={snapshot.pk}" in body


def test_fetch_and_compare_redirects_to_the_diff_once_complete(viewer) -> None:
    daemon = make_daemon()
    previous = make_snapshot(daemon, {"A": "1"}, created_at=timezone.now() - timedelta(days=1))
    snapshot = make_snapshot(daemon, {"A": "2"})
    client = client_for(viewer)
    diff = f"{reverse('configview:diff')}?left={previous.pk}&right={snapshot.pk}"
    assert client.get(url(snapshot), {"then": "diff"})["Location"] == diff
    assert client.get(url(snapshot), {"then": "diff"}, HTTP_HX_REQUEST="true")["HX-Redirect"] == diff


def test_a_user_in_no_group_may_not_see_snapshots(nobody) -> None:
    assert client_for(nobody).get(url(make_snapshot(make_daemon(), {"A": "1"}))).status_code == 403


def test_an_unknown_snapshot_is_404(viewer) -> None:
    assert client_for(viewer).get(reverse("configview:snapshot_detail", args=[424242])).status_code == 404


def test_a_daemons_snapshot_sits_below_its_configuration_in_the_breadcrumbs(viewer) -> None:
    daemon = make_daemon()
    snapshot = make_snapshot(daemon, {"A": "1"})
    crumbs = client_for(viewer).get(url(snapshot)).context["breadcrumbs"]
    assert [c["label"] for c in crumbs][-2:] == ["Configuration", f"Snapshot #{snapshot.pk}"]
    assert crumbs[-2]["url"] == reverse("configview:daemon_snapshots", args=[daemon.pk])


def test_a_local_snapshot_sits_below_configs_in_the_breadcrumbs(viewer) -> None:
    snapshot = make_snapshot(None, {"A": "1"})
    crumbs = client_for(viewer).get(url(snapshot)).context["breadcrumbs"]
    assert [c["label"] for c in crumbs] == ["Configs", f"Snapshot #{snapshot.pk}"]


def test_a_knob_this_client_does_not_declare_says_so_instead_of_a_blank_type(viewer) -> None:
    snapshot = make_snapshot(
        make_daemon(), {"UPDATE_INTERVAL": "5", "SHADOW_QUEUE_UPDATE_INTERVAL": "900"}, types={"UPDATE_INTERVAL": "int"}
    )
    body = client_for(viewer).get(url(snapshot)).content.decode()
    assert "<td>int</td>" in body
    assert (
        '<td><span class="muted" title="not in the console\'s HTCondor client\'s parameter table">unknown to this client</span></td>'
        in body
    )
    assert body.count("unknown to this client") == 1
