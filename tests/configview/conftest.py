"""The configview tests' fixtures (their plain helpers are in helpers.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from daemons import background


@pytest.fixture
def inline_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Background jobs run at once in the test's thread (and its transaction)."""

    def submit_once(key: object, fn: Callable[..., None], /, *args: object) -> bool:
        fn(*args)
        return True

    monkeypatch.setattr(background, "submit_once", submit_once)
