"""Knob values the console never stores or shows: passwords, keys, tokens.

A hidden value is replaced by a marker, and a keyed hash (HMAC with the
console's SECRET_KEY, so nobody can test guesses against a stored hash)
of its canonical form is kept beside it: diffs can then still say whether
two hidden values are equal. Knob names match CONDORWEB_REDACT_PATTERNS
(shell patterns, any case).
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Callable, Collection, Mapping

from django.conf import settings
from django.utils.crypto import salted_hmac

from configview.diff import Side, Value, canonical

MARKER = "‹hidden›"
_SALT = "condorweb.configview.redaction"


def is_secret(name: str) -> bool:
    return _secret_names(tuple(settings.CONDORWEB_REDACT_PATTERNS))(name.upper()) is not None


@functools.lru_cache(maxsize=8)
def _secret_names(patterns: tuple[str, ...]) -> Callable[[str], re.Match[str] | None]:
    # One expression for all patterns: a diff checks every knob of both sides.
    if not patterns:
        return lambda name: None
    return re.compile("|".join(fnmatch.translate(p.upper()) for p in patterns)).match


def _digest(name: str, value: Value, declared: str) -> str:
    # The name is part of the message so equal secrets of different knobs do not look alike.
    return salted_hmac(_SALT, f"{name.upper()}\0{canonical(value, declared)}").hexdigest()


def redact(
    values: Mapping[str, Value | None], types: Mapping[str, str]
) -> tuple[dict[str, Value | None], dict[str, str]]:
    """``values`` with secrets replaced by the marker, and their hashes."""
    secret = _secret_names(tuple(settings.CONDORWEB_REDACT_PATTERNS))
    clear: dict[str, Value | None] = {}
    hashes: dict[str, str] = {}
    for name, value in values.items():
        if value is not None and secret(name.upper()):
            clear[name] = MARKER
            hashes[name] = _digest(name, value, types.get(name, ""))
        else:
            clear[name] = value
    return clear, hashes


def hide(side: Side) -> Side:
    """The side with every value that is secret by today's patterns hidden.

    A snapshot was redacted with the patterns of its day; this applies today's too.
    """
    secret = _secret_names(tuple(settings.CONDORWEB_REDACT_PATTERNS))
    return _hidden(side, [name for name in _visible(side) if secret(name.upper())])


def align(left: Side, right: Side) -> tuple[Side, Side]:
    """Both sides (each already through ``hide``) hiding the same knobs, whatever the case of their names."""
    hidden = {name.upper() for name in (*left.hashes, *right.hashes)}
    return (
        _hidden(left, [name for name in _visible(left) if name.upper() in hidden]),
        _hidden(right, [name for name in _visible(right) if name.upper() in hidden]),
    )


def _visible(side: Side) -> list[str]:
    return [name for name, value in side.values.items() if value is not None and name not in side.hashes]


def _hidden(side: Side, names: Collection[str]) -> Side:
    if not names:
        return side
    return Side(
        values={**side.values, **dict.fromkeys(names, MARKER)},
        types=side.types,
        sources=side.sources,
        hashes={**side.hashes, **{name: _digest(name, side.values[name], side.types.get(name, "")) for name in names}},
    )


def redact_text(name: str, value: str) -> str:
    """A value as the audit trail may record it."""
    return MARKER if value and is_secret(name) else value
