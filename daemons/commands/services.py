"""Writes of commands: one daemon, a batch of them, and runtime configuration, each through the audit trail."""

from __future__ import annotations

import contextlib
import logging
import math
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

import condor.client
from condor.commands import Command
from condor.errors import ProtocolError, RuntimeConfigRefused
from condor.settable import RuntimeConfigCheck
from condor.types import Credentials, DrainCompletion, DrainRequest, DrainSpeed, Target
from condor.validation import validate_knob, validate_value
from daemons import tasks
from daemons.commands.audit import (
    Attempt,
    ClientInfo,
    attempt,
    audited,
    complete,
    who_and_what,
)
from daemons.commands.selectors import BULK_LIMIT, batches_unfinished
from daemons.inventory import services as inventory_services
from daemons.models import CANCEL_DRAIN, DRAIN, CommandRecord, Daemon
from engine import queue, workers

logger = logging.getLogger(__name__)


def command_send(
    *, user: AbstractBaseUser, daemon: Daemon, command: Command, subsystem: str = "", client: ClientInfo
) -> CommandRecord:
    """Send an admin command to ``daemon``, recorded whatever comes of it; once sent, the pool is read again in
    the background (HTCondor does not answer commands: the inventory shows their effect)."""
    return _audited_then_reread(
        user=user,
        daemon=daemon,
        client=client,
        command=command.name,
        target=subsystem,
        action=lambda: condor.client.send_command(daemon.target, command, daemon.pool.credentials, subsystem=subsystem),
    )


def _audited_then_reread(*, daemon: Daemon, **fields: Any) -> CommandRecord:
    """``audited``, then, if HTCondor took it, the pool read again over the next seconds to show the effect."""
    record = audited(daemon=daemon, **fields)
    if record.outcome == CommandRecord.Outcome.SENT:
        inventory_services.pool_refresh_after_command(pool=daemon.pool)
    return record


class QueueFull(Exception):
    """The pool has as much work waiting as the queue takes (``CONDORWEB_POOL_QUEUE_LIMIT``)."""


def command_batch_start(
    *, user: AbstractBaseUser, daemons: Sequence[Daemon], command: Command, subsystem: str = "", client: ClientInfo
) -> uuid.UUID:
    """The same command to each of ``daemons`` (of one pool): one pending audit row each, sent by a worker.

    The rows are committed together, with one batch id, before anything is
    sent; the id names the page where their outcomes arrive. A request never
    waits on the daemons, however many are silent. Raises ``QueueFull`` (and
    writes nothing) when the pool has ``CONDORWEB_POOL_QUEUE_LIMIT`` bulk
    commands unfinished already.
    """
    return _batch_start(user=user, daemons=daemons, client=client, command=command.name, target=subsystem)


def _batch_start(
    *, user: AbstractBaseUser, daemons: Sequence[Daemon], client: ClientInfo, **fields: object
) -> uuid.UUID:
    """One pending row per daemon with ``fields``, committed with one batch id, and the job that sends them."""
    for pool_id in {daemon.pool_id for daemon in daemons}:
        if (waiting := batches_unfinished(pool_id)) >= settings.CONDORWEB_POOL_QUEUE_LIMIT:
            raise QueueFull(
                f"Nothing was sent: {waiting} bulk commands to this pool are still being sent "
                f"(at most {settings.CONDORWEB_POOL_QUEUE_LIMIT} at a time). "
                "Try again once some have finished; the diagnostics page shows the queue."
            )
    batch = uuid.uuid4()
    with transaction.atomic():
        CommandRecord.objects.bulk_create(
            CommandRecord(**who_and_what(user=user, daemon=daemon, client=client), **fields, batch=batch)
            for daemon in daemons
        )
        _batch_enqueue(batch)
    return batch


def _batch_key(batch: uuid.UUID) -> str:
    return f"batch-{batch}"


def _batch_enqueue(batch: uuid.UUID) -> None:
    queue.enqueue(tasks.command_batch, str(batch), key=_batch_key(batch))


def _batch_ttl(rows: int) -> float:
    # Rounds of sends, each within the HTCondor timeout (and the wait for the condor package's workers).
    return (math.ceil(rows / settings.CONDORWEB_WORKERS_PER_POOL) + 1) * 2 * settings.CONDORWEB_HTCONDOR_TIMEOUT + 60


def command_batch_send(*, batch: uuid.UUID) -> None:
    """Send a batch's pending rows, in one of its pool's slots (else ``engine.queue.Busy``).

    A few at a time, as many as the condor package has workers per pool, so
    a handful of black-holed daemons cost one HTCondor timeout each in
    parallel, not in turn. Each row is claimed by a conditional UPDATE just
    before it is sent, by this worker only, and its outcome written as it
    arrives: a row is sent at most once, whichever workers run the batch.
    """
    records = list(
        CommandRecord.objects.filter(batch=batch, outcome=CommandRecord.Outcome.PENDING)
        .select_related("pool", "daemon")
        .order_by("id")
    )
    if not records:
        queue.started(_batch_key(batch))
        return
    with queue.exclusive(pool_id=records[0].pool_id or 0, ttl=_batch_ttl(len(records))):
        queue.started(_batch_key(batch))
        sent = _send_claimed(records)
    pools = {record.pool_id: record.pool for record in sent if record.pool is not None}
    for pool in pools.values():
        inventory_services.pool_refresh_after_command(pool=pool)


def _claim(record: CommandRecord) -> bool:
    return bool(
        CommandRecord.objects.filter(pk=record.pk, outcome=CommandRecord.Outcome.PENDING).update(
            outcome=CommandRecord.Outcome.SENDING, claimed_by=workers.current_name()
        )
    )


def _send_claimed(records: list[CommandRecord]) -> list[CommandRecord]:
    """Claim and send ``records``, at most CONDORWEB_WORKERS_PER_POOL at once; those sent.

    The database is only touched here, in the job's thread: the sending
    threads only wait on HTCondor.
    """

    def send(record: CommandRecord) -> Attempt:
        pool = record.pool
        if pool is None:
            return Attempt(CommandRecord.Outcome.ERROR, "The pool was removed from the console before sending.", 0.0)
        return attempt(lambda: _send_recorded(record, pool.credentials))

    waiting = iter(records)
    sent: list[CommandRecord] = []
    with ThreadPoolExecutor(
        max_workers=settings.CONDORWEB_WORKERS_PER_POOL, thread_name_prefix="condorweb-bulk"
    ) as executor:
        sending: dict[Future[Attempt], CommandRecord] = {}

        def start_next() -> None:
            # Claimed only as a thread is free to send it: a worker that dies leaves unclaimed rows to the next.
            for record in waiting:
                if _claim(record):
                    sending[executor.submit(send, record)] = record
                    return

        for _ in range(settings.CONDORWEB_WORKERS_PER_POOL):
            start_next()
        while sending:
            done, _ = wait(sending, return_when=FIRST_COMPLETED)
            for future in done:
                record, result = sending.pop(future), future.result()
                complete(record, result)
                if result.outcome == CommandRecord.Outcome.SENT:
                    sent.append(record)
                if result.unexpected is not None:
                    logger.error(
                        "%s to %s failed unexpectedly", record.command, record.daemon_name, exc_info=result.unexpected
                    )
                start_next()
    return sent


def _send_recorded(record: CommandRecord, credentials: Credentials) -> str | None:
    """Send what a batch's row records, to the daemon exactly as the row names it (even if a refresh has moved
    it since); a drain's request id."""
    target = Target(address=record.daemon_address, kind=record.daemon_kind, name=record.daemon_name)
    if record.command == DRAIN:
        return condor.client.drain(target, _drain_request(record), credentials)
    if record.command == CANCEL_DRAIN:
        condor.client.cancel_drain(target, credentials, request_id=record.request_id)
        return None
    condor.client.send_command(target, Command.by_name(record.command), credentials, subsystem=record.target)
    return None


WORKER_STOPPED = (
    "Outcome unknown: the worker stopped while sending. The command may or may not have reached the daemon; "
    "check its log (MasterLog for a master's commands) before sending it again."
)


def command_batches_recover(*, alive: set[str]) -> tuple[int, int]:
    """After a worker's death: its rows in flight become unknown (never resent); batches it left are queued again.

    Returns (rows marked unknown, batches queued again). A batch is queued
    again when it has pending rows, is not waiting in the queue, and no live
    worker is sending one of its rows; a second job for a batch still
    running costs nothing, as each row is claimed before it is sent.
    """
    lost = list(CommandRecord.objects.filter(outcome=CommandRecord.Outcome.SENDING).exclude(claimed_by__in=alive))
    for record in lost:
        complete(record, Attempt(CommandRecord.Outcome.UNKNOWN, WORKER_STOPPED, 0.0))
    requeued = 0
    for batch in (
        CommandRecord.objects.filter(outcome=CommandRecord.Outcome.PENDING, batch__isnull=False)
        .values_list("batch", flat=True)
        .distinct()
    ):
        if queue.is_queued(_batch_key(batch)):
            continue
        if CommandRecord.objects.filter(batch=batch, outcome=CommandRecord.Outcome.SENDING).exists():
            continue
        _batch_enqueue(batch)
        requeued += 1
    return len(lost), requeued


REFUSAL_ERROR = "The user lacks the console permission for this command."


@contextlib.contextmanager
def refusal_recorded(
    *,
    user: AbstractBaseUser,
    command: str,
    daemon_ids: Sequence[int | str],
    client: ClientInfo,
    pool_id: int | None = None,
    subsystem: str = "",
) -> Iterator[None]:
    """Around a POST's permission checks: a refusal (PermissionDenied) is recorded against each daemon the
    request names, by ``record_refusal``, then raised again; even from a user who may not see them, the attempt
    is worth an auditor's eye. A request that names no real command (``command`` "") records nothing."""
    try:
        yield
    except PermissionDenied:
        if command:
            record_refusal(
                user=user, command=command, daemon_ids=daemon_ids, pool_id=pool_id, subsystem=subsystem, client=client
            )
        raise


def record_refusal(
    *,
    user: AbstractBaseUser,
    command: str,
    daemon_ids: Sequence[int | str],
    pool_id: int | None = None,
    subsystem: str = "",
    client: ClientInfo,
) -> list[CommandRecord]:
    """Record an attempt the console itself refused (no permission) against each daemon named: nothing is sent.

    The one place refusals are written, whether the user could see the daemon
    or not. Ids come from the request: those that are not digits, or (with
    ``pool_id``) name no daemon of that pool, are ignored, and at most
    ``BULK_LIMIT`` are recorded.
    """
    ids = [int(i) for i in daemon_ids[:BULK_LIMIT] if str(i).isdigit()]
    daemons = Daemon.objects.filter(pk__in=ids).select_related("pool").order_by("id")
    if pool_id is not None:
        daemons = daemons.filter(pool_id=pool_id)
    return [
        CommandRecord.objects.create(
            **who_and_what(user=user, daemon=daemon, client=client),
            command=command[:64],
            target=subsystem[:64],
            outcome=CommandRecord.Outcome.FORBIDDEN,
            error=REFUSAL_ERROR,
            completed_at=timezone.now(),
            duration_ms=0.0,
        )
        for daemon in daemons
    ]


def daemon_config_set(
    *,
    user: AbstractBaseUser,
    daemon: Daemon,
    knob: str,
    value: str,
    old_value: str = "",
    recorded_value: str | None = None,
    reconfig: bool = False,
    client: ClientInfo,
) -> CommandRecord:
    """Set a runtime value on ``daemon`` (and Reconfig it if asked), recorded.

    ``value`` is what is sent. Where the knob holds a secret, callers pass
    ``old_value`` and ``recorded_value`` (what the audit trail keeps instead
    of ``value``) already redacted.
    """
    return _runtime_change(
        user=user,
        daemon=daemon,
        command="RuntimeSet",
        knob=knob,
        old_value=old_value,
        new_value=value if recorded_value is None else recorded_value,
        value=value,
        reconfig=reconfig,
        client=client,
        change=lambda: condor.client.remote_config_set(daemon.target, knob, value, daemon.pool.credentials),
    )


def daemon_config_unset(
    *,
    user: AbstractBaseUser,
    daemon: Daemon,
    knob: str,
    old_value: str = "",
    reconfig: bool = False,
    client: ClientInfo,
) -> RuntimeChange:
    """Remove a runtime value from ``daemon`` (and Reconfig it if asked), recorded.

    Never removes one from the middle of the daemon's list (see
    ``_unset_from_the_end``); the result names the later values that were
    taken back and set again on the way.
    """
    moved: list[str] = []
    record = _runtime_change(
        user=user,
        daemon=daemon,
        command="RuntimeUnset",
        knob=knob,
        old_value=old_value,
        new_value="",
        reconfig=reconfig,
        client=client,
        change=lambda: moved.extend(_unset_from_the_end(daemon, knob)),
    )
    return RuntimeChange(record=record, moved=tuple(moved))


@dataclass(frozen=True)
class RuntimeChange:
    """An audited runtime change and the later runtime values an unset set again to remove only from the end."""

    record: CommandRecord
    moved: tuple[str, ...]


def _unset_from_the_end(daemon: Daemon, knob: str) -> list[str]:
    """Remove ``knob``'s runtime value removing only the last entry of the daemon's list, ever.

    Why: HTCondor's ``set_runtime_config`` (src/condor_utils/condor_config.cpp,
    23.9 here and unchanged at the 25.x head) removes an entry of its
    ``std::vector<RuntimeConfigItem>`` with ``std::remove_if`` + ``erase``.
    ``RuntimeConfigItem`` owns two malloc'd ``char*`` and has a copy
    constructor and a destructor but no copy assignment, so shifting the later
    entries down copies their pointers and erasing the tail frees them: the
    daemon keeps dangling strings and aborts on a double free at the next
    removal (set three values, unset the first, unset the second). Removing
    the last entry shifts nothing. So the values after ``knob`` are removed
    last first, then ``knob``, then they are set again in their order, which
    puts them back as they were; none of it takes effect before a Reconfig.

    The list is read from the daemon's configuration dump, which shows it as
    of the last Reconfig; a Reconfig first makes that the list the daemon
    holds, values set without Reconfig included. Returns the knobs set again.
    """
    target, credentials = daemon.target, daemon.pool.credentials
    condor.client.send_command(target, Command.Reconfig, credentials)
    values = condor.client.remote_runtime_values(target, credentials)
    names = [name.lower() for name, _ in values]
    later = values[names.index(knob.lower()) + 1 :] if knob.lower() in names else []
    removed: list[tuple[str, str]] = []
    try:
        for name, value in reversed(later):
            condor.client.remote_config_unset(target, name, credentials)
            removed.insert(0, (name, value))
        condor.client.remote_config_unset(target, knob, credentials)
    finally:
        # Also after a failure, so no later value stays lost; each set appends at the end.
        for name, value in removed:
            condor.client.remote_config_set(target, name, value, credentials)
    return [name for name, _ in later]


def _runtime_change(
    *,
    user: AbstractBaseUser,
    daemon: Daemon,
    command: str,
    knob: str,
    old_value: str,
    new_value: str,
    value: str | None = None,
    reconfig: bool,
    client: ClientInfo,
    change: Callable[[], None],
) -> CommandRecord:
    """``change`` audited, once the daemon's configuration shows it may be taken (``value``: what a set sends)."""

    def action() -> None:
        validate_knob(knob)
        if value is not None:
            validate_value(value)
        check = _runtime_config_check(daemon, knob)
        if check is not None and (refusal := check.certain_refusal) is not None:
            raise refusal
        try:
            change()
        except RuntimeConfigRefused as exc:
            # The daemon gives no reason: the check names the condition that failed, where it found one.
            what = f"to {command.removeprefix('Runtime').lower()} {knob}"
            raise (exc if check is None else check.refusal(what)) from None
        if reconfig:
            condor.client.send_command(daemon.target, Command.Reconfig, daemon.pool.credentials)

    return audited(
        user=user,
        daemon=daemon,
        client=client,
        command=command + ("+Reconfig" if reconfig else ""),
        knob=knob[:256],
        old_value=old_value,
        new_value=new_value,
        action=action,
    )


def _runtime_config_check(daemon: Daemon, knob: str) -> RuntimeConfigCheck | None:
    """What the daemon says of its runtime configuration for ``knob``; None if it would not say (the change's own
    answer then tells more)."""
    try:
        return condor.client.runtime_config_check(daemon.target, knob, daemon.pool.credentials, version=daemon.version)
    except ProtocolError:
        return None


def _drain_fields(request: DrainRequest) -> dict[str, object]:
    """What a drain's audit row keeps of the request: its reason, and how fast, what follows, the expressions."""
    options = {"speed": str(request.speed), "on_completion": str(request.on_completion)}
    if request.check:
        options["check"] = request.check
    if request.start:
        options["start"] = request.start
    return {"command": DRAIN, "reason": request.reason, "options": options}


def _drain_request(record: CommandRecord) -> DrainRequest:
    options = record.options
    return DrainRequest(
        speed=DrainSpeed(options["speed"]),
        reason=record.reason,
        on_completion=DrainCompletion(options.get("on_completion", DrainCompletion.NOTHING)),
        check=options.get("check", ""),
        start=options.get("start", ""),
    )


def drain_send(*, user: AbstractBaseUser, daemon: Daemon, request: DrainRequest, client: ClientInfo) -> CommandRecord:
    """Ask startd ``daemon`` to drain, recorded with the request's options and, once accepted, its id; the pool
    is read again after, so its slots show the drain starting."""
    return _audited_then_reread(
        user=user,
        daemon=daemon,
        client=client,
        **_drain_fields(request),
        action=lambda: condor.client.drain(daemon.target, request, daemon.pool.credentials),
    )


def drain_cancel(*, user: AbstractBaseUser, daemon: Daemon, request_id: str = "", client: ClientInfo) -> CommandRecord:
    """Cancel startd ``daemon``'s drain: the one with ``request_id``, or every one (blank), recorded."""
    return _audited_then_reread(
        user=user,
        daemon=daemon,
        client=client,
        command=CANCEL_DRAIN,
        request_id=request_id,
        action=lambda: condor.client.cancel_drain(daemon.target, daemon.pool.credentials, request_id=request_id),
    )


def drain_batch_start(
    *, user: AbstractBaseUser, daemons: Sequence[Daemon], request: DrainRequest, client: ClientInfo
) -> uuid.UUID:
    """Drain each of ``daemons`` (startds of one pool) as ``command_batch_start`` sends a command: one pending
    row each, sent by a worker at most once, each with its own answer."""
    return _batch_start(user=user, daemons=daemons, client=client, **_drain_fields(request))


def drain_cancel_batch_start(*, user: AbstractBaseUser, daemons: Sequence[Daemon], client: ClientInfo) -> uuid.UUID:
    """Cancel every drain of each of ``daemons`` (startds of one pool), as a batch like ``drain_batch_start``."""
    return _batch_start(user=user, daemons=daemons, client=client, command=CANCEL_DRAIN)
