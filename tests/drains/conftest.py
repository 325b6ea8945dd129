"""The drain tests' fixtures (their plain helpers are in helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import condor.client
from daemons.inventory import services
from tests.drains.helpers import Drains


@pytest.fixture
def drains(monkeypatch: pytest.MonkeyPatch, background_jobs: Any) -> Iterator[Drains]:
    """condor.client's drain calls faked; the refreshes after a drain queued (background_jobs), not waited for."""
    fake = Drains()
    for name in ("drain", "cancel_drain", "startds_matching"):
        monkeypatch.setattr(condor.client, name, getattr(fake, name))
    monkeypatch.setattr(services, "COMMAND_REFRESH_DELAYS", (0.0,))
    yield fake
