"""The security tests' fixtures (their plain helpers are in helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import condor.tools
import condor.workers
from tests.security.helpers import CutOff


@pytest.fixture
def no_htcondor(monkeypatch: pytest.MonkeyPatch, inline_jobs: None) -> Iterator[CutOff]:
    """No request reaches HTCondor; the fixture lists what would have."""
    cut = CutOff()
    monkeypatch.setattr(condor.workers, "pool_for", cut)
    monkeypatch.setattr(condor.tools, "config_val_command", lambda credentials: ["condor_config_val"])
    # Jobs (refreshes, fetches) run as they are queued (inline_jobs), so their calls are seen too.
    yield cut
