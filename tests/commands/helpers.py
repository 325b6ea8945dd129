"""What the command tests share: a master in the inventory and a stand-in for condor.client.send_command.

Import the fixtures by name into a test module (``from tests.commands.helpers import sent``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

import condor.client
from condor.commands import Command
from condor.errors import ProtocolError
from condor.types import SUBSYSTEM_BY_KIND, Target
from condor.validation import validate_subsystem
from daemons import services
from daemons.models import Daemon, Pool
from tests.helpers import fresh_pool

# Every role, and the commands its default group may send (spelled out, not derived from the table under test).
OPERATOR_MAY = {"Reconfig", "DaemonOn", "DaemonsOn", "DaemonOff", "DaemonOffPeaceful", "SetPeacefulShutdown"}
ROLE_MAY = {
    "admin": {c.name for c in Command},
    "operator": OPERATOR_MAY,
    "viewer": set(),
    "nobody": set(),
}


def client_for(user: Any, **kwargs: Any) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def make_master(pool: Pool | None = None, *, name: str = "master@node1", machine: str = "node1") -> Daemon:
    pool = pool or fresh_pool("cluster")
    return Daemon.objects.create(
        pool=pool, kind="master", name=name, machine=machine, address=f"<127.0.0.1:9618?sock={name}>",
        subsystem="MASTER", children={"SCHEDD": "up", "COLLECTOR": "up", "NEGOTIATOR": "down"},
    )


def make_daemon(pool: Pool, kind: str, name: str, machine: str = "node1") -> Daemon:
    return Daemon.objects.create(
        pool=pool, kind=kind, name=name, machine=machine, address=f"<127.0.0.1:9618?sock={kind}-{name}>",
        subsystem=SUBSYSTEM_BY_KIND[kind],
    )


def form_for(command: Command, daemon: Daemon) -> dict[str, str]:
    """A complete, valid form for ``command`` on ``daemon``."""
    data = {"command": command.name}
    if command.needs_target:
        data["subsystem"] = "SCHEDD"
    if command.destructive:
        data["confirm"] = daemon.name
    return data


class SentCommands:
    """Records what would have gone to HTCondor; ``error`` is raised instead, when set."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.error: ProtocolError | None = None

    def send_command(self, target: Target, command: Command, credentials: Any, *, subsystem: str = "") -> None:
        # The real function's checks, which run before anything leaves the console.
        if command.needs_target:
            validate_subsystem(subsystem)
        if self.error is not None:
            raise self.error
        self.calls.append((target.name, command.name, subsystem))


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
