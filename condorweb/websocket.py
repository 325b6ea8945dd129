"""What every websocket connection goes through before an app's consumer sees it."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import URLRouter
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.urls import re_path
from django.utils.http import is_same_domain

from daemons.logs.consumers import CLOSE_NOT_FOUND

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


def own_origin(scope: dict) -> str | None:
    """The console's origin as this connection's browser sees it, or None when the Host is not an allowed one.

    As Django's ``request.is_secure()``: wss, or the proxy's header when
    ``SECURE_PROXY_SSL_HEADER`` is set (daphne's scope says ws behind a TLS proxy).
    """
    headers = dict(scope.get("headers", []))
    host = headers.get(b"host", b"").decode("latin-1").lower()
    allowed = settings.ALLOWED_HOSTS or ([".localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else [])
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, allowed):
        return None
    secure = scope.get("scheme") == "wss"
    if settings.SECURE_PROXY_SSL_HEADER:
        name, value = settings.SECURE_PROXY_SSL_HEADER
        forwarded = headers.get(name.removeprefix("HTTP_").lower().replace("_", "-").encode("latin-1"))
        if forwarded is not None:
            secure = forwarded.decode("latin-1").split(",", 1)[0].strip() == value
    return f"{'https' if secure else 'http'}://{host}"


def origin_allowed(origin: str, own: str | None) -> bool:
    """Scheme, host and port equal to the console's own, or a trusted origin, as Django's CSRF check decides."""
    if own is None:
        return False
    origin = origin.lower()
    if origin == own:
        return True
    trusted = [pattern.lower() for pattern in settings.CSRF_TRUSTED_ORIGINS]
    if origin in trusted:
        return True
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    return any(
        parts.scheme == urlsplit(pattern).scheme
        and is_same_domain(parts.netloc, urlsplit(pattern).netloc.removeprefix("*"))
        for pattern in trusted
        if "*" in pattern
    )


class SameOriginOnly:
    """Refuses the handshake (HTTP 403) of a page from another origin, with one log line.

    Channels' ``AllowedHostsOriginValidator`` compares the host only: any
    scheme and any port of an allowed host passed.
    """

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send) -> None:
        origin = dict(scope.get("headers", [])).get(b"origin")
        own = own_origin(scope)
        if origin is not None and origin_allowed(origin.decode("latin-1"), own):
            return await self.application(scope, receive, send)
        logger.warning(
            "Websocket %r refused: origin %r is neither this console's (%s) nor trusted",
            scope["path"],
            origin,
            own or "host not allowed",
        )
        return await WebsocketDenier()(scope, receive, send)
