"""What the command tests share: a master in the inventory and a stand-in for condor.client.send_command.

Their fixtures (``sent``, ``bulk_post``) are in conftest.py.
"""

from __future__ import annotations

from typing import Any

from django.test import Client

from condor.commands import Command
from condor.errors import ProtocolError
from condor.types import SUBSYSTEM_BY_KIND, Target
from condor.validation import validate_subsystem
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
        pool=pool,
        kind="master",
        name=name,
        machine=machine,
        address=f"<127.0.0.1:9618?sock={name}>",
        subsystem="MASTER",
        children={"SCHEDD": "up", "COLLECTOR": "up", "NEGOTIATOR": "down"},
    )


def make_daemon(pool: Pool, kind: str, name: str, machine: str = "node1") -> Daemon:
    return Daemon.objects.create(
        pool=pool,
        kind=kind,
        name=name,
        machine=machine,
        address=f"<127.0.0.1:9618?sock={kind}-{name}>",
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
