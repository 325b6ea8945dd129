"""Websocket routes, collected from each app's own routing.py."""

from daemons.logs.routing import websocket_urlpatterns as daemon_routes

websocket_urlpatterns = [*daemon_routes]
