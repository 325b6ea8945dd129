"""Markup for knob values and diff statuses.

Tags rather than included templates: a diff page may show 1,200 rows, and
an include per cell costs more than the rest of the page.
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from configview import diff
from configview.redaction import MARKER

register = template.Library()

_UNDEFINED = mark_safe('<em class="muted">undefined</em>')
_EMPTY = mark_safe('<em class="muted">(empty)</em>')

_STATUS = {
    diff.ADDED: ("+", "added"),
    diff.REMOVED: ("−", "removed"),
    diff.CHANGED: ("≠", "changed"),
    diff.SAME: ("=", "same"),
}


@register.simple_tag
def knob_value(cell: diff.Cell) -> SafeString:
    """A value, "undefined", or the mark of a hidden secret; its source under it."""
    if cell.hidden:
        shown = format_html(
            '<span class="hidden-value" title="Hidden: the knob name matches CONDORWEB_REDACT_PATTERNS">'
            '<span aria-hidden="true">🔒</span> {}</span>',
            MARKER,
        )
    elif cell.text is None:
        shown = _UNDEFINED
    elif cell.text == "":
        shown = _EMPTY
    else:
        shown = format_html('<span class="mono">{}</span>', cell.text)
    if cell.source:
        return format_html('{}<div class="muted mono">{}</div>', shown, cell.source)
    return shown


@register.simple_tag
def diff_status(status: str) -> SafeString:
    """The status as a word with a symbol, never by colour alone."""
    symbol, word = _STATUS[status]
    return format_html('<span class="nowrap"><span aria-hidden="true">{}</span> {}</span>', symbol, word)
