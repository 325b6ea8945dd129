"""State-change broadcasts over the channel layer.

Called only from ``transaction.on_commit`` so nobody hears of a change that
was rolled back. Group names are constants or built from integer ids.
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

POOLS_GROUP = "pools"


def pool_group(pool_id: int) -> str:
    return f"pool.{int(pool_id)}"


def _send(group: str, message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # noqa: BLE001 - a broadcast is a hint to refresh; the database has the truth
        logger.warning("Could not broadcast %s to %s", message.get("type"), group, exc_info=True)


def pool_changed(pool_id: int) -> None:
    _send(pool_group(pool_id), {"type": "pool.changed", "pool_id": int(pool_id)})
    _send(POOLS_GROUP, {"type": "pool.changed", "pool_id": int(pool_id)})


def command_recorded(record_id: int, pool_id: int | None) -> None:
    if pool_id:
        _send(pool_group(pool_id), {"type": "command.recorded", "record_id": int(record_id)})
