"""What the security tests share: one object of each kind, URLs built from URL names, HTCondor cut off.

The fixture ``no_htcondor`` is in conftest.py.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from condor.errors import DaemonUnreachable
from condor.types import Credentials
from configview import services as config_services
from configview.models import Share
from configview.selectors import SideChoice
from daemons.models import CommandRecord, Daemon, Pool
from tests.configview.helpers import make_daemon, make_snapshot


def url_names(patterns: list | None = None, namespace: str = "") -> set[str]:
    """Every named route of the URL conf, with its namespace ("daemons:pool_list")."""
    names: set[str] = set()
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names |= url_names(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(namespace + entry.name)
    return names


@dataclass
class World:
    """One of everything a URL can name; the share belongs to ``owner``."""

    pool: Pool
    daemon: Daemon
    before: Any
    after: Any
    share: Share
    token: str
    owner: User
    batch: uuid.UUID

    def url(self, name: str) -> str:
        wanted = {
            "pool_id": self.pool.pk,
            "daemon_id": self.daemon.pk,
            "snapshot_id": self.before.pk,
            "share_id": self.share.pk,
            "token": self.token,
            "batch": self.batch,
        }
        return reverse(name, kwargs={p: wanted[p] for p in route_parameters(name)})


def route_parameters(name: str) -> list[str]:
    resolver = get_resolver()
    *namespaces, view = name.split(":")
    for namespace in namespaces:
        _, resolver = resolver.namespace_dict[namespace]
    possibilities = resolver.reverse_dict.getlist(view)
    return list(possibilities[0][0][0][1]) if possibilities else []


def make_world(owner: User) -> World:
    daemon = make_daemon()
    before = make_snapshot(daemon, {"UPDATE_INTERVAL": "300", "DB_PASSWORD": "hunter2"})
    after = make_snapshot(daemon, {"UPDATE_INTERVAL": "5", "DB_PASSWORD": "swordfish"})
    share, token = config_services.share_create(
        user=owner, left=SideChoice(before), right=SideChoice(after), title="Before/after"
    )
    # A command sent to several daemons of the pool: its outcome page has an address of its own.
    batch = CommandRecord.objects.create(
        username=owner.username, pool=daemon.pool, daemon=daemon, command="Reconfig", outcome="sent", batch=uuid.uuid4()
    ).batch
    return World(
        pool=daemon.pool, daemon=daemon, before=before, after=after, share=share, token=token, owner=owner, batch=batch
    )


class CutOff:
    """Stands in for the condor package's worker pools: every binding call is recorded and fails as unreachable.

    This is the point where the console would talk to HTCondor, so what it
    records is everything that would have gone to a daemon or the local tools.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __call__(self, credentials: Credentials) -> CutOff:
        return self

    def call(self, func: str, args: tuple[Any, ...], timeout: float | None = None) -> Any:
        self.calls.append((func, args))
        raise DaemonUnreachable("Cut off by the test.")

    def map(self, func: str, chunks: list, **kwargs: Any) -> None:
        self.calls.append((func, tuple(chunks)))
        raise DaemonUnreachable("Cut off by the test.")

    def broadcast(self, func: str, args: tuple[Any, ...]) -> None:
        self.calls.append((func, args))
