"""State-change broadcasts over the channel layer.

At the app's top: inventory and commands send them, the log consumers hear them.

Called only from ``transaction.on_commit`` so nobody hears of a change that
was rolled back. Group names are built from integer ids; the pool pages poll
(htmx), so only live-log viewers listen.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from daemons.models import CommandRecord

logger = logging.getLogger(__name__)


def pool_group(pool_id: int) -> str:
    return f"pool.{int(pool_id)}"


# The event loop this process's consumers wait on. The in-memory layer's
# queues belong to it, so a broadcast from any other thread (a refresh after a
# command, in the background) must be sent on it to wake them; with Redis the
# loop's connections are reused instead of a new loop and connection per send.
_consumers_loop: asyncio.AbstractEventLoop | None = None


def consumers_listen_on(loop: asyncio.AbstractEventLoop) -> None:
    global _consumers_loop
    _consumers_loop = loop


def _send(group: str, message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    loop = _consumers_loop
    if loop is not None and loop.is_running():
        sent = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop)
        sent.add_done_callback(lambda done: _warn_if_failed(done, group, message))
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:
        _warn(group, message)


def _warn_if_failed(done: concurrent.futures.Future, group: str, message: dict) -> None:
    if not done.cancelled() and done.exception() is not None:
        _warn(group, message, done.exception())


def _warn(group: str, message: dict, exc: BaseException | None = None) -> None:
    logger.warning("Could not broadcast %s to %s", message.get("type"), group, exc_info=exc or True)


def pool_changed(pool_id: int) -> None:
    _send(pool_group(pool_id), {"type": "pool.changed", "pool_id": int(pool_id)})


def command_recorded(record: CommandRecord) -> None:
    """Tell the pool's log viewers who sent a finished command and how it went.

    The message carries what each viewer needs to tell whether it is about its
    daemon, so a bulk command to 200 daemons costs no query per viewer.
    """
    if not record.pool_id:
        return
    _send(
        pool_group(record.pool_id),
        {
            "type": "command.recorded",
            "record_id": record.pk,
            "daemon_id": record.daemon_id,
            "machine": record.daemon.machine if record.daemon else "",
            "subsystem": record.target,
            "text": record.notice_text,
        },
    )
