"""What the configview tests share: a daemon in the inventory, stored snapshots, a fake HTCondor.

Import the fixtures by name into a test module (``from tests.configview.helpers import inline_jobs``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import pytest
from django.test import Client, TestCase
from django.utils import timezone

import condor.client
import condor.tools
from condor.commands import Command
from condor.errors import ProtocolError, ToolsUnavailable
from condor.types import SUBSYSTEM_BY_KIND, LocalKnob, Target
from condor.validation import validate_knob, validate_value
from configview import redaction
from configview.models import ConfigSnapshot
from daemons import background
from daemons.models import Daemon, Pool

ADDRESS = "<127.0.0.1:9999?sock=master>"


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def make_daemon(*, pool_name: str = "pool-a", name: str = "master@host-a", kind: str = "master") -> Daemon:
    pool, _ = Pool.objects.get_or_create(name=pool_name, defaults={"collector": "127.0.0.1:9999"})
    return Daemon.objects.create(
        pool=pool, kind=kind, name=name, machine=name.split("@")[-1], address=ADDRESS,
        subsystem=SUBSYSTEM_BY_KIND[kind],
    )


def make_snapshot(
    daemon: Daemon | None,
    values: dict[str, Any],
    *,
    types: dict[str, str] | None = None,
    sources: dict[str, str] | None = None,
    created_at: datetime | None = None,
    status: str = ConfigSnapshot.Status.COMPLETE,
    user: Any = None,
) -> ConfigSnapshot:
    """A stored snapshot, redacted as the services store them."""
    types = types or {}
    clear, hashes = redaction.redact(values, types)
    return ConfigSnapshot.objects.create(
        source=ConfigSnapshot.Source.DAEMON if daemon else ConfigSnapshot.Source.LOCAL,
        daemon=daemon,
        pool_name=daemon.pool.name if daemon else "",
        daemon_name=daemon.name if daemon else "",
        daemon_kind=daemon.kind if daemon else "",
        daemon_address=daemon.address if daemon else "",
        subsystem=daemon.subsystem if daemon else "TOOL",
        requested_by=user,
        requested_by_name=user.username if user else "someone",
        created_at=created_at or timezone.now(),
        status=status,
        values=clear if status == ConfigSnapshot.Status.COMPLETE else {},
        hashes=hashes if status == ConfigSnapshot.Status.COMPLETE else {},
        types=types,
        sources=sources or {},
        knob_count=len(values),
    )


def committed() -> AbstractContextManager[list[Callable[[], None]]]:
    """The commit of the block's work: what it left to ``transaction.on_commit`` (a fetch's job) runs as it ends.

    A test runs inside a transaction that is never committed, so without this those callbacks never run.
    """
    return TestCase.captureOnCommitCallbacks(execute=True)


@pytest.fixture
def inline_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Background jobs run at once in the test's thread (and its transaction)."""

    def submit_once(key: object, fn: Callable[..., None], /, *args: object) -> bool:
        fn(*args)
        return True

    monkeypatch.setattr(background, "submit_once", submit_once)


class FakeHTCondor:
    """Stands in for the condor calls configview makes; records what was sent."""

    def __init__(self) -> None:
        self.remote: dict[str, str | None] = {"UPDATE_INTERVAL": "5", "SCHEDD_NAME": "sched"}
        self.sources: dict[str, str] | Exception = {"UPDATE_INTERVAL": "/etc/condor/condor_config.local, line 4"}
        self.local: list[LocalKnob] = [
            LocalKnob("UPDATE_INTERVAL", 300, "int"),
            LocalKnob("ENABLE_RUNTIME_CONFIG", False, "bool"),
        ]
        self.fetch_error: ProtocolError | None = None
        self.set_error: ProtocolError | None = None
        # The daemon's list of runtime values, in its order, as its dump shows it.
        self.runtime: list[tuple[str, str]] = []
        self.sent: list[tuple[str, ...]] = []
        self.progress: list[tuple[int, int]] = []

    def remote_config_all(self, target: Target, credentials: Any, *, on_progress: Any = None) -> dict:
        if self.fetch_error:
            raise self.fetch_error
        names = sorted(self.remote)
        for done in (0, len(names) // 2, len(names)):
            on_progress(done, len(names))
            self.progress.append((done, len(names)))
        return dict(self.remote)

    def remote_config_sources(self, target: Target, credentials: Any) -> dict[str, str]:
        if isinstance(self.sources, Exception):
            raise self.sources
        return dict(self.sources)

    def remote_config_value(self, target: Target, name: str, credentials: Any) -> str | None:
        validate_knob(name)
        self.sent.append(("get", name))
        return self.remote.get(name)

    def remote_config_set(self, target: Target, name: str, value: str, credentials: Any) -> None:
        validate_knob(name)
        validate_value(value)
        if self.set_error:
            raise self.set_error
        self.sent.append(("set", name, value))

    def remote_runtime_values(self, target: Target, credentials: Any) -> list[tuple[str, str]]:
        self.sent.append(("dump",))
        return list(self.runtime)

    def remote_config_unset(self, target: Target, name: str, credentials: Any) -> None:
        validate_knob(name)
        self.sent.append(("unset", name))

    def send_command(self, target: Target, command: Command, credentials: Any, **kwargs: Any) -> None:
        self.sent.append(("command", command.name))

    def local_config(self, subsystem: str = "TOOL") -> list[LocalKnob]:
        return list(self.local)

    def local_reload(self) -> None:
        self.sent.append(("reload",))

    def tools_available(self, credentials: Any) -> bool:
        return not isinstance(self.sources, ToolsUnavailable)


@pytest.fixture
def htcondor(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHTCondor]:
    fake = FakeHTCondor()
    for name in (
        "remote_config_all", "remote_config_sources", "remote_config_value", "remote_config_set",
        "remote_config_unset", "remote_runtime_values", "send_command", "local_config", "local_reload",
    ):
        monkeypatch.setattr(condor.client, name, getattr(fake, name))
    monkeypatch.setattr(condor.tools, "tools_available", fake.tools_available)
    yield fake
