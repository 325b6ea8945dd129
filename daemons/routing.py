"""Websocket routes of the daemons app."""

websocket_urlpatterns: list = []
