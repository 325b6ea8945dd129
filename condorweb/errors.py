"""Error pages: a database that is down or locked is a 503 saying so, not a server error."""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views import defaults

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500, called inside the ``except`` of whatever failed (asgiref keeps it so in threads).

    The session or user read in a middleware fails as surely as a view's query
    when PostgreSQL is down, so only a handler for every uncaught error sees
    them all. The request's transaction has rolled back by now.
    """
    raised = sys.exc_info()[1]
    if not isinstance(raised, (OperationalError, InterfaceError)):
        return defaults.server_error(request)
    logger.error("Database unavailable during %s %s: %s", request.method, request.path, raised)
    busy = "locked" in str(raised).lower()
    reason = "The database is busy with another change." if busy else "The database server cannot be reached."
    # Rendered without the request: its context processors would ask the
    # database for the user.
    response = HttpResponse(render_to_string("503.html", {"reason": reason}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
