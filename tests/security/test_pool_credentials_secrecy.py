"""A pool's token never leaves its file: not on a page, in a URL, in the admin or in a log; a too-open file is warned about."""

from __future__ import annotations

import logging
import re
import secrets
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from daemons.inventory import services
from daemons.models import Daemon, Pool
from tests.helpers import register
from tests.security.helpers import CutOff

TOKEN = "eyJhbGciOiJIUzI1NiIsImtpZCI6IlBPT0wifQ." + secrets.token_urlsafe(32)


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "console.token"
    path.write_text(TOKEN + "\n")
    path.chmod(0o600)
    return path


@pytest.fixture
def pool(token_file: Path, db: None) -> Pool:
    pool = services.pool_save(name="secretive", collector="127.0.0.1:9", token_file=str(token_file))
    Daemon.objects.create(pool=pool, kind="master", name="master@node", machine="node", address="<127.0.0.1:9>")
    return pool


def _pages(pool: Pool) -> list[str]:
    daemon = pool.daemons.get()
    return [
        reverse("daemons:pool_list"),
        reverse("daemons:pool_detail", args=[pool.pk]),
        reverse("daemons:pool_edit", args=[pool.pk]),
        reverse("daemons:daemon_detail", args=[daemon.pk]),
        reverse("configview:daemon_snapshots", args=[daemon.pk]),
        reverse("admin:daemons_pool_changelist"),
        reverse("admin:daemons_pool_change", args=[pool.pk]),
        reverse("admin:daemons_daemon_change", args=[daemon.pk]),
    ]


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_no_page_or_admin_page_shows_the_token(admin: User, pool: Pool, no_htcondor: CutOff) -> None:
    client = _client(admin)
    for url in _pages(pool):
        response = client.get(url)
        assert response.status_code == 200, url
        assert TOKEN not in response.content.decode(), url


def test_no_link_or_form_carries_the_token_or_its_path(
    admin: User, pool: Pool, token_file: Path, no_htcondor: CutOff
) -> None:
    client = _client(admin)
    for url in _pages(pool):
        body = client.get(url).content.decode()
        for target in re.findall(r'(?:href|action|hx-get|hx-post|src)="([^"]*)"', body):
            assert TOKEN not in target and str(token_file) not in target, (url, target)


def test_nothing_logged_on_pages_refreshes_or_a_failed_save_carries_the_token(
    admin: User,
    pool: Pool,
    token_file: Path,
    no_htcondor: CutOff,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = _client(admin)
    for url in _pages(pool):
        client.get(url)
    with django_capture_on_commit_callbacks(execute=True):  # the refresh job runs as it is queued
        client.post(reverse("daemons:pool_refresh", args=[pool.pk]))
    client.post(
        reverse("daemons:pool_edit", args=[pool.pk]),
        {"name": "secretive", "collector": "127.0.0.1:9", "token_file": str(token_file)},
    )
    assert no_htcondor.calls, "the refresh and the connection check should have tried the collector"
    assert TOKEN not in caplog.text


@pytest.mark.integration
def test_a_refresh_of_the_real_pool_logs_nothing_of_its_token(
    healthy_pool, db: None, caplog: pytest.LogCaptureFixture
) -> None:
    token = Path(healthy_pool.token_file).read_text().strip()
    caplog.set_level(logging.DEBUG)
    refreshed = services.pool_refresh(pool=register(healthy_pool))
    assert refreshed.last_refresh_error == ""
    assert token and token not in caplog.text


def test_the_pool_page_warns_an_administrator_about_a_token_file_others_can_read(
    admin: User, pool: Pool, token_file: Path, no_htcondor: CutOff
) -> None:
    token_file.chmod(0o644)
    body = _client(admin).get(reverse("daemons:pool_detail", args=[pool.pk])).content.decode()
    assert "has mode 644: group or others may read it" in body and "chmod 600" in body


def test_the_edit_form_warns_before_anything_is_submitted(
    admin: User, pool: Pool, token_file: Path, no_htcondor: CutOff
) -> None:
    token_file.chmod(0o640)
    body = _client(admin).get(reverse("daemons:pool_edit", args=[pool.pk])).content.decode()
    assert "has mode 640: group or others may read it" in body


def test_a_vanished_token_file_is_warned_about_too(
    admin: User, pool: Pool, token_file: Path, no_htcondor: CutOff
) -> None:
    token_file.unlink()
    body = _client(admin).get(reverse("daemons:pool_detail", args=[pool.pk])).content.decode()
    assert "The token file needs attention: There is no file at" in body


def test_a_private_token_file_gets_no_warning(admin: User, pool: Pool, no_htcondor: CutOff) -> None:
    body = _client(admin).get(reverse("daemons:pool_detail", args=[pool.pk])).content.decode()
    assert "token file" not in body


def test_a_viewer_who_cannot_fix_it_is_not_told(
    viewer: User, pool: Pool, token_file: Path, no_htcondor: CutOff
) -> None:
    token_file.chmod(0o644)
    body = _client(viewer).get(reverse("daemons:pool_detail", args=[pool.pk])).content.decode()
    assert "chmod" not in body
