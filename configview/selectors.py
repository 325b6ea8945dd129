"""Reads for configview."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet

import condor.client
import condor.types
from configview import diff, redaction
from configview.models import ConfigSnapshot, Share
from daemons.models import Daemon

_Status = ConfigSnapshot.Status


class NotComparable(Exception):
    """A comparison that cannot be shown, with the reason for the operator."""


@dataclass(frozen=True)
class SideChoice:
    """One side of a comparison: a stored snapshot, or the console host's configuration now."""

    snapshot: ConfigSnapshot | None
    subsystem: str = "TOOL"

    @property
    def label(self) -> str:
        if self.snapshot is None:
            return f"console host now (as {self.subsystem})"
        return str(self.snapshot)

    @property
    def spec(self) -> str:
        """How the diff page's URL names this side."""
        return "local" if self.snapshot is None else str(self.snapshot.pk)


@dataclass(frozen=True)
class Comparison:
    left: SideChoice
    right: SideChoice
    diff: diff.Diff
    # Local against a daemon: each side's $CondorVersion, and the knobs only one side's version defines
    # (the daemon's from its defaults, the console's from its client's parameter table).
    versions: tuple[str, str] = ("", "")
    version_only: frozenset[str] = frozenset()


@dataclass(frozen=True)
class KnobRow:
    name: str
    type: str
    cell: diff.Cell
    # Where a value seen as a subsystem comes from, when a SUBSYSTEM.NAME entry gives it.
    note: str = ""


# --------------------------------------------------------------------------
# Configurations as the diff sees them.
# --------------------------------------------------------------------------


def snapshot_side(snapshot: ConfigSnapshot) -> diff.Side:
    if not snapshot.is_complete:
        raise NotComparable(f"Snapshot #{snapshot.pk} is not complete ({snapshot.get_status_display().lower()}).")
    return redaction.hide(
        diff.Side(values=snapshot.values, types=snapshot.types, sources=snapshot.sources, hashes=snapshot.hashes)
    )


def local_side(subsystem: str = "TOOL") -> diff.Side:
    """The console host's configuration now, secrets hidden. Raises ProtocolError."""
    return _hidden_side(condor.client.local_config(subsystem))


def _hidden_side(knobs: list[condor.types.LocalKnob]) -> diff.Side:
    types = {k.name: k.type for k in knobs}
    values, hashes = redaction.redact({k.name: k.value for k in knobs}, types)
    return diff.Side(values=values, types=types, hashes=hashes)


def side_of(choice: SideChoice) -> diff.Side:
    return local_side(choice.subsystem) if choice.snapshot is None else snapshot_side(choice.snapshot)


def comparison(left: SideChoice, right: SideChoice) -> Comparison:
    """Raises NotComparable, or ProtocolError when the console host's configuration cannot be read."""
    left_side, right_side = redaction.align(side_of(left), side_of(right))
    compared = diff.compare(left_side, right_side)
    if (left.snapshot is None) == (right.snapshot is None):
        return Comparison(left=left, right=right, diff=compared)
    client = condor.client.client_defaults()
    known = {name.upper() for name in client.names}
    daemon = right if left.snapshot is None else left
    local_only, daemon_only = (diff.REMOVED, diff.ADDED) if daemon is right else (diff.ADDED, diff.REMOVED)
    version_only = frozenset(
        # One-sided rows, as the diff aligned the two (knob names in any case). A daemon lists every knob its
        # version defines: one it lacks that this client defines by itself is the versions' difference, as is
        # one it has from its own defaults that the client does not know.
        row.name
        for row in compared.rows
        if (row.status == local_only and row.name.upper() in known)
        or (row.status == daemon_only and (row.right if daemon is right else row.left).source in VERSION_SOURCES)
    )
    daemon_version = daemon.snapshot.daemon.version if daemon.snapshot and daemon.snapshot.daemon else ""
    versions = (client.version, daemon_version) if daemon is right else (daemon_version, client.version)
    return Comparison(left=left, right=right, diff=compared, versions=versions, version_only=version_only)


# Where condor_config_val -dump -verbose says a value comes from when no configuration file set it.
VERSION_SOURCES = frozenset({"<Default>", "<Detected>"})


# Knobs a page of the console host's every knob shows: its ~1,000 in one page made 35,000 pixels.
LOCAL_PAGE_SIZE = 200


@dataclass(frozen=True)
class LocalKnobs:
    """The console host's configuration as its page shows it: the knobs its files set, or a page of all."""

    rows: list[KnobRow]
    page: Page | None
    # Knobs whose value is not the client's own default (or that it does not define): its files set them.
    set_here: int
    total: int


def local_knobs(subsystem: str, *, query: str = "", summary: bool = True, page: str | int | None = None) -> LocalKnobs:
    """Raises ProtocolError when the console host's configuration cannot be read."""
    knobs = condor.client.local_config(subsystem)
    side = _hidden_side(knobs)
    notes = _prefix_notes(knobs, side)
    rows = [
        dataclasses.replace(row, note=notes[row.name]) if row.name in notes else row for row in knob_rows(side, query)
    ]
    defaults = condor.client.client_defaults()
    # Compared before hiding (nothing of it is shown): a secret the files set counts as set here.
    types = {k.name: k.type for k in knobs}
    changed = {k.name for k in knobs if _set_here(k.name, k.value, types.get(k.name, ""), defaults)}
    set_here = [row for row in rows if row.name in changed]
    if summary:
        return LocalKnobs(rows=set_here, page=None, set_here=len(set_here), total=len(rows))
    current = Paginator(rows, LOCAL_PAGE_SIZE).get_page(page)
    return LocalKnobs(rows=list(current.object_list), page=current, set_here=len(set_here), total=len(rows))


def _prefix_notes(knobs: list[condor.types.LocalKnob], side: diff.Side) -> dict[str, str]:
    """ "from SCHEDD.TEST_FOO, over TEST_FOO = foo" for each value a subsystem-prefixed entry gives."""
    notes = {}
    for knob in knobs:
        if not knob.prefixed:
            continue
        if knob.overrides is None:
            below = f"; {knob.name} alone is not set"
        # The bare entry's value is judged on its own: a credential in it is not in the prefixed one.
        elif knob.name in side.hashes or redaction.is_secret(knob.name, knob.overrides, knob.type):
            below = f", over {knob.name} (hidden)"
        else:
            below = f", over {knob.name} = {knob.overrides}"
        notes[knob.name] = f"from {knob.prefixed}{below}"
    return notes


def _set_here(name: str, value: diff.Value, declared: str, defaults: condor.types.ClientDefaults) -> bool:
    if name in defaults.without_default:
        return False
    if name not in defaults.values:
        return True
    return diff.canonical(value, declared) != diff.canonical(defaults.values[name], declared)


def knob_rows(side: diff.Side, query: str = "") -> list[KnobRow]:
    matches = diff.name_matcher(query)
    return [
        KnobRow(name=name, type=side.types.get(name, ""), cell=diff.cell(side, name))
        for name in sorted(side.values, key=str.upper)
        if matches(name)
    ]


# --------------------------------------------------------------------------
# Finding snapshots.
# --------------------------------------------------------------------------


def _listed() -> QuerySet[ConfigSnapshot]:
    return ConfigSnapshot.objects.defer(*ConfigSnapshot.PAYLOAD)


def snapshots_of(daemon: Daemon, *, limit: int = 100) -> list[ConfigSnapshot]:
    return list(_listed().filter(daemon=daemon)[:limit])


def recent_snapshots(*, limit: int = 200) -> list[ConfigSnapshot]:
    """Complete snapshots to choose from, newest first."""
    return list(_listed().filter(status=_Status.COMPLETE)[:limit])


@dataclass(frozen=True)
class SnapshotChoices:
    """Recent complete snapshots grouped by whose they are, for choosers."""

    groups: list[tuple[str, list[ConfigSnapshot]]]
    latest: ConfigSnapshot | None


def snapshot_choices(*, limit: int = 200) -> SnapshotChoices:
    recent = recent_snapshots(limit=limit)
    groups: dict[str, list[ConfigSnapshot]] = {}
    for snapshot in recent:
        groups.setdefault(snapshot.label, []).append(snapshot)
    return SnapshotChoices(groups=sorted(groups.items()), latest=recent[0] if recent else None)


def latest_snapshot(daemon: Daemon) -> ConfigSnapshot | None:
    return _listed().filter(daemon=daemon, status=_Status.COMPLETE).first()


def previous_snapshot(snapshot: ConfigSnapshot) -> ConfigSnapshot | None:
    """The complete snapshot of the same daemon (or local subsystem) taken just before this one."""
    if snapshot.source == ConfigSnapshot.Source.LOCAL:
        same = Q(source=ConfigSnapshot.Source.LOCAL, subsystem=snapshot.subsystem)
    elif snapshot.daemon_id is not None:
        same = Q(daemon_id=snapshot.daemon_id)
    else:
        return None
    earlier = Q(created_at__lt=snapshot.created_at) | Q(created_at=snapshot.created_at, id__lt=snapshot.pk)
    return _listed().filter(same, earlier, status=_Status.COMPLETE).first()


def snapshot_as_of(daemon: Daemon, when: datetime) -> ConfigSnapshot | None:
    """The daemon's configuration as the console last saw it at ``when``."""
    return _listed().filter(daemon=daemon, status=_Status.COMPLETE, created_at__lte=when).first()


def daemons_matching(query: str, *, limit: int = 50) -> list[Daemon]:
    query = query.strip()
    if not query:
        return []
    found = Daemon.objects.select_related("pool").filter(
        Q(name__icontains=query) | Q(machine__icontains=query) | Q(pool__name__icontains=query)
    )
    return list(found.order_by("pool__name", "machine", "kind", "name")[:limit])


def shares_of(user: AbstractBaseUser) -> QuerySet[Share]:
    return (
        Share.objects.filter(created_by=user)
        .select_related("left", "right")
        .defer(*(f"{side}__{field}" for side in ("left", "right") for field in ConfigSnapshot.PAYLOAD))
    )
