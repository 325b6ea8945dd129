"""The command tests' fixtures (their plain helpers are in helpers.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

import condor.client
from daemons.inventory import services
from tests.commands.helpers import SentCommands


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch, background_jobs: Any) -> Iterator[SentCommands]:
    """condor.client.send_command faked; background refreshes queued (background_jobs) and run without waiting."""
    fake = SentCommands()
    monkeypatch.setattr(condor.client, "send_command", fake.send_command)
    monkeypatch.setattr(services, "COMMAND_REFRESH_DELAYS", (0.0,))
    yield fake


@pytest.fixture
def bulk_post(django_capture_on_commit_callbacks: Any, background_jobs: Any) -> Callable[..., Any]:
    """POST the bulk command form, then run the sends it started, as its commit would."""

    def post(client: Client, pool: Any, data: dict[str, Any], **extra: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("daemons:pool_commands", args=[pool.pk]), data, **extra)
        background_jobs.run("command_batch")
        return response

    return post
