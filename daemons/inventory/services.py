"""Writes of the inventory: a pool's settings and its refreshes, keyword-only, each its own transaction."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import Q
from django.utils import timezone

import condor.client
from condor.errors import ProtocolError
from condor.types import AuthorizationCheck, SlotInfo, Target
from condor.validation import validate_collector
from daemons import events, tasks
from daemons.inventory import selectors
from daemons.models import Daemon, DaemonStateChange, DrainState, Pool, Slot
from engine import queue


@transaction.atomic
def pool_save(
    *,
    pool: Pool | None = None,
    name: str,
    collector: str,
    token_file: str = "",
    log_path_from: str = "/",
    log_path_to: str = "/",
    config_val: str = "",
    description: str = "",
) -> Pool:
    """Save a pool's settings: ``pool``'s (its name included) if given, else those of the pool called ``name``,
    created if there is none.

    The pool is read (again) with its new settings once they are committed.
    """
    if pool is not None:
        Pool.objects.filter(pk=pool.pk).update(name=name, last_refreshed_at=None)
    saved, _ = Pool.objects.update_or_create(
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
    pool_refresh_start(pool=saved)
    return saved


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
    started = time.monotonic()
    try:
        infos = condor.client.discover(pool.collector, pool.credentials)
        slots = condor.client.slots(pool.collector, pool.credentials)
    except ProtocolError as exc:
        with transaction.atomic():
            Pool.objects.filter(pk=pool.pk).update(
                last_refresh_error=str(exc), last_refreshed_at=timezone.now(), last_refresh_ms=_since(started)
            )
            transaction.on_commit(lambda: events.pool_changed(pool.pk))
        pool.refresh_from_db()
        return pool
    now = timezone.now()
    with transaction.atomic():
        # One refresh of a pool writes at a time, whoever runs it (a worker's job, manage.py devpool up): the
        # pool's row is locked first, so a second waits and then sees the daemons the first added. Locking only
        # the daemons let two insert the same new one (found on PostgreSQL: daemon_unique_in_pool violated).
        if not list(Pool.objects.select_for_update().filter(pk=pool.pk).values_list("pk", flat=True)):
            return pool
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
        startds = {d.name: d for d in [*existing.values(), *to_create] if d.kind == "startd"}
        _note_drain_changes(changes, startds.values(), slots, now)
        Daemon.objects.bulk_create(to_create)
        _replace_slots(pool, slots, startds)
        # A daemon seen for the first time has no earlier state, so it changes nothing.
        DaemonStateChange.objects.bulk_create(changes)
        # A flapping daemon would otherwise grow the timeline without end.
        DaemonStateChange.objects.filter(
            pool=pool, at__lt=now - timedelta(days=settings.CONDORWEB_TIMELINE_DAYS)
        ).delete()
        _update_each(
            to_update,
            [
                "machine",
                "address",
                "subsystem",
                "version",
                "platform",
                "start_time",
                "children",
                "attributes",
                "last_seen_at",
                "state",
                "drain_state",
                "updated_at",
            ],
        )
        Pool.objects.filter(pk=pool.pk).update(
            last_refresh_error="", last_refreshed_at=now, last_refresh_ms=_since(started)
        )
        transaction.on_commit(lambda: events.pool_changed(pool.pk))
    pool.refresh_from_db()
    return pool


def _replace_slots(pool: Pool, infos: list[SlotInfo], startds: dict[str, Daemon]) -> None:
    """The pool's slots become those of ``infos``: gone or changed ones are deleted, new or changed ones written.

    Nothing points at a slot, so a changed one is replaced rather than updated. Most slots are as they were a
    minute before (a claimed slot keeps its state and job for hours), and writing only the difference keeps
    the database's write lock short: rewriting all 10,000 slots of a pool takes 1.7-2.8 s here on SQLite, where
    every other writer (audit rows among them) waits meanwhile; a refresh that finds them unchanged, 0.3 s
    and no write (``make bench``, area slots).
    """

    def columns(info: SlotInfo) -> tuple[object, ...]:
        startd = startds.get(info.startd)
        return (startd.pk if startd else None, slot_board(info), *(getattr(info, name) for name in _SLOT_FIELDS[1:]))

    # Plain tuples compared, models built only for what is written: building 10,000 Slot instances
    # alone took 0.7 s, most of an unchanged refresh.
    wanted = {info.name: (info, columns(info)) for info in infos}
    stale: list[int] = []
    for pk, name, *stored in Slot.objects.filter(pool=pool).values_list("pk", "name", *_SLOT_COLUMNS):
        found = wanted.get(name)
        if found is not None and tuple(stored) == found[1]:
            del wanted[name]
        else:
            stale.append(pk)
    for start in range(0, len(stale), 1000):
        Slot.objects.filter(pk__in=stale[start : start + 1000]).delete()
    Slot.objects.bulk_create(
        (
            Slot(pool=pool, startd_id=row[0], board=row[1], **{name: getattr(info, name) for name in _SLOT_FIELDS})
            for info, row in wanted.values()
        ),
        batch_size=1000,
    )


# What a Slot row keeps of a slot ad; the startd (and its address) is the row's link to its Daemon.
_SLOT_FIELDS = (
    "name",
    *(field.name for field in dataclasses.fields(SlotInfo) if field.name not in ("name", "startd", "address")),
)
# What tells a stored slot from the collector's: those but its name, and the row's startd and board column.
_SLOT_COLUMNS = ("startd_id", "board", *_SLOT_FIELDS[1:])


def slot_board(info: SlotInfo) -> str:
    """The machine board's column for a slot: a draining startd's slots are draining until HTCondor says drained."""
    if info.state == "Drained":
        return Slot.Board.DRAINED
    if info.draining:
        return Slot.Board.DRAINING
    return {"Unclaimed": Slot.Board.UNCLAIMED, "Claimed": Slot.Board.CLAIMED, "Owner": Slot.Board.OWNER}.get(
        info.state, Slot.Board.OTHER
    )


def startd_drain_state(slots: list[SlotInfo]) -> str:
    """A startd's drain state from its slot ads: drained once every slot is (the dynamic ones are gone by then)."""
    if not any(slot.draining for slot in slots):
        return DrainState.NONE
    if all(slot.state == "Drained" for slot in slots):
        return DrainState.DRAINED
    return DrainState.DRAINING


def _note_drain_changes(
    changes: list[DaemonStateChange], startds: Iterable[Daemon], slots: list[SlotInfo], now: datetime
) -> None:
    by_startd: dict[str, list[SlotInfo]] = {}
    for slot in slots:
        by_startd.setdefault(slot.startd, []).append(slot)
    for daemon in startds:
        # A startd the collector no longer lists keeps its last drain state: nothing says it changed.
        if daemon.name not in by_startd:
            continue
        state = startd_drain_state(by_startd[daemon.name])
        if daemon.drain_state != state:
            if daemon.pk:
                changes.append(
                    DaemonStateChange(
                        pool_id=daemon.pool_id,
                        daemon=daemon,
                        aspect=DaemonStateChange.Aspect.DRAIN,
                        old_state=daemon.drain_state,
                        new_state=state,
                        at=now,
                    )
                )
            daemon.drain_state = state


def _since(started: float) -> float:
    return (time.monotonic() - started) * 1000


def _note_change(changes: list[DaemonStateChange], daemon: Daemon, state: str, now: datetime) -> None:
    """Give ``daemon`` its new state, noting the change for the pool's timeline if it is one."""
    if daemon.state != state:
        changes.append(
            DaemonStateChange(pool_id=daemon.pool_id, daemon=daemon, old_state=daemon.state, new_state=state, at=now)
        )
        daemon.state = state


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


# Seconds a refresh may take at most (a discovery waits for the condor
# package's workers, then answers within its timeout); its lock expires then.
def _refresh_ttl() -> float:
    return 4 * settings.CONDORWEB_HTCONDOR_TIMEOUT + 30


def pool_refresh_start(*, pool: Pool) -> None:
    """Queue a refresh of ``pool`` (after commit) unless one is queued and has not started yet."""
    queue.enqueue(tasks.pool_refresh, pool.pk, "asked", key=selectors.refresh_key(pool.pk))


def pool_refresh_queued(*, pool_id: int, reason: str) -> None:
    """The queued half of a refresh: as the pool's only refresh, in one of its slots (else ``engine.queue.Busy``).

    ``reason``: "asked" (the Refresh button, a new pool) and "command" wait
    for a refresh running now and then read again, since theirs may have
    started before what they want to see; "watch" does not, as the running
    refresh is as new as its own would be.
    """
    with queue.exclusive(pool_id=pool_id, lock="refresh", ttl=_refresh_ttl()):
        if reason == "asked":
            queue.started(selectors.refresh_key(pool_id))
        pool = Pool.objects.filter(pk=pool_id).first()
        # Deleted while the job waited: nothing to refresh.
        if pool is not None:
            pool_refresh(pool=pool)


# Seconds after a command at which its pool is read again: HTCondor acts
# asynchronously, and a master advertises a child's new state only with its
# next ad (UPDATE_INTERVAL), so one immediate read would show the old state.
COMMAND_REFRESH_DELAYS: tuple[float, ...] = (1.0, 6.0, 15.0)


def pool_refresh_after_command(*, pool: Pool) -> None:
    """Read ``pool`` again a few times over the next seconds, on the queue; never waits."""
    for delay in COMMAND_REFRESH_DELAYS:
        queue.enqueue(tasks.pool_refresh, pool.pk, "command", delay=delay)


def pools_watch(*, minute: datetime) -> int:
    """Queue the watch's refreshes of every pool for the minute from ``minute``: one each
    ``CONDORWEB_WATCH_INTERVAL`` seconds (at most one a minute for longer intervals); how many.

    Run by every worker's scheduler at each minute; the first worker to run it
    for a minute queues that minute's refreshes, the others nothing.
    """
    if not queue.first(f"watch-{minute:%Y%m%d%H%M}", ttl=3600):
        return 0
    queue.forget(f"watch-{minute - timedelta(minutes=2):%Y%m%d%H%M}")
    interval = settings.CONDORWEB_WATCH_INTERVAL
    queued = 0
    if interval >= 60:
        # Due within half a tick: the ticks are a minute apart.
        due = timezone.now() - timedelta(seconds=interval - 30)
        for pool_id in Pool.objects.filter(
            Q(last_refreshed_at__isnull=True) | Q(last_refreshed_at__lte=due)
        ).values_list("pk", flat=True):
            queue.enqueue(tasks.pool_refresh, pool_id, "watch")
            queued += 1
        return queued
    offsets = [step * interval for step in range(math.ceil(60 / interval))]
    for pool_id in Pool.objects.values_list("pk", flat=True):
        for offset in offsets:
            queue.enqueue(tasks.pool_refresh, pool_id, "watch", delay=offset)
            queued += 1
    return queued
