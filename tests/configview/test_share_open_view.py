"""Opening a share link: any logged-in user sees exactly the stored comparison; anything else is a clear 404."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from configview import services
from configview.models import Share
from configview.selectors import SideChoice
from tests.configview.helpers import client_for, make_daemon, make_snapshot


def shared(user, **extra):
    daemon = make_daemon()
    a = make_snapshot(daemon, {"UPDATE_INTERVAL": "300", "DB_PASSWORD": "x"})
    b = make_snapshot(daemon, {"UPDATE_INTERVAL": "5", "DB_PASSWORD": "y"})
    share, token = services.share_create(
        user=user, left=SideChoice(a), right=SideChoice(b), title="Before/after", **extra
    )
    return share, reverse("configview:share_open", args=[token])


def test_another_user_even_in_no_group_sees_the_comparison(viewer, nobody) -> None:
    _, url = shared(viewer)
    response = client_for(nobody).get(url)
    assert response.status_code == 200
    assert {r.name: r.status for r in response.context["rows"]} == {
        "UPDATE_INTERVAL": "changed",
        "DB_PASSWORD": "changed",
    }
    body = response.content.decode()
    assert "Before/after" in body and "Shared by victor-viewer" in body
    assert response.context["nav"] == "shares"


def test_the_shared_page_filters_like_a_diff(viewer, nobody) -> None:
    _, url = shared(viewer)
    response = client_for(nobody).get(url, {"q": "interval", "show": "all"})
    assert [r.name for r in response.context["rows"]] == ["UPDATE_INTERVAL"]


def test_a_logged_out_visitor_is_sent_to_log_in_first(viewer, client) -> None:
    _, url = shared(viewer)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_an_expired_link_is_a_clear_404(viewer) -> None:
    share, url = shared(viewer, expires_at=timezone.now() + timedelta(days=1))
    Share.objects.filter(pk=share.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = client_for(viewer).get(url)
    assert response.status_code == 404
    assert "This share link expired" in response.content.decode()


def test_a_revoked_link_is_a_clear_404(viewer) -> None:
    share, url = shared(viewer)
    services.share_revoke(share=share)
    response = client_for(viewer).get(url)
    assert response.status_code == 404
    assert "revoked" in response.content.decode()


def test_an_unknown_link_is_a_clear_404(viewer) -> None:
    response = client_for(viewer).get(reverse("configview:share_open", args=["x" * 54]))
    assert response.status_code == 404
    assert "This share link is unknown" in response.content.decode()
