"""Whether a daemon lets the console set a knob at runtime, and if not, why: HTCondor's own rules, read from its source.

A runtime set or unset (DC_CONFIG_RUNTIME, ``handle_config`` in
src/condor_daemon_core.V6/daemon_core_main.cpp) is refused unless
``DaemonCore::CheckConfigAttrSecurity`` (daemon_core.cpp) finds, for some
authorization level other than ALLOW, a ``SETTABLE_ATTRS_<level>`` list
containing the knob *and* the client authorized at that level; then
``set_runtime_config`` (src/condor_utils/condor_config.cpp) refuses it again
unless ENABLE_RUNTIME_CONFIG was true when the daemon started (it is read
once per process). The lists are read at every reconfig
(``InitSettableAttrsLists``), so the values the daemon reports are the lists
it checks. Everything here is pure: ``condor.client.runtime_config_check``
gathers the facts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from condor.errors import Refused

# Every level of HTCondor's DCpermission but ALLOW, which CheckConfigAttrSecurity skips (condor_perms.h order).
SETTABLE_LEVELS = (
    "READ",
    "WRITE",
    "NEGOTIATOR",
    "ADMINISTRATOR",
    "CONFIG",
    "DAEMON",
    "SOAP",
    "DEFAULT",
    "CLIENT",
    "ADVERTISE_STARTD",
    "ADVERTISE_SCHEDD",
    "ADVERTISE_MASTER",
)
# The levels a ping can test (getSampleCommand has a DC_NOP_<level> for these only).
PINGABLE_LEVELS = frozenset(SETTABLE_LEVELS) - {"SOAP", "DEFAULT", "CLIENT"}

# StringTokenIterator's default delimiters, and isspace() as it trims; empty items are skipped.
_LIST_SPLIT = re.compile(r"[, \t\r\n\v\f]+")
# strcasecmp compares ASCII letters only.
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_VERSION_RE = re.compile(r"\$CondorVersion:\s*(\d{1,4})\.(\d{1,4})\.(\d{1,4})\b")
# HTCONDOR-3809 (commit f24386d0cd) anchored "*X" and "A*B" at the end; older daemons accept X anywhere after
# the start. First fixed releases, per series: (series, first fixed); from 25.13.2 on, every release.
_ANCHORED_SINCE = (((24, 0), (24, 0, 23)), ((24, 12), (24, 12, 23)), ((25, 0), (25, 0, 13)))
_ANCHORED_FROM = (25, 13, 2)

# What a message quotes of what the daemon sent: it is untrusted input.
_SHOWN_ITEMS = 8
_ITEM_CHARS = 64
_IDENTITY_CHARS = 128


def settable_list(value: str | None) -> list[str]:
    """A SETTABLE_ATTRS value as the daemon splits it (``split()``: commas and whitespace, empty items dropped)."""
    return [item for item in _LIST_SPLIT.split(value or "") if item]


def wildcards_anchored(version: str) -> bool:
    """Whether a daemon of this ``$CondorVersion: ...`` string anchors a wildcard pattern's end (see ``matches``).

    An unreadable version counts as not anchored: that rule accepts more, so
    the console never refuses what the daemon would take.
    """
    found = _VERSION_RE.match(version) if isinstance(version, str) else None
    if not found:
        return False
    release = tuple(int(part) for part in found.groups())
    if release >= _ANCHORED_FROM:
        return True
    return any(release[:2] == series and release >= since for series, since in _ANCHORED_SINCE)


def matches(pattern: str, knob: str, *, anchored: bool = True) -> bool:
    """``matches_anycase_withwildcard`` (src/condor_utils/stl_string_utils.cpp): ASCII case-insensitive, and:

    no ``*``: the whole name; ``X*``: starts with X; ``*X``: ends with X;
    ``A*B``: starts with A, the rest ends with B; a trailing ``*`` after
    those (``*X*``, ``A*B*``) lets X or B be anywhere in the rest. Only the
    first ``*`` and a last one are wildcards: others are literal. Daemons
    before HTCONDOR-3809 (``anchored=False``) take ``*X`` and ``A*B`` as if
    a ``*`` ended them.
    """
    pattern, knob = pattern.translate(_ASCII_LOWER), knob.translate(_ASCII_LOWER)
    first = pattern.find("*")
    if first < 0:
        return pattern == knob
    start, end = pattern[:first], pattern[first + 1 :]
    anywhere = not anchored or not end
    if end.endswith("*"):
        end, anywhere = end[:-1], True
    if not knob.startswith(start):
        return False
    rest = knob[len(start) :]
    return end in rest if anywhere else rest.endswith(end)


def runtime_enabled(value: str | None) -> bool | None:
    """ENABLE_RUNTIME_CONFIG as ``param_boolean`` reads a literal (default false); None for an expression."""
    text = (value or "").strip().translate(_ASCII_LOWER)
    if not text:
        return False
    for word, meaning in (("true", True), ("1", True), ("false", False), ("0", False)):
        if text.startswith(word) and not text[len(word) :].strip():
            return meaning
    return None


@dataclass(frozen=True)
class RuntimeConfigCheck:
    """What the daemon said about ``knob``: its lists, its switch, and the console's levels where the knob is listed.

    ``lists`` has the levels whose SETTABLE_ATTRS list is set; ``authorized``
    the levels (of those listing the knob) the console's ping passed, and
    ``unknown`` those it could not test.
    """

    knob: str
    enabled: bool | None
    lists: dict[str, list[str]]
    anchored: bool
    authorized: frozenset[str] = frozenset()
    unknown: frozenset[str] = frozenset()
    identity: str = ""
    listing: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        listing = tuple(
            level
            for level in SETTABLE_LEVELS
            if any(matches(pattern, self.knob, anchored=self.anchored) for pattern in self.lists.get(level, ()))
        )
        object.__setattr__(self, "listing", listing)

    @property
    def certain_refusal(self) -> Refused | None:
        """The refusal the daemon would certainly answer, so nothing need be sent; else None.

        ENABLE_RUNTIME_CONFIG alone never decides this: the daemon acts on
        the value it read as it started, which its configuration may no
        longer show.
        """
        if self.listing and (self.authorized or self.unknown):
            return None
        return _refused("Not sent, as the daemon would refuse it", self._causes())

    def refusal(self, what: str) -> Refused:
        """Why the daemon refused ``what`` (it did): every cause the check found, the most basic first."""
        if causes := self._causes():
            return _refused(f"The daemon refused {what}", causes)
        facts = [f"{self.knob} is in its SETTABLE_ATTRS_{self.listing[0]}"]
        if self.enabled:
            facts.insert(0, "ENABLE_RUNTIME_CONFIG is true")
        if self.authorized:
            facts.append(f"the console has {min(self.authorized)} there")
        listed = ", ".join(facts[:-1]) + " and " + facts[-1] if len(facts) > 1 else facts[0]
        return Refused(
            f"The daemon refused {what}, although {listed}.",
            hint="The daemon reads ENABLE_RUNTIME_CONFIG once, as it starts: restart it if that was turned on since. "
            "Its log names a knob it refuses ('trying to modify').",
        )

    def _causes(self) -> list[tuple[str, str]]:
        """(cause, hint) for each condition the check shows failing."""
        causes = []
        if self.enabled is False:
            causes.append(
                (
                    "runtime configuration is off (ENABLE_RUNTIME_CONFIG is false)",
                    "Set ENABLE_RUNTIME_CONFIG = True and restart the daemon: it is read once, as the daemon starts.",
                )
            )
        if not self.listing:
            causes.append(self._not_listed())
        elif not self.authorized and not self.unknown:
            causes.append(self._lacks_level())
        return causes

    def _not_listed(self) -> tuple[str, str]:
        named = [level for level in SETTABLE_LEVELS if level in self.lists] or ["CONFIG"]
        lists = " or ".join(f"SETTABLE_ATTRS_{level} ({_shown(self.lists.get(level, []))})" for level in named)
        return (
            f"{self.knob} is not in this daemon's {lists}",
            f"Add {self.knob} to SETTABLE_ATTRS_CONFIG in the daemon's configuration and reconfig the daemon.",
        )

    def _lacks_level(self) -> tuple[str, str]:
        who = f" ({self.identity[:_IDENTITY_CHARS]})" if self.identity else ""
        return (
            f"the console's identity{who} lacks {' or '.join(self.listing)} on this daemon, "
            f"the level{'s' if len(self.listing) > 1 else ''} where {self.knob} is settable",
            f"Add the console's identity to ALLOW_{self.listing[0]} on the daemon's host and reconfig the daemon.",
        )


def _refused(lead: str, causes: list[tuple[str, str]]) -> Refused:
    return Refused(f"{lead}: {'; '.join(c for c, _ in causes)}.", hint=" ".join(h for _, h in causes))


def _shown(items: list[str]) -> str:
    if not items:
        return "not set"
    shown = [item[:_ITEM_CHARS] + ("…" if len(item) > _ITEM_CHARS else "") for item in items[:_SHOWN_ITEMS]]
    return ", ".join(shown) + (", …" if len(items) > _SHOWN_ITEMS else "")
