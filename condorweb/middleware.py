"""Project-wide middleware."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import OperationalError, connection
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30


class DatabaseUnavailableMiddleware:
    """A database that is down or locked gets a 503 page, not a server error.

    The connection is checked before anything else touches the database (the
    session, the user), so a request never gets half way; an error raised by
    a view itself (SQLite busy, a connection lost mid-request) is caught too,
    after the view's transaction has rolled back.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            connection.ensure_connection()
        except OperationalError as exc:
            return unavailable(request, exc)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError):
            return unavailable(request, exception)
        return None


def unavailable(request: HttpRequest, exc: OperationalError) -> HttpResponse:
    logger.error("Database unavailable during %s %s: %s", request.method, request.path, exc)
    busy = "locked" in str(exc).lower()
    reason = (
        "The database is busy with another change."
        if busy
        else "The database server cannot be reached."
    )
    # Rendered without the request: its context processors would ask the
    # database for the user.
    response = HttpResponse(render_to_string("503.html", {"reason": reason}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
