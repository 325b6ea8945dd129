"""A user's own shares, and revoking one."""

from __future__ import annotations

from django.urls import reverse

from configview import services
from configview.models import Share
from configview.selectors import SideChoice
from tests.configview.helpers import client_for, make_daemon, make_snapshot


def share_of(user, title: str) -> Share:
    snapshot = make_snapshot(make_daemon(name=f"master@{title}"), {"A": "1"})
    return services.share_create(user=user, left=SideChoice(snapshot), right=SideChoice(snapshot), title=title)[0]


def test_a_user_sees_only_their_own_shares(viewer, operator) -> None:
    share_of(viewer, "mine")
    share_of(operator, "theirs")
    response = client_for(viewer).get(reverse("configview:share_list"))
    assert [s.title for s in response.context["shares"]] == ["mine"]
    assert response.context["nav"] == "shares"


def test_a_user_in_no_group_has_an_empty_list(nobody) -> None:
    response = client_for(nobody).get(reverse("configview:share_list"))
    assert response.status_code == 200 and "not shared a comparison yet" in response.content.decode()


def test_the_owner_revokes_a_share(viewer) -> None:
    share = share_of(viewer, "mine")
    response = client_for(viewer).post(reverse("configview:share_revoke", args=[share.pk]))
    assert response["Location"] == reverse("configview:share_list")
    share.refresh_from_db()
    assert share.revoked_at is not None


def test_nobody_else_can_revoke_it(viewer, operator) -> None:
    share = share_of(viewer, "mine")
    assert client_for(operator).post(reverse("configview:share_revoke", args=[share.pk])).status_code == 404
    share.refresh_from_db()
    assert share.revoked_at is None
