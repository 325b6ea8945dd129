"""What the configview tests share: a daemon in the inventory, stored snapshots.

Their fixtures are in conftest.py; the fake HTCondor (``htcondor``) is shared by several folders, in tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from condor.types import SUBSYSTEM_BY_KIND
from configview import redaction
from configview.models import ConfigSnapshot
from daemons.models import Daemon, Pool

ADDRESS = "<127.0.0.1:9999?sock=master>"


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def make_daemon(*, pool_name: str = "pool-a", name: str = "master@host-a", kind: str = "master") -> Daemon:
    pool, _ = Pool.objects.get_or_create(name=pool_name, defaults={"collector": "127.0.0.1:9999"})
    return Daemon.objects.create(
        pool=pool,
        kind=kind,
        name=name,
        machine=name.split("@")[-1],
        address=ADDRESS,
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


def fetch_now(client: Client, daemon: Daemon) -> ConfigSnapshot:
    """“Fetch now”; the job runs inline (test_configview_background_fetch covers the real thread)."""
    with committed():
        response = client.post(reverse("configview:snapshot_fetch", args=[daemon.pk]))
    assert response.status_code == 302
    snapshot = ConfigSnapshot.objects.latest("created_at")
    assert snapshot.status == ConfigSnapshot.Status.COMPLETE, snapshot.error
    return snapshot


def diff_rows(client: Client, left: object, right: object, **extra: str) -> dict:
    response = client.get(reverse("configview:diff"), {"left": left, "right": right, **extra})
    assert response.status_code == 200, response.content.decode()[:2000]
    return {row.name.upper(): row for row in response.context["rows"]}
