"""What the console's log lines may say: one line per refusal, and no live share token.

Both live in the logging configuration (settings.LOGGING), the one place
every record passes: Django logs a refusal from wherever it happens (a view's
PermissionDenied, a Host header CommonMiddleware rejects, a body the CSRF
middleware reads too much of), after the middleware chain has already turned
the exception into a response, so no middleware or view could see them all.
"""

from __future__ import annotations

import logging
import re

from django.utils.functional import empty

# A share link's path: the lookup part (11 characters, not secret: it is shown
# in the admin) then the secret. See configview.models.LOOKUP_LENGTH; a test
# checks that this pattern matches what reverse("configview:share_open") makes.
_SHARE_PATH = re.compile(r"(/config/s/[A-Za-z0-9_-]{11})[A-Za-z0-9_-]+")
REDACTED = "[redacted]"


def redact_share_tokens(text: str) -> str:
    """``text`` with the secret part of every share link's path replaced."""
    return _SHARE_PATH.sub(r"\1" + REDACTED, text)


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then removes share secrets from the whole line, traceback included."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_share_tokens(super().format(record))


class OneLineRefusals(logging.Filter):
    """Turns Django's record of a refused request into one line: reason, user, method, path, status.

    Django logs an expected 403 at WARNING with the exception's traceback
    (about 35 lines each) and a DisallowedHost, RequestDataTooBig or
    TooManyFieldsSent at ERROR with one; none of them is a fault of the
    console, and the traceback says nothing the line does not.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        status = getattr(record, "status_code", None)
        refusal = record.name.startswith("django.security") or (
            record.name == "django.request" and isinstance(status, int) and 400 <= status < 500
        )
        if request is None or not refusal:
            return True
        raised = record.exc_info[1] if record.exc_info else None
        reason = str(raised) if raised is not None and str(raised) else record.getMessage().split(":", 1)[0]
        record.msg = "Refused %s %s %s (%s): %s"
        record.args = (_username(request), _escaped(request.method or "-"), _escaped(request.path), status, reason)
        record.exc_info = None
        record.exc_text = None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def _username(request: object) -> str:
    # Only a user the request has already loaded: reading one here would query
    # the database from inside a log call (and a DisallowedHost comes before
    # the authentication middleware has run at all).
    user = getattr(request, "user", None)
    user = getattr(user, "_wrapped", user)
    if user is None or user is empty:
        return "user=?"
    if not user.is_authenticated:
        return "user=anonymous"
    return f"user={_escaped(user.get_username())}"


def _escaped(text: str) -> str:
    # As django.utils.log.log_response does: a path cannot start a new log line.
    return text.encode("unicode_escape").decode("ascii")
