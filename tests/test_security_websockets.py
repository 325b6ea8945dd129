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

    communicator = WebsocketCommunicator(application, route, headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")])
    accepted, _ = await communicator.connect()
    closed = await communicator.receive_output(timeout=5) if accepted else {"type": "websocket.close", "code": None}

    assert closed == {"type": "websocket.close", "code": CLOSE_LOGIN}
    await communicator.wait()
