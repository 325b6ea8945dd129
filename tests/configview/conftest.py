"""The configview tests' fixtures (their plain helpers are in helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from daemons import background


@pytest.fixture
def inline_jobs() -> Iterator[None]:
    """Background jobs run at once in the test's thread (and its transaction)."""
    with background.inline():
        yield
