"""Websocket routes of the daemons app."""

from django.urls import path

from daemons.logs import consumers

# The log key is checked by the consumer (``[A-Z0-9_]+_LOG``), so a bad one closes with 4404 instead of no route.
websocket_urlpatterns: list = [
    path("ws/daemon/<int:daemon_id>/log/<str:key>/", consumers.DaemonLogConsumer.as_asgi()),
    path("ws/diagnostics/client-log/", consumers.ClientLogConsumer.as_asgi()),
]
