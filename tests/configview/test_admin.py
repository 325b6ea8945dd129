"""Snapshots and shares in the Django admin: readable, never editable, tokens never shown."""

from __future__ import annotations

from django.urls import reverse

from configview import services
from configview.selectors import SideChoice
from tests.configview.helpers import client_for, make_daemon, make_snapshot


def test_an_administrator_reads_snapshots_but_cannot_add_change_or_delete_them(admin) -> None:
    snapshot = make_snapshot(make_daemon(), {"UPDATE_INTERVAL": "5"})
    client = client_for(admin)
    assert client.get(reverse("admin:configview_configsnapshot_changelist")).status_code == 200
    page = client.get(reverse("admin:configview_configsnapshot_change", args=[snapshot.pk]))
    assert page.status_code == 200 and "UPDATE_INTERVAL" in page.content.decode()
    assert client.get(reverse("admin:configview_configsnapshot_add")).status_code == 403
    assert (
        client.post(reverse("admin:configview_configsnapshot_delete", args=[snapshot.pk]), {"post": "yes"}).status_code
        == 403
    )
    snapshot.refresh_from_db()


def test_a_share_is_shown_without_its_token_or_hash(admin) -> None:
    snapshot = make_snapshot(make_daemon(), {"A": "1"})
    share, token = services.share_create(
        user=admin, left=SideChoice(snapshot), right=SideChoice(snapshot), title="Weekly drift"
    )
    client = client_for(admin)
    body = client.get(reverse("admin:configview_share_change", args=[share.pk])).content.decode()
    assert "Weekly drift" in body
    assert token not in body and token[11:] not in body and share.secret_hash not in body
    assert client.get(reverse("admin:configview_share_add")).status_code == 403
