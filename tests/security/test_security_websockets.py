"""Every websocket route, enumerated from the routing conf so a new consumer cannot be forgotten, closes for a stranger."""

from __future__ import annotations

import re

import pytest
from channels.testing import WebsocketCommunicator
from django.urls import URLPattern, URLResolver

from condorweb.routing import websocket_urlpatterns

# A stranger must be turned away before anything is looked up, so any sample
# values do; the log key is a real one to get past the route's own checks.
_SAMPLES = {"int": "1", "str": "MASTER_LOG", "slug": "x", "path": "x"}
CLOSE_LOGIN = 4401


def _walk(patterns: list, prefix: str = "") -> list[str]:
    routes: list[str] = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            routes += _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            routes.append(prefix + str(entry.pattern))
    return routes


def _concrete(route: str) -> str:
    return "/" + re.sub(r"<(?:(\w+):)?\w+>", lambda m: _SAMPLES[m.group(1) or "str"], route)


ROUTES = sorted(_concrete(route) for route in _walk(websocket_urlpatterns))


def test_the_enumeration_finds_the_log_routes() -> None:
    assert "/ws/daemon/1/log/MASTER_LOG/" in ROUTES
    assert "/ws/diagnostics/client-log/" in ROUTES


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTES)
async def test_every_websocket_route_closes_for_an_anonymous_visitor(route: str) -> None:
    from condorweb.asgi import application

    communicator = WebsocketCommunicator(
        application, route, headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    )
    accepted, _ = await communicator.connect()
    closed = await communicator.receive_output(timeout=5) if accepted else {"type": "websocket.close", "code": None}

    assert closed == {"type": "websocket.close", "code": CLOSE_LOGIN}
    await communicator.wait()


async def handshake(
    origin: bytes | None, host: bytes = b"127.0.0.1:8000", scheme: str = "ws", extra: list | None = None
) -> bool:
    from condorweb.asgi import application

    headers = [(b"host", host), *(extra or [])] + ([(b"origin", origin)] if origin is not None else [])
    communicator = WebsocketCommunicator(application, "/ws/diagnostics/client-log/", headers=headers)
    communicator.scope["scheme"] = scheme
    accepted, _ = await communicator.connect()
    await communicator.disconnect()
    return accepted


@pytest.mark.django_db
@pytest.mark.parametrize(
    "origin",
    [
        b"http://127.0.0.1:9999",
        b"https://127.0.0.1",
        b"ftp://127.0.0.1:8000",
        b"http://localhost:31337",
        b"https://127.0.0.1:8000",
        b"http://127.0.0.1",
        b"http://evil.example",
        b"null",
        b"http://127.0.0.1:8000.evil.example",
        None,
    ],
)
async def test_a_page_from_another_scheme_host_or_port_is_refused_at_the_handshake(origin: bytes | None) -> None:
    assert await handshake(origin) is False
    assert await handshake(b"http://127.0.0.1:8000") is True


@pytest.mark.django_db
async def test_a_secure_connection_accepts_only_its_https_origin() -> None:
    assert await handshake(b"https://127.0.0.1:8000", scheme="wss") is True
    assert await handshake(b"http://127.0.0.1:8000", scheme="wss") is False


@pytest.mark.django_db
async def test_behind_a_tls_proxy_the_forwarded_scheme_decides(settings) -> None:
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    forwarded = [(b"x-forwarded-proto", b"https")]

    assert await handshake(b"https://127.0.0.1:8000", extra=forwarded) is True
    assert await handshake(b"http://127.0.0.1:8000", extra=forwarded) is False


@pytest.mark.django_db
async def test_a_trusted_origin_is_accepted_with_its_scheme_and_port_only(settings) -> None:
    settings.CSRF_TRUSTED_ORIGINS = ["https://condorweb.example.org", "https://*.example.net"]

    assert await handshake(b"https://condorweb.example.org") is True
    assert await handshake(b"https://ops.example.net") is True
    assert await handshake(b"http://condorweb.example.org") is False
    assert await handshake(b"https://condorweb.example.org:444") is False
    assert await handshake(b"http://ops.example.net") is False


@pytest.mark.django_db
async def test_a_host_that_is_not_allowed_is_refused_even_with_a_matching_origin() -> None:
    # DNS rebinding: evil.example resolves to the console, and its page's origin matches its own Host.
    assert await handshake(b"http://evil.example:8000", host=b"evil.example:8000") is False
