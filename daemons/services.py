"""Writes for the daemons app: keyword-only, each its own transaction.

Everything that changes a daemon goes through ``_audited``: the audit row is
committed before anything is sent (no row, no command), completed after, and
state-change broadcasts leave only once the row is committed.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connections, router, transaction
from django.utils import timezone

import condor.client
import condor.workers
from condor.commands import Command
from condor.errors import ProtocolError
from condor.types import AuthorizationCheck, Target
from condor.validation import validate_collector, validate_knob
from daemons import background, events
from daemons.models import CommandRecord, Daemon, DaemonStateChange, Pool
from daemons.selectors import BULK_LIMIT

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClientInfo:
    """Who is asking, as the audit trail records it."""

    address: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request: object) -> ClientInfo:
        meta = getattr(request, "META", {})
        return cls(address=meta.get("REMOTE_ADDR") or None, user_agent=str(meta.get("HTTP_USER_AGENT", ""))[:512])


@transaction.atomic
def pool_upsert(
    *,
    name: str,
    collector: str,
    token_file: str = "",
    log_path_from: str = "/",
    log_path_to: str = "/",
    config_val: str = "",
    description: str = "",
) -> Pool:
    """Create the pool called ``name`` or update it to these settings."""
    pool, _ = Pool.objects.update_or_create(
        name=name,
        defaults={
            "collector": validate_collector(collector),
            "token_file": token_file,
            "log_path_from": log_path_from,
            "log_path_to": log_path_to,
            "config_val": config_val,
            "description": description,
        },
    )
    return pool


@transaction.atomic
def pool_save(*, pool: Pool | None, name: str, **fields: str) -> Pool:
    """Create a pool (``pool=None``) or change one, its name included.

    Either way its inventory counts as stale, so the next page showing it
    refreshes it with the new settings.
    """
    if pool is not None:
        Pool.objects.filter(pk=pool.pk).update(name=name, last_refreshed_at=None)
    return pool_upsert(name=name, **fields)


@dataclass(frozen=True)
class PoolCheck:
    """What a side-effect-free look at a pool found, before its settings are saved."""

    daemons: int
    master: str
    levels: tuple[AuthorizationCheck, ...]


CHECKED_LEVELS = ("READ", "ADMINISTRATOR", "CONFIG")


def pool_connection_check(*, collector: str, token_file: str, config_val: str) -> PoolCheck:
    """Query the collector, then ask its first master which levels the console has.

    Raises ``ProtocolError`` when the collector cannot be queried.
    """
    credentials = Pool(token_file=token_file, config_val=config_val).credentials
    infos = condor.client.discover(collector, credentials)
    master = next((info for info in infos if info.kind == "master" and info.address), None)
    if master is None:
        return PoolCheck(daemons=len(infos), master="", levels=())
    target = Target(address=master.address, kind="master", name=master.name)
    levels = tuple(condor.client.check_authorization(target, level, credentials) for level in CHECKED_LEVELS)
    return PoolCheck(daemons=len(infos), master=master.name or master.address, levels=levels)


def pool_refresh(*, pool: Pool) -> Pool:
    """Read the pool's daemons from its collector into the inventory.

    A daemon the collector no longer lists is kept and marked missing; a
    master's child that its master reports stopped is marked down. A failed
    refresh records its error on the pool and changes nothing else.
    """
    try:
        infos = condor.client.discover(pool.collector, pool.credentials)
    except ProtocolError as exc:
        with transaction.atomic():
            Pool.objects.filter(pk=pool.pk).update(last_refresh_error=str(exc), last_refreshed_at=timezone.now())
            transaction.on_commit(lambda: events.pool_changed(pool.pk))
        pool.refresh_from_db()
        return pool
    now = timezone.now()
    with transaction.atomic():
        existing = {(d.kind, d.name): d for d in Daemon.objects.select_for_update().filter(pool=pool)}
        seen: set[tuple[str, str]] = set()
        down_children: dict[str, set[str]] = {}
        for info in infos:
            if info.kind == "master":
                down_children[info.machine] = {sub for sub, st in info.children.items() if st == "down"}
        to_create: list[Daemon] = []
        to_update: list[Daemon] = []
        changes: list[DaemonStateChange] = []
        for info in infos:
            key = (info.kind, info.name)
            if key in seen:
                continue
            seen.add(key)
            daemon = existing.get(key) or Daemon(pool=pool, kind=info.kind, name=info.name)
            daemon.machine = info.machine
            daemon.address = info.address
            daemon.subsystem = info.subsystem
            daemon.version = info.version
            daemon.platform = info.platform
            daemon.start_time = info.start_time
            daemon.children = info.children
            daemon.attributes = info.attributes
            daemon.last_seen_at = now
            state = Daemon.State.DOWN if info.subsystem in down_children.get(info.machine, set()) else Daemon.State.UP
            if daemon.pk:
                _note_change(changes, daemon, state, now)
                to_update.append(daemon)
            else:
                daemon.state = state
                to_create.append(daemon)
        for key, daemon in existing.items():
            if key in seen:
                continue
            stopped = daemon.subsystem in down_children.get(daemon.machine, set())
            _note_change(changes, daemon, Daemon.State.DOWN if stopped else Daemon.State.MISSING, now)
            to_update.append(daemon)
        Daemon.objects.bulk_create(to_create)
        # A daemon seen for the first time has no earlier state, so it changes nothing.
        DaemonStateChange.objects.bulk_create(changes)
        # A flapping daemon would otherwise grow the timeline without end.
        DaemonStateChange.objects.filter(
            pool=pool, at__lt=now - timedelta(days=settings.CONDORWEB_TIMELINE_DAYS)
        ).delete()
        _update_each(
            to_update,
            ["machine", "address", "subsystem", "version", "platform", "start_time", "children", "attributes",
             "last_seen_at", "state", "updated_at"],
        )
        Pool.objects.filter(pk=pool.pk).update(last_refresh_error="", last_refreshed_at=now)
        transaction.on_commit(lambda: events.pool_changed(pool.pk))
    pool.refresh_from_db()
    return pool


def _note_change(changes: list[DaemonStateChange], daemon: Daemon, state: str, now: datetime) -> None:
    """Give ``daemon`` its new state, noting the change for the pool's timeline if it is one."""
    if daemon.state != state:
        changes.append(
            DaemonStateChange(pool_id=daemon.pool_id, daemon=daemon, old_state=daemon.state, new_state=state, at=now)
        )
        daemon.state = state


def _who_and_what(*, user: AbstractBaseUser, daemon: Daemon, client: ClientInfo) -> dict[str, object]:
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


def _update_each(daemons: list[Daemon], fields: list[str]) -> None:
    """Write ``fields`` of every daemon with one parametrised UPDATE run for all rows.

    ``bulk_update`` builds a CASE expression per field and row: 10,000 daemons
    took about 24 s of CPU, holding the GIL and the database's write lock.
    This takes well under a second.
    """
    if not daemons:
        return
    connection = connections[router.db_for_write(Daemon)]
    quote = connection.ops.quote_name
    meta = Daemon._meta
    columns = [meta.get_field(name) for name in fields]
    sql = "UPDATE {} SET {} WHERE {} = %s".format(
        quote(meta.db_table), ", ".join(f"{quote(f.column)} = %s" for f in columns), quote(meta.pk.column)
    )
    # pre_save gives auto_now fields their new time, as save() would.
    rows = [[f.get_db_prep_save(f.pre_save(d, False), connection) for f in columns] + [d.pk] for d in daemons]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _audited(
    *,
    user: AbstractBaseUser,
    daemon: Daemon,
    client: ClientInfo,
    command: str,
    action: Callable[[], None],
    target: str = "",
    knob: str = "",
    old_value: str = "",
    new_value: str = "",
) -> CommandRecord:
    record = _begin(
        user=user, daemon=daemon, client=client, command=command, target=target, knob=knob,
        old_value=old_value, new_value=new_value,
    )
    attempt = _attempt(action)
    _complete(record, attempt)
    if attempt.unexpected is not None:
        raise attempt.unexpected  # recorded; re-raised for the server log
    return record


def _begin(*, user: AbstractBaseUser, daemon: Daemon, client: ClientInfo, command: str, **fields: str) -> CommandRecord:
    """The pending audit row, committed: if it cannot be written, the caller never gets to send."""
    with transaction.atomic():
        return CommandRecord.objects.create(**_who_and_what(user=user, daemon=daemon, client=client), command=command, **fields)


@dataclass(frozen=True)
class _Attempt:
    outcome: str
    error: str
    duration_ms: float
    unexpected: Exception | None = None


def _attempt(action: Callable[[], None]) -> _Attempt:
    """Run ``action`` (no database access: it may run in a thread of its own) and say what came of it."""
    started = time.monotonic()
    try:
        action()
    except ProtocolError as exc:
        return _Attempt(exc.outcome, str(exc), (time.monotonic() - started) * 1000)
    except Exception as exc:  # noqa: BLE001 - recorded; the caller re-raises or logs it
        return _Attempt(CommandRecord.Outcome.ERROR, f"Unexpected error: {exc}", (time.monotonic() - started) * 1000, exc)
    return _Attempt(CommandRecord.Outcome.SENT, "", (time.monotonic() - started) * 1000)


def _complete(record: CommandRecord, attempt: _Attempt) -> None:
    record.outcome = attempt.outcome
    record.error = attempt.error
    record.duration_ms = attempt.duration_ms
    record.completed_at = timezone.now()
    with transaction.atomic():
        record.save(update_fields=["outcome", "error", "duration_ms", "completed_at"])
        # The broadcast costs an event loop round trip (1-5 ms): it leaves the request's path.
        transaction.on_commit(
            lambda: background.submit_once(("command_recorded", record.pk), events.command_recorded, record)
        )


def daemon_command_send(
    *, user: AbstractBaseUser, daemon: Daemon, command: Command, subsystem: str = "", client: ClientInfo
) -> CommandRecord:
    """Send an admin command to ``daemon``, recorded whatever comes of it."""
    return _audited(
        user=user,
        daemon=daemon,
        client=client,
        command=command.name,
        target=subsystem,
        action=lambda: condor.client.send_command(
            daemon.target, command, daemon.pool.credentials, subsystem=subsystem
        ),
    )


def daemon_command(
    *, user: AbstractBaseUser, daemon: Daemon, command: Command, subsystem: str = "", client: ClientInfo
) -> CommandRecord:
    """A command from the console's forms: sent and recorded, then the pool is read again in the background."""
    record = daemon_command_send(user=user, daemon=daemon, command=command, subsystem=subsystem, client=client)
    if record.outcome == CommandRecord.Outcome.SENT:
        pool_refresh_after_command(pool=daemon.pool)
    return record


def daemons_command(
    *, user: AbstractBaseUser, daemons: Sequence[Daemon], command: Command, subsystem: str = "", client: ClientInfo
) -> uuid.UUID:
    """The same command to each of ``daemons``: one pending audit row each, sent in the background.

    The rows are committed together, with one batch id, before anything is
    sent; the id names the page where their outcomes arrive. A request never
    waits on the daemons, however many are silent.
    """
    batch = uuid.uuid4()
    with transaction.atomic():
        CommandRecord.objects.bulk_create(
            CommandRecord(
                **_who_and_what(user=user, daemon=daemon, client=client), command=command.name, target=subsystem,
                batch=batch,
            )
            for daemon in daemons
        )
        transaction.on_commit(
            lambda: background.submit_once(("command_batch", batch), _batch_send, batch, lane="commands")
        )
    return batch


def _batch_send(batch: uuid.UUID) -> None:
    """Send a batch's pending commands a few at a time, as many as the condor package has workers per pool.

    A handful of black-holed daemons cost one HTCondor timeout each in
    parallel, not in turn; each outcome is written as it arrives.
    """
    records = list(CommandRecord.objects.filter(batch=batch, outcome=CommandRecord.Outcome.PENDING)
                   .select_related("pool", "daemon").order_by("id"))

    def send(record: CommandRecord) -> _Attempt:
        pool = record.pool
        if pool is None:
            return _Attempt(CommandRecord.Outcome.ERROR, "The pool was removed from the console before sending.", 0.0)
        # To the daemon exactly as its row names it, even if a refresh has moved it since.
        return _attempt(lambda: condor.client.send_command(
            Target(address=record.daemon_address, kind=record.daemon_kind, name=record.daemon_name),
            Command.by_name(record.command), pool.credentials, subsystem=record.target,
        ))

    with ThreadPoolExecutor(max_workers=settings.CONDORWEB_WORKERS_PER_POOL, thread_name_prefix="condorweb-bulk") as executor:
        sending = {executor.submit(send, record): record for record in records}
        for done in as_completed(sending):
            record, attempt = sending[done], done.result()
            _complete(record, attempt)
            if attempt.unexpected is not None:
                logger.error("%s to %s failed unexpectedly", record.command, record.daemon_name, exc_info=attempt.unexpected)
    pools = {record.pool_id: record.pool for record in records
             if record.pool is not None and record.outcome == CommandRecord.Outcome.SENT}
    for pool in pools.values():
        pool_refresh_after_command(pool=pool)


def command_forbidden_record(
    *, user: AbstractBaseUser, daemon: Daemon, command: str, subsystem: str = "", client: ClientInfo
) -> CommandRecord:
    """Record an attempt the console itself refused (no permission): nothing is sent."""
    return CommandRecord.objects.create(
        **_who_and_what(user=user, daemon=daemon, client=client),
        command=command[:64],
        target=subsystem[:64],
        outcome=CommandRecord.Outcome.FORBIDDEN,
        error="The user lacks the console permission for this command.",
        completed_at=timezone.now(),
        duration_ms=0.0,
    )


def command_forbidden_by_id(
    *, user: AbstractBaseUser, daemon_id: int, command: str, subsystem: str = "", client: ClientInfo
) -> CommandRecord | None:
    """``command_forbidden_record`` for a user who may not even see the daemon: None if there is no such daemon."""
    daemon = Daemon.objects.select_related("pool").filter(pk=daemon_id).first()
    if daemon is None:
        return None
    return command_forbidden_record(user=user, daemon=daemon, command=command, subsystem=subsystem, client=client)


def commands_forbidden_record(
    *, user: AbstractBaseUser, pool_id: int, daemon_ids: Sequence[str], command: str, subsystem: str = "",
    client: ClientInfo,
) -> list[CommandRecord]:
    """``command_forbidden_record`` for each daemon of the pool a refused bulk POST named; other ids are ignored."""
    ids = [i for i in daemon_ids[:BULK_LIMIT] if i.isdigit()]
    daemons = Daemon.objects.filter(pool_id=pool_id, pk__in=ids).select_related("pool")
    return [
        command_forbidden_record(user=user, daemon=daemon, command=command, subsystem=subsystem, client=client)
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
        user=user, daemon=daemon, command="RuntimeSet", knob=knob, old_value=old_value,
        new_value=value if recorded_value is None else recorded_value,
        reconfig=reconfig, client=client,
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
        user=user, daemon=daemon, command="RuntimeUnset", knob=knob, old_value=old_value, new_value="",
        reconfig=reconfig, client=client, change=lambda: moved.extend(_unset_from_the_end(daemon, knob)),
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
    reconfig: bool,
    client: ClientInfo,
    change: Callable[[], None],
) -> CommandRecord:
    def action() -> None:
        validate_knob(knob)
        change()
        if reconfig:
            condor.client.send_command(daemon.target, Command.Reconfig, daemon.pool.credentials)

    return _audited(
        user=user, daemon=daemon, client=client, command=command + ("+Reconfig" if reconfig else ""),
        knob=knob[:256], old_value=old_value, new_value=new_value, action=action,
    )


def _refresh_key(pool_id: int) -> tuple[str, int]:
    return ("pool_refresh", int(pool_id))


def pool_refresh_start(*, pool: Pool) -> bool:
    """Refresh ``pool`` in the background unless a refresh of it is under way; True if one started."""
    return background.submit_once(_refresh_key(pool.pk), _pool_refresh_by_id, pool.pk)


def pools_refresh_stale(*, pools: Iterable[Pool]) -> set[int]:
    """Start background refreshes of the pools older than ``CONDORWEB_INVENTORY_MAX_AGE``.

    Pages call this and render what the database has, so a view never waits
    on HTCondor. Returns the ids of the pools being refreshed now (started
    here or earlier), for the page to say so. A failed refresh counts as a
    refresh, so an unreachable pool is retried once per max age, not per view.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.CONDORWEB_INVENTORY_MAX_AGE)
    refreshing: set[int] = set()
    for pool in pools:
        if pool.last_refreshed_at is None or pool.last_refreshed_at < cutoff:
            pool_refresh_start(pool=pool)
        if background.in_flight(_refresh_key(pool.pk)):
            refreshing.add(pool.pk)
    return refreshing


def pool_refresh_if_stale(*, pool: Pool) -> bool:
    """``pools_refresh_stale`` for one pool: whether it is being refreshed now."""
    return pool.pk in pools_refresh_stale(pools=[pool])


def _pool_refresh_by_id(pool_id: int) -> None:
    pool = Pool.objects.filter(pk=pool_id).first()
    # Deleted while the job waited: nothing to refresh.
    if pool is not None:
        pool_refresh(pool=pool)


def client_logging_set(*, user: AbstractBaseUser, debug: str) -> None:
    """Switch this process's HTCondor client log (TOOL_DEBUG into CONDORWEB_TOOL_LOG) on, or off with ``""``."""
    condor.workers.set_client_logging(debug=debug, log_path=settings.CONDORWEB_TOOL_LOG if debug else "")
    logger.info("%s set the HTCondor client log level to %r", user.get_username(), debug or "off")


# Seconds after a command at which its pool is read again: HTCondor acts
# asynchronously, and a master advertises a child's new state only with its
# next ad (UPDATE_INTERVAL), so one immediate read would show the old state.
COMMAND_REFRESH_DELAYS: tuple[float, ...] = (1.0, 6.0, 15.0)
_last_command_at: dict[int, float] = {}


def pool_refresh_after_command(*, pool: Pool) -> None:
    """Read ``pool`` again a few times over the next seconds, in the background; never waits."""
    _last_command_at[pool.pk] = time.monotonic()
    background.submit_once(("pool_refresh_after_command", pool.pk), _pool_refresh_after_command, pool.pk)


def _pool_refresh_after_command(pool_id: int) -> None:
    step = 0
    while step < len(COMMAND_REFRESH_DELAYS):
        commanded_at = _last_command_at.get(pool_id, 0.0)
        wait = commanded_at + COMMAND_REFRESH_DELAYS[step] - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        if _last_command_at.get(pool_id, 0.0) != commanded_at:
            # Another command arrived meanwhile (its own submit found this job
            # running): follow that one's schedule instead.
            step = 0
            continue
        # As the pool's refresh job, so it never overlaps one a page started:
        # the later of two would write back the older reading.
        background.run_as(
            _refresh_key(pool_id), _pool_refresh_by_id, pool_id, wait=2 * settings.CONDORWEB_HTCONDOR_TIMEOUT
        )
        step += 1
