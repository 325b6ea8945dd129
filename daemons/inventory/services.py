"""Writes of the inventory: a pool's settings and its refreshes, keyword-only, each its own transaction."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections, router, transaction
from django.utils import timezone

import condor.client
from condor.errors import ProtocolError
from condor.types import AuthorizationCheck, Target
from condor.validation import validate_collector
from daemons import background, events
from daemons.models import Daemon, DaemonStateChange, Pool


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

    A pool changed through ``pool`` counts as stale, so the next page showing
    it refreshes it with the new settings.
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
                "updated_at",
            ],
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
