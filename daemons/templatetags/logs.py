"""The live log viewer as an inclusion tag, for pages that show a daemon's log beside other things."""

from __future__ import annotations

from django import template
from django.urls import reverse

from daemons.logs import logstream
from daemons.models import Daemon

register = template.Library()


@register.inclusion_tag("daemons/_log_viewer.html")
def daemon_log_viewer(daemon: Daemon) -> dict[str, object]:
    """The daemon's own log, streamed; no HTCondor call here, so the page around it never waits on the daemon."""
    return {
        "viewer": logstream.daemon_log_view(daemon, logstream.default_key(daemon), with_tail=False),
        "log_page_url": reverse("daemons:daemon_log", args=[daemon.pk]),
        "compact": True,
    }
