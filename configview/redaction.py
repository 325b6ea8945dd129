"""Knob values the console never stores or shows: passwords, keys, tokens.

A hidden value is replaced by a marker, and a keyed hash (HMAC with the
console's SECRET_KEY, so nobody can test guesses against a stored hash)
of its canonical form is kept beside it: diffs can then still say whether
two hidden values are equal. Knob names match CONDORWEB_REDACT_PATTERNS
(shell patterns, any case).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Collection, Mapping

from django.conf import settings
from django.utils.crypto import salted_hmac

from configview.diff import Side, Value, canonical

MARKER = "‹hidden›"
_SALT = "condorweb.configview.redaction"


def is_secret(name: str) -> bool:
    upper = name.upper()
    return any(fnmatch.fnmatchcase(upper, pattern.upper()) for pattern in settings.CONDORWEB_REDACT_PATTERNS)


def _digest(name: str, value: Value, declared: str) -> str:
    # The name is part of the message so equal secrets of different knobs do not look alike.
    return salted_hmac(_SALT, f"{name.upper()}\0{canonical(value, declared)}").hexdigest()


def redact(
    values: Mapping[str, Value | None], types: Mapping[str, str], *, also: Collection[str] = ()
) -> tuple[dict[str, Value | None], dict[str, str]]:
    """``values`` with secrets (and the knobs in ``also``) replaced by the marker, and their hashes."""
    clear: dict[str, Value | None] = {}
    hashes: dict[str, str] = {}
    for name, value in values.items():
        if value is not None and (name in also or is_secret(name)):
            clear[name] = MARKER
            hashes[name] = _digest(name, value, types.get(name, ""))
        else:
            clear[name] = value
    return clear, hashes


def hide(side: Side, *, also: Collection[str] = ()) -> Side:
    """The side with every value that is secret now (or named in ``also``) hidden.

    A snapshot was redacted with the patterns of its day; this applies today's too.
    """
    visible = {name: value for name, value in side.values.items() if name not in side.hashes}
    values, hashes = redact(visible, side.types, also=also)
    return Side(
        values={**side.values, **values},
        types=side.types,
        sources=side.sources,
        hashes={**side.hashes, **hashes},
    )


def align(left: Side, right: Side) -> tuple[Side, Side]:
    """Both sides hiding the same knobs, so a value hidden on one side is never shown on the other."""
    hidden = set(left.hashes) | set(right.hashes)
    return hide(left, also=hidden), hide(right, also=hidden)


def redact_text(name: str, value: str) -> str:
    """A value as the audit trail may record it."""
    return MARKER if value and is_secret(name) else value
