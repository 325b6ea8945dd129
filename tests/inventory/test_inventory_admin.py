"""Pools and daemons in the Django admin."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from daemons.inventory import services
from daemons.models import Daemon, DaemonStateChange, Pool
from tests.helpers import add_daemons


@pytest.fixture
def as_admin(client: Client, admin) -> Client:
    client.force_login(admin)
    return client


@pytest.fixture
def pool(db: None) -> Pool:
    pool = services.pool_save(name="cluster", collector="cm.example.org:9618")
    add_daemons(pool, 4)
    add_daemons(pool, 2, state="missing", prefix="gone")
    return pool


def test_the_pool_list_counts_daemons_by_state(as_admin: Client, pool: Pool) -> None:
    page = as_admin.get(reverse("admin:daemons_pool_changelist")).content.decode()
    assert '<td class="field-daemons_up">4</td>' in page
    assert '<td class="field-daemons_missing">2</td>' in page


def test_pools_can_be_searched_by_collector(as_admin: Client, pool: Pool) -> None:
    services.pool_save(name="other", collector="elsewhere.example.org")
    page = as_admin.get(reverse("admin:daemons_pool_changelist"), {"q": "elsewhere"}).content.decode()
    assert "other" in page and ">cluster<" not in page


def test_a_pool_with_a_bad_collector_is_refused(as_admin: Client, db: None) -> None:
    response = as_admin.post(
        reverse("admin:daemons_pool_add"),
        {"name": "bad", "collector": "not a host!", "log_path_from": "/", "log_path_to": "/"},
    )
    assert response.status_code == 200
    assert "is not a collector address" in response.content.decode()
    assert not Pool.objects.exists()


def test_the_pool_page_shows_the_token_path_and_never_the_token(as_admin: Client, tmp_path: Path, db: None) -> None:
    token = tmp_path / "pool.token"
    token.write_text("SECRET-TOKEN-BODY")
    pool = services.pool_save(name="cluster", collector="cm.example.org", token_file=str(token))
    page = as_admin.get(reverse("admin:daemons_pool_change", args=[pool.pk])).content.decode()
    assert str(token) in page
    assert "SECRET-TOKEN-BODY" not in page


def test_daemons_can_be_filtered_by_state(as_admin: Client, pool: Pool) -> None:
    page = as_admin.get(reverse("admin:daemons_daemon_changelist"), {"state__exact": "missing"}).content.decode()
    assert "gone0@node00000" in page and "gone1@node00000" in page
    assert "slot0@node00000" not in page


def test_daemons_can_be_searched_by_name(as_admin: Client, pool: Pool) -> None:
    page = as_admin.get(reverse("admin:daemons_daemon_changelist"), {"q": "slot3"}).content.decode()
    assert "slot3@node00000" in page and "slot2@node00000" not in page


def test_daemons_are_read_only_in_the_admin(as_admin: Client, pool: Pool) -> None:
    daemon = Daemon.objects.filter(pool=pool).first()
    assert as_admin.get(reverse("admin:daemons_daemon_add")).status_code == 403
    change = as_admin.get(reverse("admin:daemons_daemon_change", args=[daemon.pk])).content.decode()
    assert 'name="_save"' not in change
    assert as_admin.post(reverse("admin:daemons_daemon_delete", args=[daemon.pk]), {"post": "yes"}).status_code == 403
    assert Daemon.objects.filter(pk=daemon.pk).exists()


def test_state_changes_are_listed_read_only_in_the_admin(as_admin: Client, pool: Pool) -> None:
    daemon = Daemon.objects.filter(pool=pool, state="missing").first()
    change = DaemonStateChange.objects.create(
        pool=pool, daemon=daemon, old_state="up", new_state="missing", at=daemon.last_seen_at
    )
    listing = as_admin.get(reverse("admin:daemons_daemonstatechange_changelist"))
    assert listing.status_code == 200
    assert daemon.name in listing.content.decode()
    assert as_admin.get(reverse("admin:daemons_daemonstatechange_add")).status_code == 403
    detail = as_admin.get(reverse("admin:daemons_daemonstatechange_change", args=[change.pk])).content.decode()
    assert 'name="_save"' not in detail
    delete = reverse("admin:daemons_daemonstatechange_delete", args=[change.pk])
    assert as_admin.post(delete, {"post": "yes"}).status_code == 403
    assert DaemonStateChange.objects.filter(pk=change.pk).exists()


def test_a_viewer_cannot_open_the_admin(client: Client, viewer, pool: Pool) -> None:
    client.force_login(viewer)
    response = client.get(reverse("admin:daemons_pool_changelist"))
    assert response.status_code == 302
