"""The audit trail's writes: every change to a daemon is recorded before it is sent.

``audited`` commits the pending row before anything is sent (no row, no
command), completes it after, and the broadcast of the finished row leaves
only once it is committed. ``attempt`` and ``complete`` are its two halves, for
bulk commands whose rows are written together and sent later.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from condor.errors import ProtocolError
from daemons import events
from daemons.models import CommandRecord, Daemon


@dataclass(frozen=True)
class ClientInfo:
    """Who is asking, as the audit trail records it."""

    address: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request: object) -> ClientInfo:
        meta = getattr(request, "META", {})
        return cls(address=meta.get("REMOTE_ADDR") or None, user_agent=str(meta.get("HTTP_USER_AGENT", ""))[:512])


def who_and_what(*, user: AbstractBaseUser, daemon: Daemon, client: ClientInfo) -> dict[str, object]:
    """The audit fields that name the actor and the target, copied so they outlive both."""
    return {
        "user": user,
        "username": user.get_username(),
        "pool": daemon.pool,
        "pool_name": daemon.pool.name,
        "daemon": daemon,
        "daemon_name": daemon.name,
        "daemon_address": daemon.address,
        "daemon_kind": daemon.kind,
        "client_address": client.address,
        "user_agent": client.user_agent,
    }


def audited(
    *,
    user: AbstractBaseUser,
    daemon: Daemon,
    client: ClientInfo,
    command: str,
    action: Callable[[], str | None],
    target: str = "",
    knob: str = "",
    old_value: str = "",
    new_value: str = "",
    request_id: str = "",
    reason: str = "",
    options: dict[str, str] | None = None,
) -> CommandRecord:
    """Record, then run ``action``: what it returns (a drain's request id) is recorded with its outcome."""
    record = _begin(
        user=user,
        daemon=daemon,
        client=client,
        command=command,
        target=target,
        knob=knob,
        old_value=old_value,
        new_value=new_value,
        request_id=request_id,
        reason=reason,
        options=options or {},
    )
    result = attempt(action)
    complete(record, result)
    if result.unexpected is not None:
        raise result.unexpected  # recorded; re-raised for the server log
    return record


def _begin(
    *, user: AbstractBaseUser, daemon: Daemon, client: ClientInfo, command: str, **fields: object
) -> CommandRecord:
    """The pending audit row, committed: if it cannot be written, the caller never gets to send."""
    with transaction.atomic():
        return CommandRecord.objects.create(
            **who_and_what(user=user, daemon=daemon, client=client), command=command, **fields
        )


@dataclass(frozen=True)
class Attempt:
    outcome: str
    error: str
    duration_ms: float
    unexpected: Exception | None = None
    # What the daemon answered, where it answers: a drain's request id.
    request_id: str = ""


def attempt(action: Callable[[], str | None]) -> Attempt:
    """Run ``action`` (no database access: it may run in a thread of its own) and say what came of it."""
    started = time.monotonic()
    try:
        answer = action()
    except ProtocolError as exc:
        return Attempt(exc.outcome, str(exc), (time.monotonic() - started) * 1000)
    except Exception as exc:
        return Attempt(
            CommandRecord.Outcome.ERROR, f"Unexpected error: {exc}", (time.monotonic() - started) * 1000, exc
        )
    return Attempt(CommandRecord.Outcome.SENT, "", (time.monotonic() - started) * 1000, request_id=answer or "")


def complete(record: CommandRecord, result: Attempt) -> None:
    record.outcome = result.outcome
    record.error = result.error
    record.duration_ms = result.duration_ms
    record.completed_at = timezone.now()
    fields = ["outcome", "error", "duration_ms", "completed_at"]
    if result.request_id:
        record.request_id = result.request_id[:255]
        fields.append("request_id")
    with transaction.atomic():
        record.save(update_fields=fields)
        # From the process that wrote the row, which may be a worker: its
        # viewers hear it through Redis (the in-memory layer is one process's).
        transaction.on_commit(lambda: events.command_recorded(record))
