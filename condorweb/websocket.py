"""What every websocket connection goes through before an app's consumer sees it."""

from __future__ import annotations

import logging

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import URLRouter
from django.urls import re_path

from daemons.consumers import CLOSE_NOT_FOUND

logger = logging.getLogger(__name__)


class _NoRoute(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        await self.accept()
        user = self.scope["user"].get_username() or "an anonymous visitor"
        logger.warning("Websocket %r of %s closed with %d: no such route", self.scope["path"], user, CLOSE_NOT_FOUND)
        await self.close(code=CLOSE_NOT_FOUND)


def routed(patterns: list) -> URLRouter:
    """The routes, then one for every other path: channels' router raises on a path no route matches."""
    return URLRouter([*patterns, re_path(r"", _NoRoute.as_asgi())])
