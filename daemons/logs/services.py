"""Writes of the live-log pages: the console's own HTCondor client log."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

import condor.workers

logger = logging.getLogger(__name__)


def client_logging_set(*, user: AbstractBaseUser, debug: str) -> None:
    """Switch this process's HTCondor client log (TOOL_DEBUG into CONDORWEB_TOOL_LOG) on, or off with ``""``."""
    condor.workers.set_client_logging(debug=debug, log_path=settings.CONDORWEB_TOOL_LOG if debug else "")
    logger.info("%s set the HTCondor client log level to %r", user.get_username(), debug or "off")
