"""Broadcasts are hints to refresh: a channel layer that is down never fails a write."""

from __future__ import annotations

import logging

import pytest
from django.test import override_settings
from django.utils import timezone

import condor.client
from daemons import events
from daemons.inventory import services
from daemons.models import Pool
from tests.servers import free_port


@pytest.fixture
def redis_down() -> None:
    """A Redis channel layer whose server is not running (a port nothing listens on)."""
    layers = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{free_port()}/0"]},
        }
    }
    with override_settings(CHANNEL_LAYERS=layers):
        yield


def test_a_broadcast_with_redis_down_is_a_warning_not_an_error(
    redis_down: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="daemons.events"):
        events.pool_changed(3)

    assert "Could not broadcast pool.changed to pool.3" in caplog.text


@pytest.mark.django_db
def test_a_refresh_is_committed_even_when_redis_is_down(
    redis_down: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: object,
) -> None:
    pool = Pool.objects.create(name="cm", collector="127.0.0.1:9618")
    monkeypatch.setattr(condor.client, "discover", lambda collector, credentials: [])
    monkeypatch.setattr(condor.client, "slots", lambda collector, credentials: [])
    before = timezone.now()

    with caplog.at_level(logging.WARNING, logger="daemons.events"):
        with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
            services.pool_refresh(pool=pool)

    pool.refresh_from_db()
    assert pool.last_refreshed_at >= before
    assert pool.last_refresh_error == ""
    assert f"Could not broadcast pool.changed to pool.{pool.pk}" in caplog.text
