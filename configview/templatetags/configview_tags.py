"""Markup for knob values and diff rows.

Built here rather than with an include per cell: a diff page may show 1,200
rows, and template machinery per cell costs more than the rest of the page.
Every piece of text goes through ``html.escape``.
"""

from __future__ import annotations

from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

from configview import diff
from configview.redaction import MARKER

register = template.Library()

_STATUS = {
    diff.ADDED: ("+", "added"),
    diff.REMOVED: ("−", "removed"),
    diff.CHANGED: ("≠", "changed"),
    diff.SAME: ("=", "same"),
}
_HIDDEN = (
    '<span class="hidden-value" title="Hidden: this value can carry a secret (README, Secrets)">'
    f'<span aria-hidden="true">🔒</span> {escape(MARKER)}</span>'
)
_UNDEFINED = '<em class="muted">undefined</em>'
_EMPTY = '<em class="muted">(empty)</em>'


def _value(cell: diff.Cell) -> str:
    if cell.hidden:
        shown = _HIDDEN
    elif cell.text is None:
        shown = _UNDEFINED
    elif cell.text == "":
        shown = _EMPTY
    else:
        shown = f'<span class="mono">{escape(cell.text)}</span>'
    return f'{shown}<div class="muted mono">{escape(cell.source)}</div>' if cell.source else shown


def _status(status: str) -> str:
    symbol, word = _STATUS[status]
    return f'<span class="nowrap"><span aria-hidden="true">{symbol}</span> {word}</span>'


@register.simple_tag
def knob_value(cell: diff.Cell) -> SafeString:
    """A value, "undefined", or the mark of a hidden secret; its source under it."""
    return mark_safe(_value(cell))


@register.simple_tag
def diff_status(status: str) -> SafeString:
    """The status as a word with a symbol, never by colour alone."""
    return mark_safe(_status(status))


# Types come from the parameter table compiled into the console's HTCondor client: a knob it does not
# define (a daemon of another version, a site's own knob) has none, which is said rather than left blank.
UNKNOWN_TYPE = (
    '<span class="muted" title="not in the console\'s HTCondor client\'s parameter table">unknown to this client</span>'
)


@register.simple_tag
def knob_type(declared: str) -> SafeString:
    """A knob's declared type, or a word saying this client does not know the knob."""
    return mark_safe(escape(declared) if declared else UNKNOWN_TYPE)


@register.simple_tag
def diff_rows(rows: list[diff.Row]) -> SafeString:
    """The table rows of a diff, coloured by status and labelled by word."""
    return mark_safe(
        "".join(
            f'<tr class="{row.status}"><td class="mono nowrap">{escape(row.name)}</td><td>{knob_type(row.type)}</td>'
            f"<td>{_status(row.status)}</td><td>{_value(row.left)}</td><td>{_value(row.right)}</td></tr>"
            for row in rows
        )
    )
