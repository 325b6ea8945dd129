"""How inventory values read on every page: a state as an icon and a word (never colour alone), a version in short."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django import template
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince

register = template.Library()

# state -> (icon, word, description for the tooltip and screen readers' title)
_STATES = {
    "up": ("✔", "Up", "Up: running and advertised"),
    "down": ("✖", "Down", "Down: its master reports it stopped"),
    "missing": ("?", "Missing", "Missing from the collector"),
    # A startd's drain, in the pool's timeline and on its page.
    "not-draining": ("▶", "Not draining", "Not draining: it takes jobs"),
    "draining": ("⏬", "Draining", "Draining: no new jobs start; running ones finish or are evicted"),
    "drained": ("■", "Drained", "Drained: no jobs run until the drain is cancelled"),
    "resumed": ("▶", "Resumed", "Resumed: the drain is over and it takes jobs again"),
}
_UNKNOWN = ("–", "Unknown", "Unknown state")
_VERSION_RE = re.compile(r"\$CondorVersion:\s*(\S+)")


def _parts(state: str) -> tuple[str, str, str]:
    return _STATES.get(state, _UNKNOWN)


@register.simple_tag
def state_badge(state: str) -> SafeString:
    icon, word, description = _parts(state)
    css = state if state in _STATES else "unknown"
    return format_html(
        '<span class="state state-{}" title="{}"><span aria-hidden="true">{}</span> {}</span>',
        css,
        description,
        icon,
        word,
    )


@register.simple_tag
def state_icon(state: str) -> SafeString:
    icon, word, _ = _parts(state)
    return format_html('<span aria-hidden="true">{}</span><span class="visually-hidden">{}</span>', icon, word)


@register.simple_tag
def outcome_badge(outcome: str, label: str) -> SafeString:
    """A command's outcome: sent, still pending, or failed, each with its own icon beside the word."""
    icon, css = {"sent": ("✔", "up"), "pending": ("…", "unknown")}.get(outcome, ("✖", "down"))
    return format_html('<span class="state state-{}"><span aria-hidden="true">{}</span> {}</span>', css, icon, label)


# Machine board column -> (icon, word): never colour alone, as for daemon states.
_SLOT_COLUMNS = {
    "unclaimed": ("○", "Unclaimed"),
    "claimed": ("●", "Claimed"),
    "draining": ("⏬", "Draining"),
    "drained": ("■", "Drained"),
    "owner": ("⌂", "Owner"),
    "other": ("–", "Other"),
}


@register.simple_tag
def slot_badge(column: str) -> SafeString:
    icon, word = _SLOT_COLUMNS.get(column, _SLOT_COLUMNS["other"])
    return format_html(
        '<span class="slot slot-{}"><span aria-hidden="true">{}</span> {}</span>',
        column if column in _SLOT_COLUMNS else "other",
        icon,
        word,
    )


@register.filter
def filesizeformat_kb(kib: int) -> str:
    """A size HTCondor gives in KiB (Disk), in words."""
    return filesizeformat((kib or 0) * 1024)


@register.filter
def short_version(version: str) -> str:
    """``$CondorVersion: 23.9.6 2024-08-08 BuildID: … $`` reads as ``23.9.6``."""
    match = _VERSION_RE.search(version or "")
    return match.group(1) if match else version


@register.filter
def ago(moment: datetime | None) -> str:
    """How long ago, in words: "just now" under a minute rather than "0 minutes ago"."""
    if moment is None:
        return "never"
    if timezone.now() - moment < timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment)} ago"
