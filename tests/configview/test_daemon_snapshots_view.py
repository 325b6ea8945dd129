"""A daemon's snapshots: the list, "Fetch now", and "what changed since"."""

from __future__ import annotations

from django.urls import reverse

from condor.errors import ToolsUnavailable
from tests.configview.helpers import client_for, make_daemon, make_snapshot


def url(daemon) -> str:
    return reverse("configview:daemon_snapshots", args=[daemon.pk])


def test_it_lists_the_daemons_snapshots_newest_first(viewer, htcondor) -> None:
    daemon = make_daemon()
    other = make_snapshot(make_daemon(name="master@elsewhere"), {"A": "1"})
    first, second = make_snapshot(daemon, {"A": "1"}), make_snapshot(daemon, {"A": "2"})
    response = client_for(viewer).get(url(daemon))
    assert response.status_code == 200
    assert [s.pk for s in response.context["snapshots"]] == [second.pk, first.pk]
    assert other.pk not in [s.pk for s in response.context["snapshots"]]
    body = response.content.decode()
    assert f'name="right" value="{second.pk}"' in body and f'name="left" value="{first.pk}"' in body


def test_operators_see_fetch_now_and_viewers_do_not(operator, viewer, htcondor) -> None:
    daemon = make_daemon()
    fetch = reverse("configview:snapshot_fetch", args=[daemon.pk])
    assert fetch in client_for(operator).get(url(daemon)).content.decode()
    assert fetch not in client_for(viewer).get(url(daemon)).content.decode()


def test_it_says_when_sources_cannot_be_recorded_and_why(viewer, htcondor) -> None:
    htcondor.sources = ToolsUnavailable("not installed")
    body = client_for(viewer).get(url(make_daemon())).content.decode()
    assert "not recorded for this pool" in body and "condor_config_val" in body


def test_it_offers_what_changed_since_a_date(viewer, htcondor) -> None:
    daemon = make_daemon()
    make_snapshot(daemon, {"A": "1"})
    body = client_for(viewer).get(url(daemon)).content.decode()
    assert 'type="datetime-local" name="since"' in body
    assert f'name="daemon" value="{daemon.pk}"' in body


def test_an_unknown_daemon_is_404_and_a_user_in_no_group_is_refused(viewer, nobody, htcondor) -> None:
    assert client_for(viewer).get(reverse("configview:daemon_snapshots", args=[999])).status_code == 404
    assert client_for(nobody).get(url(make_daemon())).status_code == 403


def test_the_breadcrumbs_lead_back_to_the_daemon_and_its_pool(viewer, htcondor) -> None:
    daemon = make_daemon()
    labels = [crumb["label"] for crumb in client_for(viewer).get(url(daemon)).context["breadcrumbs"]]
    assert labels == ["Pools", daemon.pool.name, f"master {daemon.name}", "Configuration"]
