"""What the drain tests share: a startd in the inventory and a stand-in for condor.client's drain calls.

Their fixtures (``drains``, ``drain_post``) are in conftest.py.
"""

from __future__ import annotations

from typing import Any

from condor.errors import ProtocolError
from condor.types import DrainRequest, Target
from condor.validation import validate_drain_reason
from daemons.models import Daemon, Pool
from tests.commands.helpers import make_daemon
from tests.helpers import fresh_pool


def make_startd(pool: Pool | None = None, *, name: str = "exec01@node1", version: str = "") -> Daemon:
    startd = make_daemon(pool or fresh_pool("cluster"), "startd", name, machine=name.rsplit("@", 1)[-1])
    startd.version = version or "$CondorVersion: 23.9.6 2024-08-08 BuildID: Debian-23.9.6+dfsg-2.1 $"
    startd.save(update_fields=["version"])
    return startd


def drain_data(daemon: Daemon, **fields: str) -> dict[str, str]:
    """A complete, valid drain form for ``daemon``."""
    return {"speed": "graceful", "reason": "kernel update", "on_completion": "nothing", "confirm": daemon.name} | fields


class Drains:
    """Records the drains and cancels that would have gone to HTCondor; ``error`` is raised instead, when set."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.error: ProtocolError | None = None
        self.matching: list[str] = []
        self.next_id = 1

    def drain(self, target: Target, request: DrainRequest, credentials: Any) -> str:
        validate_drain_reason(request.reason)
        if self.error is not None:
            raise self.error
        self.calls.append(("drain", target.name, request))
        self.next_id += 1
        return str(self.next_id - 1)

    def cancel_drain(self, target: Target, credentials: Any, *, request_id: str = "") -> None:
        if self.error is not None:
            raise self.error
        self.calls.append(("cancel", target.name, request_id))

    def startds_matching(self, collector: str, constraint: str, credentials: Any) -> list[str]:
        if self.error is not None:
            raise self.error
        self.calls.append(("match", constraint))
        return list(self.matching)
