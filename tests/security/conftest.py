"""The security tests' fixtures (their plain helpers are in helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import condor.tools
import condor.workers
from daemons import background
from tests.security.helpers import CutOff


@pytest.fixture
def no_htcondor(monkeypatch: pytest.MonkeyPatch) -> Iterator[CutOff]:
    """No request reaches HTCondor; the fixture lists what would have."""
    cut = CutOff()
    monkeypatch.setattr(condor.workers, "pool_for", cut)
    monkeypatch.setattr(condor.tools, "config_val_command", lambda credentials: ["condor_config_val"])
    # Background work (refreshes, fetches) runs inline, so its calls are seen too.
    with background.inline():
        yield cut
