"""The console's own HTCondor client logging (Diagnostics) is not the console host's configuration."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import condor.client
from condor import workers


@pytest.fixture
def logging_restored() -> Iterator[None]:
    debug, log_path = workers.client_logging()
    yield
    workers.set_client_logging(debug=debug, log_path=log_path)


def local_knobs() -> dict[str, object]:
    return {knob.name: knob.value for knob in condor.client.local_config()}


def test_switching_client_logging_on_and_off_leaves_the_local_configuration_as_it_was(
    tmp_path: Path, logging_restored: None
) -> None:
    before = local_knobs()
    workers.set_client_logging(debug="D_FULLDEBUG", log_path=str(tmp_path / "client.log"))
    during = local_knobs()
    workers.set_client_logging(debug="", log_path="")
    after = local_knobs()
    assert before.get("TOOL_DEBUG") != "D_FULLDEBUG"
    # Knob by knob but the values HTCondor draws at random per read (PERIODIC_CHECKPOINT's $RANDOM_INTEGER).
    assert set(during) == set(after) == set(before)
    for knob in ("TOOL_DEBUG", "TOOL_LOG"):
        assert during.get(knob) == after.get(knob) == before.get(knob)
