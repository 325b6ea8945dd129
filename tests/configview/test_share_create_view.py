"""“Share” under a diff: the link is shown once."""

from __future__ import annotations

from django.urls import reverse

from configview.models import Share
from tests.configview.helpers import client_for, make_daemon, make_snapshot

URL = reverse("configview:share_create")


def test_a_viewer_shares_a_diff_and_sees_its_link_once(viewer) -> None:
    daemon = make_daemon()
    a, b = make_snapshot(daemon, {"A": "1"}), make_snapshot(daemon, {"A": "2"})
    response = client_for(viewer).post(URL, {"left": a.pk, "right": b.pk, "title": "Since Tuesday", "expires_in": "7"})
    assert response.status_code == 200
    share = Share.objects.get()
    assert (share.left, share.right, share.title) == (a, b, "Since Tuesday")
    assert share.expires_at is not None
    link = response.context["link"]
    assert link.startswith("http://testserver/config/s/")
    assert link in response.content.decode()
    assert "cannot show it again" in response.content.decode()


def test_htmx_gets_the_link_in_place(viewer) -> None:
    snapshot = make_snapshot(make_daemon(), {"A": "1"})
    body = (
        client_for(viewer)
        .post(URL, {"left": snapshot.pk, "right": snapshot.pk}, HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert body.lstrip().startswith('<div id="share-result">') and "/config/s/" in body


def test_sharing_local_against_a_daemon_stores_the_local_side(viewer, htcondor) -> None:
    snapshot = make_snapshot(make_daemon(), {"UPDATE_INTERVAL": "5"})
    client_for(viewer).post(URL, {"left": "local", "right": snapshot.pk})
    share = Share.objects.get()
    assert share.left.source == "local" and share.left.subsystem == "MASTER"


def test_a_bad_request_creates_nothing_and_says_why(viewer) -> None:
    response = client_for(viewer).post(URL, {"left": "local"})
    assert response.status_code == 400
    assert "No share link was created." in response.content.decode()
    assert not Share.objects.exists()


def test_a_running_snapshot_cannot_be_shared(viewer) -> None:
    daemon = make_daemon()
    running = make_snapshot(daemon, {}, status="running")
    response = client_for(viewer).post(URL, {"left": running.pk, "right": make_snapshot(daemon, {"A": "1"}).pk})
    assert response.status_code == 400 and "not complete" in response.content.decode()


def test_a_user_in_no_group_may_not_share(nobody) -> None:
    snapshot = make_snapshot(make_daemon(), {"A": "1"})
    assert client_for(nobody).post(URL, {"left": snapshot.pk, "right": snapshot.pk}).status_code == 403


def test_htmx_gets_the_reason_in_place_when_nothing_was_created(viewer) -> None:
    daemon = make_daemon()
    running = make_snapshot(daemon, {}, status="running")
    response = client_for(viewer).post(URL, {"left": running.pk, "right": running.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200  # htmx swaps only successful answers
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="share-result">') and "not complete" in body
