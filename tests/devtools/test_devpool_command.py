"""``manage.py devpool up``'s options reach devtools.devpool (no pool started: up() is replaced)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from devtools import devpool


@pytest.fixture
def up_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[tuple[object, ...], dict[str, object]]]:
    calls: list[tuple[tuple[object, ...], dict[str, object]]] = []

    def unavailable(*args: object, **kwargs: object) -> devpool.DevPool:
        calls.append((args, kwargs))
        raise devpool.DevPoolUnavailable("not here")

    monkeypatch.setattr(devpool, "up", unavailable)
    return calls


def test_it_starts_no_execute_node_unless_asked(up_calls: list[tuple[tuple[object, ...], dict[str, object]]]) -> None:
    with pytest.raises(CommandError):
        call_command("devpool", "up", "--name", "h-any", "--port", "9749")

    assert up_calls == [(("h-any", 9749), {"execute_nodes": 0, "token_owner": None})]


def test_it_passes_the_number_of_execute_nodes_on(up_calls: list[tuple[tuple[object, ...], dict[str, object]]]) -> None:
    with pytest.raises(CommandError):
        call_command("devpool", "up", "--execute-nodes", "20")

    assert up_calls[0][1]["execute_nodes"] == 20
