"""Plain helpers shared by several test folders: waiting, the real pool, inventory rows, a fake HTCondor.

Fixtures shared by several folders are in tests/conftest.py; a folder's own are in its conftest.py.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from unittest import mock

from django.test import TestCase
from huey.contrib.djhuey import HUEY as huey
from huey.storage import BaseStorage, MemoryStorage

import condor.client
from condor.commands import Command
from condor.errors import ProtocolError, ToolsUnavailable
from condor.types import (
    SUBSYSTEM_BY_KIND,
    AuthorizationCheck,
    ClientDefaults,
    Credentials,
    DaemonInfo,
    LocalKnob,
    SlotInfo,
    Target,
)
from condor.validation import validate_knob, validate_value
from devtools import devpool

T = TypeVar("T")


def wait_for(probe: Callable[[], T], *, timeout: float = 30.0, interval: float = 0.25, what: str = "condition") -> T:
    """Poll ``probe`` until it returns something truthy; HTCondor acts asynchronously."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def master_log(pool: devpool.DevPool) -> Path:
    return Path(pool.host_root + pool.log_dir) / "MasterLog"


class LogWatch:
    """Reads what a log gains after this point."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size if path.exists() else 0

    def new_text(self) -> str:
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            return handle.read().decode(errors="replace")

    def wait_for(self, needle: str, timeout: float = 30.0) -> str:
        return wait_for(lambda: needle in self.new_text() and self.new_text(), timeout=timeout, what=repr(needle))


def master_of(pool: devpool.DevPool, credentials: Credentials) -> DaemonInfo:
    return wait_for(
        lambda: next((d for d in condor.client.discover(pool.collector, credentials) if d.kind == "master"), None),
        what="the master in the collector",
    )


def target(info: DaemonInfo) -> Target:
    return Target(address=info.address, kind=info.kind, name=info.name)


def add_daemons(
    pool: object, count: int, *, kind: str = "startd", state: str = "up", machines: int = 1, prefix: str = "slot"
) -> None:
    """``count`` inventory rows in ``pool`` spread over ``machines`` machines, written in bulk."""
    from django.utils import timezone

    from daemons.models import Daemon

    now = timezone.now()
    Daemon.objects.bulk_create(
        Daemon(
            pool=pool,
            kind=kind,
            name=f"{prefix}{i}@node{i % machines:05d}",
            machine=f"node{i % machines:05d}.example.org",
            address=f"<127.0.{i // 250 % 250}.{i % 250 + 1}:9618?sock={kind}_{i}>",
            subsystem=SUBSYSTEM_BY_KIND.get(kind, kind.upper()),
            version="$CondorVersion: 23.9.6 2024-08-08 BuildID: Debian-23.9.6 $",
            platform="$CondorPlatform: X86_64-Debian_13 $",
            start_time=now,
            last_seen_at=now,
            state=state,
        )
        for i in range(count)
    )


def daemon_info(kind: str, name: str, machine: str = "node1", **extra: Any) -> DaemonInfo:
    """A daemon ad as condor.client.discover gives it: up for an hour, on loopback."""
    from datetime import timedelta

    from django.utils import timezone

    return DaemonInfo(
        kind=kind,
        name=name,
        machine=machine,
        address=f"<127.0.0.1:9618?sock={kind}>",
        version="$CondorVersion: 23.9.6 2024-08-08 $",
        platform="X86_64-Debian_13",
        start_time=timezone.now() - timedelta(hours=1),
        subsystem=SUBSYSTEM_BY_KIND[kind],
        **extra,
    )


def slot_info(name: str, **fields: Any) -> SlotInfo:
    """A slot ad as condor.client.slots gives it: an idle static slot of the startd its name says, unless told."""
    startd = name.split("@", 1)[1] if "@" in name else name
    values: dict[str, Any] = {
        "name": name,
        "startd": startd,
        "machine": startd.rsplit("@", 1)[-1],
        "slot_type": "Static",
        "parent": "",
        "state": "Unclaimed",
        "activity": "Idle",
        "entered_state": None,
        "entered_activity": None,
        "cpus": 1,
        "memory_mb": 1024,
        "disk_kb": 1_000_000,
        "gpus": 0,
        "total_cpus": 1,
        "total_memory_mb": 1024,
        "total_disk_kb": 1_000_000,
        "total_gpus": 0,
        "job": "",
        "user": "",
        "draining": False,
        "drain_request_id": "",
        "drain_reason": "",
        "drain_started": None,
    }
    return SlotInfo(**(values | fields))


def fresh_pool(name: str, collector: str = "cm.example.org:9618") -> object:
    """A pool read just now (``last_refreshed_at``), its first refresh never queued (its save's on-commit never runs in a ``db`` test)."""
    from django.utils import timezone

    from daemons.inventory import services
    from daemons.models import Pool

    pool = services.pool_save(name=name, collector=collector)
    Pool.objects.filter(pk=pool.pk).update(last_refreshed_at=timezone.now())
    return Pool.objects.get(pk=pool.pk)


def register(pool: devpool.DevPool) -> object:
    """The real pool as the console knows it (what ``manage.py devpool up`` registers)."""
    import shlex

    from daemons.inventory import services

    return services.pool_save(
        name=pool.name,
        collector=pool.collector,
        token_file=pool.token_file,
        config_val=shlex.join(pool.config_val),
        log_path_to=pool.host_root + "/",
    )


def registered_master(pool: devpool.DevPool) -> object:
    """The real pool's master, up in the console's inventory once a refresh has seen it."""
    from daemons.inventory import services
    from daemons.models import Daemon

    registered = register(pool)

    def refreshed() -> Daemon | None:
        services.pool_refresh(pool=registered)
        return Daemon.objects.filter(pool=registered, kind="master", state=Daemon.State.UP).first()

    return wait_for(refreshed, what="the master in the inventory")


@contextmanager
def schedd_turned_off(master: Target, credentials: Credentials) -> Iterator[None]:
    """DaemonOff SCHEDD through the master, and DaemonOn again on the way out whatever happened."""
    condor.client.send_command(master, Command.DaemonOff, credentials, subsystem="SCHEDD")
    try:
        yield
    finally:
        condor.client.send_command(master, Command.DaemonOn, credentials, subsystem="SCHEDD")


def downloaded(response: object) -> bytes:
    """What a download streams, whether its iterator is synchronous or asynchronous."""
    from asgiref.sync import async_to_sync

    async def collect() -> bytes:
        return b"".join([part async for part in response.streaming_content])

    if getattr(response, "is_async", False):
        return async_to_sync(collect)()
    return b"".join(response.streaming_content)


class Queued:
    """The task queue as tests see it: Huey's own, on a storage in memory, its jobs held until ``run``."""

    def installed(self) -> contextlib.AbstractContextManager[None]:
        return swapped_storage(MemoryStorage(huey.name))

    @contextmanager
    def immediate(self) -> Iterator[None]:
        """Jobs run as they are queued (delayed ones stay scheduled), their errors logged as a worker would."""
        # Huey's setter swaps in a fresh memory storage, and on the way out the configured one
        # (SQLite, Redis): the storage of the test is put back instead.
        previous = huey.storage
        huey.immediate = True
        try:
            yield
        finally:
            huey._immediate = False
            huey.storage = previous

    def _all(self) -> list[Any]:
        return huey.pending() + huey.scheduled()

    def pending(self) -> list[Any]:
        """The held jobs (Huey tasks: ``.name``, ``.args``), queued first, then scheduled."""
        return self._all()

    def kinds(self) -> list[str]:
        """Each held job's task name, queued first, then scheduled."""
        return [task.name for task in self._all()]

    def run(self, kind: str = "") -> int:
        """Run the held jobs (of ``kind``, if given), delayed ones too, and those they queue; how many ran.

        In this thread and the caller's transaction, each job's error raised here;
        what a job leaves for its commit (broadcasts, jobs it queues) runs as the
        job ends, as a worker's autocommit would.
        """
        done = 0
        while wanted := [task for task in self._all() if not kind or task.name == kind]:
            task = wanted[0]
            others = [other for other in self._all() if other is not task and other.id != task.id]
            huey.storage.flush_queue()
            huey.storage.flush_schedule()
            for other in others:
                if other.eta is None:
                    huey.storage.enqueue(huey.serialize_task(other))
                else:
                    huey.storage.add_to_schedule(huey.serialize_task(other), other.eta)
            # A worker closes its database connections around each job (djhuey's
            # close_db); here the job runs in the test's transaction, which that
            # would end (on PostgreSQL: "Cannot open a new connection in an atomic block").
            with (
                mock.patch("huey.contrib.djhuey.close_old_connections", lambda: None),
                TestCase.captureOnCommitCallbacks(execute=True),
            ):
                task.execute()
            done += 1
        return done


@contextmanager
def swapped_storage(storage: BaseStorage) -> Iterator[None]:
    """The task queue on ``storage`` for a while (a file or a server a real worker reads too)."""
    previous = huey.storage
    huey.storage = storage
    try:
        yield
    finally:
        huey.storage = previous


CLIENT_VERSION = "$CondorVersion: 25.14.1 2026-09-24 BuildID: UW_Python_Wheel_Build $"


class FakeHTCondor:
    """Stands in for the condor calls configview makes; records what was sent."""

    def __init__(self) -> None:
        self.remote: dict[str, str | None] = {"UPDATE_INTERVAL": "5", "SCHEDD_NAME": "sched"}
        self.sources: dict[str, str] | Exception = {"UPDATE_INTERVAL": "/etc/condor/condor_config.local, line 4"}
        self.local: list[LocalKnob] = [
            LocalKnob("UPDATE_INTERVAL", 300, "int"),
            LocalKnob("ENABLE_RUNTIME_CONFIG", False, "bool"),
        ]
        # The client's own defaults where the host's files set another value, and knobs only the files set.
        self.defaults: dict[str, object] = {}
        self.set_only: set[str] = set()
        self.fetch_error: ProtocolError | None = None
        self.set_error: ProtocolError | None = None
        # The daemon's list of runtime values, in its order, as its dump shows it.
        self.runtime: list[tuple[str, str]] = []
        # What decides whether the daemon takes a runtime change (condor.settable), and the levels its pings pass.
        self.runtime_security: dict[str, str | None] = {"ENABLE_RUNTIME_CONFIG": "True", "SETTABLE_ATTRS_CONFIG": "*"}
        self.authorized: set[str] = {"READ", "WRITE", "ADMINISTRATOR", "CONFIG"}
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

    def remote_config_values(self, target: Target, names: list[str], credentials: Any) -> dict[str, str | None]:
        self.sent.append(("get", *names))
        return {name: self.runtime_security.get(name, self.remote.get(name)) for name in names}

    def check_authorization(self, target: Target, level: str, credentials: Any) -> AuthorizationCheck:
        return AuthorizationCheck(level=level, authorized=level in self.authorized, identity="console@pool-a")

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

    def client_defaults(self) -> ClientDefaults:
        """The client defines what the console host's configuration lists, with ``defaults`` where they
        differ (a knob the host's files set), and without the knobs in ``set_only`` (set but not defined)."""
        values = {knob.name: self.defaults.get(knob.name, knob.value) for knob in self.local}
        return ClientDefaults(
            values={k: v for k, v in values.items() if k not in self.set_only},
            without_default=frozenset(),
            version=CLIENT_VERSION,
        )

    def tools_available(self, credentials: Any) -> bool:
        return not isinstance(self.sources, ToolsUnavailable)
