"""Writes for configview: snapshots, shares and runtime changes. Keyword-only arguments.

Snapshots are only ever created here and filled in by their background
fetch; an update only applies while the row is pending or running, so a
complete snapshot never changes.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

import condor.client
from condor.errors import ProtocolError, ToolsUnavailable
from condor.types import Credentials, LocalKnob, Target
from condor.validation import validate_value
from configview import redaction
from configview.models import ConfigSnapshot, Share, share_secret_digest
from configview.selectors import NotComparable, SideChoice
from daemons import background
from daemons.commands.services import (
    ClientInfo,
    RuntimeChange,
    daemon_config_set,
    daemon_config_unset,
)
from daemons.models import Daemon

logger = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.2  # seconds
LOCAL_SOURCES_NOTE = "HTCondor's Python bindings do not say where the console host's own values come from."
_Status = ConfigSnapshot.Status


# --------------------------------------------------------------------------
# Snapshots.
# --------------------------------------------------------------------------


def config_snapshot_fetch(*, user: AbstractBaseUser, daemon: Daemon) -> ConfigSnapshot:
    """Start fetching every knob of ``daemon`` in the background; the row reports progress."""
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
    # The job's own database connection finds the row only once it is
    # committed; inside a caller's transaction that is at its commit.
    transaction.on_commit(
        lambda: background.submit_once(
            ("config-fetch", snapshot.pk), lambda: config_snapshot_fill(snapshot_id=snapshot.pk)
        )
    )
    return snapshot


def config_snapshot_fill(*, snapshot_id: int) -> None:
    """The background half of a fetch: values, and beside them sources and declared types."""
    if not _advance(snapshot_id, {_Status.PENDING}, status=_Status.RUNNING):
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
