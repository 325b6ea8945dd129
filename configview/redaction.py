"""Knob values the console never stores or shows: those that can carry a secret.

The rule comes from HTCondor's own knobs (``src/condor_utils/param_info.in``,
which declares each knob's type, and the manual's security and configuration
chapters). HTCondor keeps its secrets in files and its knobs hold their paths
or names: the pool password is in ``SEC_PASSWORD_FILE``, signing keys in
``SEC_PASSWORD_DIRECTORY``, tokens in ``SEC_TOKEN_DIRECTORY``, OAuth client
secrets in ``<service>_CLIENT_SECRET_FILE``, AWS keys in
``ANNEX_DEFAULT_SECRET_KEY_FILE``; not one of the dev pool's ~1,130 knobs
holds a secret itself. What can: a site's own knob (``DB_PASSWORD = ...``,
used as ``$(DB_PASSWORD)``), and a credential written into a value
(``https://user:password@host/``, ``AWS_SECRET_ACCESS_KEY=...`` in
``STARTER_JOB_ENVIRONMENT``, ``--password=...`` in ``*_ARGS``). A defined
value is therefore hidden when

- the last word of its name names a secret (``SECRET_WORDS``: HTCondor's
  names end with what the value is, ``SEC_PASSWORD_FILE`` a file,
  ``SEC_TOKEN_DIRECTORY`` a directory, ``BOX_TOKEN_URL`` a URL), unless the
  console's parameter table declares it a boolean or a number, or HTCondor
  documents it as holding a name, a path or a program (``NOT_SECRETS``);
- or it carries a credential: a URL with a password, or an assignment to
  such a name;
- or its name matches ``CONDORWEB_REDACT_PATTERNS``, the site's own list
  (shell patterns, any case), whatever its type.

Only the name and the console's own declared types can make a value shown:
a daemon's values are untrusted, and what they contain can only hide more.

A hidden value is replaced by a marker, and a keyed hash (HMAC with the
console's SECRET_KEY, so nobody can test guesses against a stored hash)
of its canonical form is kept beside it: diffs can then still say whether
two hidden values are equal.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Callable, Collection, Mapping

from django.conf import settings
from django.utils.crypto import salted_hmac

from configview.diff import Side, Value, canonical, display

MARKER = "‹hidden›"
_SALT = "condorweb.configview.redaction"

SECRET_WORDS = frozenset(
    {
        *("PASSWORD", "PASSWORDS", "PASSWD", "PASSPHRASE"),
        *("SECRET", "SECRETS", "TOKEN", "TOKENS", "KEY", "KEYS"),
        *("CREDENTIAL", "CREDENTIALS"),
    }
)
_SECRET_ENDINGS = tuple(SECRET_WORDS)
# HTCondor's knobs whose names end in a secret word while the manual says they hold no secret.
NOT_SECRETS = frozenset(
    {
        # "The default signing key name" / "a list of signing key names" (POOL, AP).
        "SEC_TOKEN_ISSUER_KEY",
        "SEC_TOKEN_FETCH_ALLOWED_SIGNING_KEYS",
        # "The full path to the private (public) key file used by the local credmon".
        "LOCAL_CREDMON_PRIVATE_KEY",
        "LOCAL_CREDMON_PUBLIC_KEY",
        # The program that adds an eCryptfs passphrase (23.x: ecryptfs-add-passphrase).
        "ECRYPTFS_ADD_PASSPHRASE",
    }
)
# Types that hold no secret; the parameter table's types as condor.client.local_config names them.
_NOT_TEXT = frozenset({"bool", "int", "float"})
# HTCondor's prefixes (SCHEDD.KNOB, LOCALNAME.SCHEDD.KNOB) and words are separated by these.
_WORD_SEPARATORS = re.compile(r"[_.\-]")
# "://user:password@": no scheme before it, so an attempt starts only at "://" and the scan stays linear.
_URL_CREDENTIALS = re.compile(r"://[^\s/?#@:]*:[^\s/?#@]*@")
# NAME=..., --name=..., name = ...; not a ClassAd comparison (==, =?=, =!=). The look-behind starts a
# match only at the start of a word, so a long value costs one pass.
_ASSIGNED_NAME = re.compile(r"(?<![\w.\-])[\w.\-]+(?=\s*=(?![=?!]))")


def _names_a_secret(name: str) -> bool:
    """Whether the last word of ``name`` (or of the variable a value assigns) names a secret."""
    upper = name.upper()
    # endswith first: a diff asks this of every knob of both sides, and few names end so.
    return upper.endswith(_SECRET_ENDINGS) and _WORD_SEPARATORS.split(upper)[-1] in SECRET_WORDS


def is_secret(name: str, value: Value | None, declared: str = "") -> bool:
    """Whether the value of knob ``name``, of the declared type ``declared`` ("" if unknown), is hidden."""
    return _secret(_site_patterns(tuple(settings.CONDORWEB_REDACT_PATTERNS)), name, value, declared)


def _secret(site: Callable[[str], object], name: str, value: Value | None, declared: str) -> bool:
    if value is None:
        return False
    if site(name.upper()):
        return True
    return _secret_by_name(name, declared) or _carries_credential(display(value))


def _secret_by_name(name: str, declared: str) -> bool:
    knob = name.upper().rsplit(".", 1)[-1]
    return declared not in _NOT_TEXT and knob not in NOT_SECRETS and _names_a_secret(knob)


def _carries_credential(text: str) -> bool:
    """A URL with a password, or an assignment to a secret's name (an environment, a command line)."""
    # The "@" and "=" tests skip the expressions for the many values that have neither.
    if "@" in text and _URL_CREDENTIALS.search(text):
        return True
    return "=" in text and any(_names_a_secret(assigned) for assigned in _ASSIGNED_NAME.findall(text))


@functools.lru_cache(maxsize=8)
def _site_patterns(patterns: tuple[str, ...]) -> Callable[[str], re.Match[str] | None]:
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
    site = _site_patterns(tuple(settings.CONDORWEB_REDACT_PATTERNS))
    clear: dict[str, Value | None] = {}
    hashes: dict[str, str] = {}
    for name, value in values.items():
        declared = types.get(name, "")
        if _secret(site, name, value, declared):
            clear[name] = MARKER
            hashes[name] = _digest(name, value, declared)
        else:
            clear[name] = value
    return clear, hashes


def hide(side: Side) -> Side:
    """The side with every value that is secret by today's rule and patterns hidden.

    A snapshot was redacted by the rule and patterns of its day; this applies today's too.
    """
    site = _site_patterns(tuple(settings.CONDORWEB_REDACT_PATTERNS))
    return _hidden(
        side, [name for name in _visible(side) if _secret(site, name, side.values[name], side.types.get(name, ""))]
    )


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
    """A value as the audit trail may record it.

    A runtime value comes with no declared type, so a boolean whose name ends in a secret word is hidden too.
    """
    return MARKER if value and is_secret(name, value) else value
