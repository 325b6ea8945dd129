"""The errors of the condor package: each says what happened and what an operator can do about it.

Every error has an ``outcome`` (the audit trail's word for it), a ``message``
and a ``hint``; ``str(error)`` is both, for the operator. They cross the
worker processes' pipe by class name (``__reduce__``), so a subclass defined
anywhere else would arrive as a plain ProtocolError.
"""

from __future__ import annotations

from typing import Any


class ProtocolError(Exception):
    """Base of every error this package raises."""

    outcome = "error"

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_error, (type(self).__name__, self.message, self.hint))

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class InvalidInput(ProtocolError):
    """Rejected before anything was sent."""

    outcome = "invalid"


class DaemonUnreachable(ProtocolError):
    outcome = "unreachable"


class NotAuthorized(ProtocolError):
    outcome = "unauthorized"


class Refused(ProtocolError):
    """The daemon understood and said no (e.g. runtime config is disabled)."""

    outcome = "refused"


class RuntimeConfigRefused(Refused):
    """The daemon refused a runtime set or unset; it sends no reason (``condor.settable`` finds it)."""


class ProtocolTimeout(ProtocolError):
    outcome = "timeout"


class PoolBusy(ProtocolError):
    """Nothing was sent: the pool's worker processes stayed busy for the whole queue wait."""

    outcome = "error"


class ToolsUnavailable(ProtocolError):
    """Something needs HTCondor's command-line tools and they are not there."""

    outcome = "error"


class OutputTooLarge(ProtocolError):
    """A tool printed more than the console reads of it (``tools.TOOL_OUTPUT_LIMIT``)."""

    outcome = "error"


def _rebuild_error(name: str, message: str, hint: str) -> ProtocolError:
    cls = {c.__name__: c for c in _ERROR_CLASSES}[name]
    return cls(message, hint=hint)


_ERROR_CLASSES = (
    ProtocolError,
    InvalidInput,
    DaemonUnreachable,
    NotAuthorized,
    Refused,
    RuntimeConfigRefused,
    ProtocolTimeout,
    PoolBusy,
    ToolsUnavailable,
    OutputTooLarge,
)

RUNTIME_CONFIG_HINT = (
    "The daemon refuses runtime configuration unless ENABLE_RUNTIME_CONFIG = True, "
    "the console's identity is in ALLOW_CONFIG, and the knob is listed in SETTABLE_ATTRS_CONFIG "
    "(then restart the daemon: ENABLE_RUNTIME_CONFIG is read once per process)."
)
ADMINISTRATOR_HINT = (
    "Add the console's identity to ALLOW_ADMINISTRATOR on the daemon's host and give the console "
    "a valid IDTOKEN for that pool."
)
READ_HINT = "Add the console's identity to ALLOW_READ and give the console a valid IDTOKEN for that pool."
