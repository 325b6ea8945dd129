"""Writes for configview: snapshots, shares and runtime changes. Keyword-only arguments.

Snapshots are only ever created here and filled in by their fetch on the
task queue; an update only applies while the row is pending or running, so a
complete snapshot never changes.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

import condor.client
from condor.errors import ProtocolError, ToolsUnavailable
from condor.types import Credentials, LocalKnob, Target
from condor.validation import validate_value
from configview import redaction, tasks
from configview.models import ConfigSnapshot, Share, share_secret_digest
from configview.selectors import NotComparable, SideChoice
from daemons.commands.services import (
    ClientInfo,
    QueueFull,
    RuntimeChange,
    daemon_config_set,
    daemon_config_unset,
)
from daemons.models import Daemon
from engine import queue, workers

logger = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.2  # seconds
LOCAL_SOURCES_NOTE = "HTCondor's Python bindings do not say where the console host's own values come from."
_Status = ConfigSnapshot.Status


# --------------------------------------------------------------------------
# Snapshots.
# --------------------------------------------------------------------------


def config_snapshot_fetch(*, user: AbstractBaseUser, daemon: Daemon) -> ConfigSnapshot:
    """Start fetching every knob of ``daemon`` on the task queue; the row reports progress.

    Raises ``QueueFull`` (and writes nothing) when ``CONDORWEB_POOL_QUEUE_LIMIT``
    fetches of the daemon's pool are unfinished already.
    """
    waiting = ConfigSnapshot.objects.filter(
        daemon__pool_id=daemon.pool_id, status__in=[_Status.PENDING, _Status.RUNNING]
    ).count()
    if waiting >= settings.CONDORWEB_POOL_QUEUE_LIMIT:
        raise QueueFull(
            f"Nothing was fetched: {waiting} configuration fetches from this pool are unfinished "
            f"(at most {settings.CONDORWEB_POOL_QUEUE_LIMIT} at a time). Try again once some have finished."
        )
    snapshot = ConfigSnapshot.objects.create(
        source=ConfigSnapshot.Source.DAEMON,
        daemon=daemon,
        pool_name=daemon.pool.name,
        daemon_name=daemon.name,
        daemon_kind=daemon.kind,
        daemon_address=daemon.address,
        subsystem=daemon.subsystem,
        requested_by=user,
        requested_by_name=user.get_username(),
    )
    # The worker finds the row only once it is committed; inside a caller's
    # transaction that is at its commit.
    queue.enqueue(tasks.config_fetch, snapshot.pk)
    return snapshot


def config_snapshot_fill(*, snapshot_id: int) -> None:
    """The queued half of a fetch, in one of its pool's slots (else ``engine.queue.Busy``): values, and beside them
    sources and declared types.

    Claimed by this worker as it starts (a conditional UPDATE): a second job
    for the same snapshot does nothing.
    """
    pool_id = ConfigSnapshot.objects.filter(pk=snapshot_id).values_list("daemon__pool_id", flat=True).first()
    # A fetch takes up to 6 HTCondor timeouts (condor.workers.Settings.fetch_timeout).
    with queue.exclusive(pool_id=pool_id or 0, ttl=max(120.0, 8 * settings.CONDORWEB_HTCONDOR_TIMEOUT)):
        _fill(snapshot_id)


def _fill(snapshot_id: int) -> None:
    if not _advance(snapshot_id, {_Status.PENDING}, status=_Status.RUNNING, claimed_by=workers.current_name()):
        return
    try:
        snapshot = (
            ConfigSnapshot.objects.select_related("daemon__pool").defer(*ConfigSnapshot.PAYLOAD).get(pk=snapshot_id)
        )
        if snapshot.daemon is None:
            raise ProtocolError("The daemon was removed from the console before its configuration was read.")
        target = snapshot.daemon.target
        credentials = snapshot.daemon.pool.credentials
        # Sources (condor_config_val -dump -verbose) and declared types are
        # read beside the values rather than after them. The daemon answers
        # one request at a time, so only the console's side of the work overlaps.
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="configview-side") as side:
            sources = side.submit(_sources, target, credentials)
            types = side.submit(_declared_types)
            values = condor.client.remote_config_all(target, credentials, on_progress=_progress_writer(snapshot_id))
            source_map, sources_note = sources.result()
            declared = types.result()
    except ProtocolError as exc:
        _advance(snapshot_id, {_Status.RUNNING}, status=_Status.FAILED, error=str(exc), completed_at=timezone.now())
        return
    except Exception as exc:
        _advance(
            snapshot_id,
            {_Status.RUNNING},
            status=_Status.FAILED,
            error=f"Unexpected error: {exc}",
            completed_at=timezone.now(),
        )
        raise
    _advance(snapshot_id, {_Status.RUNNING}, **_payload(values, declared, source_map, sources_note))


WORKER_STOPPED = "The worker fetching it stopped before it finished (a restart or a crash). Fetch again."
# Seconds a snapshot may wait in the queue before the recovery queues it again (a lost enqueue).
REQUEUE_AFTER = 60


def config_snapshots_recover(*, alive: set[str]) -> tuple[int, int]:
    """After a worker's death: fetches it was running are failed with the reason, lost ones queued again.

    Returns (snapshots failed, snapshots queued again). A snapshot still
    pending after ``REQUEUE_AFTER`` seconds is queued again: a second job for
    it does nothing, as the first to start claims it.
    """
    lost = ConfigSnapshot.objects.filter(status=_Status.RUNNING).exclude(claimed_by__in=alive)
    stopped = lost.update(status=_Status.FAILED, error=WORKER_STOPPED, completed_at=timezone.now())
    cutoff = timezone.now() - timedelta(seconds=REQUEUE_AFTER)
    waiting = list(
        ConfigSnapshot.objects.filter(status=_Status.PENDING, updated_at__lt=cutoff).values_list("pk", flat=True)
    )
    for snapshot_id in waiting:
        queue.enqueue(tasks.config_fetch, snapshot_id)
    return stopped, len(waiting)


def config_snapshot_capture_local(*, user: AbstractBaseUser, subsystem: str = "TOOL") -> ConfigSnapshot:
    """Store the console host's configuration as ``subsystem`` sees it (a few milliseconds: no background)."""
    return _local_snapshot_create(user=user, subsystem=subsystem, knobs=condor.client.local_config(subsystem))


def _local_snapshot_create(*, user: AbstractBaseUser, subsystem: str, knobs: list[LocalKnob]) -> ConfigSnapshot:
    return ConfigSnapshot.objects.create(
        source=ConfigSnapshot.Source.LOCAL,
        subsystem=subsystem,
        requested_by=user,
        requested_by_name=user.get_username(),
        **_payload({k.name: k.value for k in knobs}, {k.name: k.type for k in knobs}, {}, LOCAL_SOURCES_NOTE),
    )


def local_config_reload(*, user: AbstractBaseUser) -> None:
    """Make the console reread its own HTCondor configuration files."""
    condor.client.local_reload()
    logger.info("%s reloaded the console host's HTCondor configuration", user.get_username())


def _payload(
    values: dict[str, Any], declared: dict[str, str], sources: dict[str, str], sources_note: str
) -> dict[str, Any]:
    # A daemon lists runtime values under lower-cased names; types are per knob, whatever its case.
    folded = {name.upper(): kind for name, kind in declared.items()}
    types = {name: folded[name.upper()] for name in values if name.upper() in folded}
    clear, hashes = redaction.redact(values, types)
    now = timezone.now()
    return {
        "status": _Status.COMPLETE,
        "values": clear,
        "hashes": hashes,
        "types": types,
        "sources": sources,
        "sources_note": sources_note,
        "knob_count": len(values),
        "progress_done": len(values),
        "progress_total": len(values),
        "completed_at": now,
        "updated_at": now,
    }


def _advance(snapshot_id: int, allowed: set[str], **fields: Any) -> bool:
    """Update the row only while it is in one of the ``allowed`` states."""
    fields.setdefault("updated_at", timezone.now())
    return bool(ConfigSnapshot.objects.filter(pk=snapshot_id, status__in=allowed).update(**fields))


def _progress_writer(snapshot_id: int) -> Callable[[int, int], None]:
    """Progress as chunks arrive, written at most every PROGRESS_INTERVAL.

    Each write is a commit made between two chunks of the fetch; the page
    polls once a second, so more writes would only slow the fetch down.
    """
    last = -PROGRESS_INTERVAL

    def write(done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if done in (0, total) or now - last >= PROGRESS_INTERVAL:
            last = now
            _advance(snapshot_id, {_Status.RUNNING}, progress_done=done, progress_total=total)

    return write


def _sources(target: Target, credentials: Credentials) -> tuple[dict[str, str], str]:
    try:
        return condor.client.remote_config_sources(target, credentials), ""
    except ToolsUnavailable as exc:
        return {}, str(exc)
    except ProtocolError as exc:
        return {}, f"condor_config_val could not read them: {exc}"


def _declared_types() -> dict[str, str]:
    try:
        return {knob.name: knob.type for knob in condor.client.local_config()}
    except ProtocolError:
        logger.warning("No declared knob types: the local parameter table could not be read", exc_info=True)
        return {}


# --------------------------------------------------------------------------
# Shares.
# --------------------------------------------------------------------------


def share_create(
    *,
    user: AbstractBaseUser,
    left: SideChoice,
    right: SideChoice,
    title: str = "",
    expires_at: datetime | None = None,
) -> tuple[Share, str]:
    """Store the comparison and return it with its link token (shown once: only its hash is kept).

    A side that is the console host's live configuration is captured as a
    snapshot first, so the share shows what the user saw.
    """
    for side in (left, right):
        if side.snapshot is not None and not side.snapshot.is_complete:
            raise NotComparable(f"Snapshot #{side.snapshot.pk} is not complete; share it once it is.")
    # Read before the transaction, so no database lock waits on HTCondor.
    live = {
        side.subsystem: condor.client.local_config(side.subsystem) for side in (left, right) if side.snapshot is None
    }
    lookup = secrets.token_urlsafe(8)
    secret = secrets.token_urlsafe(32)
    # All or nothing: a share that cannot be stored leaves no captured snapshot behind.
    with transaction.atomic():
        snapshots = [
            side.snapshot or _local_snapshot_create(user=user, subsystem=side.subsystem, knobs=live[side.subsystem])
            for side in (left, right)
        ]
        share = Share.objects.create(
            lookup=lookup,
            secret_hash=share_secret_digest(secret),
            left=snapshots[0],
            right=snapshots[1],
            title=title,
            created_by=user,
            created_by_name=user.get_username(),
            expires_at=expires_at,
        )
    return share, lookup + secret


def share_revoke(*, share: Share) -> Share:
    if share.revoked_at is None:
        share.revoked_at = timezone.now()
        share.save(update_fields=["revoked_at"])
    return share


# --------------------------------------------------------------------------
# Runtime configuration.
# --------------------------------------------------------------------------


def runtime_config_change(
    *,
    user: AbstractBaseUser,
    daemon: Daemon,
    knob: str,
    value: str | None,
    reconfig: bool,
    client: ClientInfo,
) -> RuntimeChange:
    """Set (``value`` given) or unset (``value`` None) a runtime knob, recorded with secrets redacted.

    Invalid input reaches the audited call too, which rejects it before
    anything is sent and records the attempt as invalid.
    """
    old_value = redaction.redact_text(knob, _current_value(daemon, knob, value))
    if value is None:
        return daemon_config_unset(
            user=user, daemon=daemon, knob=knob, old_value=old_value, reconfig=reconfig, client=client
        )
    record = daemon_config_set(
        user=user,
        daemon=daemon,
        knob=knob,
        value=value,
        old_value=old_value,
        recorded_value=redaction.redact_text(knob, value),
        reconfig=reconfig,
        client=client,
    )
    return RuntimeChange(record=record, moved=())


def _current_value(daemon: Daemon, knob: str, value: str | None) -> str:
    """What the audit trail records as the value before the change ("" when undefined or unknown)."""
    try:
        if value is not None:
            # Invalid input is not even read: the change is rejected anyway.
            validate_value(value)
        return condor.client.remote_config_value(daemon.target, knob, daemon.pool.credentials) or ""
    except ProtocolError:
        # The change itself meets the same problem and records it.
        return ""
