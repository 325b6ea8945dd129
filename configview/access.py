"""Object access for configview: views never look snapshots or shares up by themselves."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from django.http import Http404

from condor.validation import KNOWN_SUBSYSTEMS
from configview import selectors
from configview.models import LOOKUP_LENGTH, ConfigSnapshot, Share, share_secret_digest
from configview.selectors import NotComparable, SideChoice
from daemons.access import User, daemon_for, require

VIEW_SNAPSHOTS = "configview.view_configsnapshot"
_TOKEN_CHARACTERS = re.compile(r"[A-Za-z0-9_-]+")
# Not a SHA-256 hex digest, so no secret matches it.
_NO_SECRET_DIGEST = "-" * 64


class ShareUnavailable(Exception):
    """A share link that opens nothing, with what to tell its holder."""


def get_snapshot_for_user(user: User, snapshot_id: int, *, perm: str = VIEW_SNAPSHOTS) -> ConfigSnapshot:
    require(user, perm)
    try:
        return ConfigSnapshot.objects.get(pk=snapshot_id)
    except ConfigSnapshot.DoesNotExist:
        raise Http404("No such snapshot.") from None


def sides_for_user(
    user: User,
    *,
    left: str = "",
    right: str = "",
    subsystem: str = "",
    daemon_id: int | None = None,
    since: datetime | None = None,
) -> tuple[SideChoice, SideChoice]:
    """The two sides a diff request names: snapshot ids or "local", or a daemon "since" a moment.

    The console host's side is seen as ``subsystem``; by default as the
    daemon on the other side, so a master is compared with MASTER's view.
    """
    require(user, VIEW_SNAPSHOTS)
    if daemon_id is not None and since is not None:
        daemon = daemon_for(user, daemon_id)
        before = selectors.snapshot_as_of(daemon, since)
        if before is None:
            raise NotComparable(f"The console has no complete snapshot of {daemon} from before {since:%Y-%m-%d %H:%M}.")
        snapshots = [before, selectors.latest_snapshot(daemon)]
    else:
        snapshots = [None if spec == "local" else get_snapshot_for_user(user, int(spec)) for spec in (left, right)]
    if not subsystem:
        seen_as = [s.subsystem for s in snapshots if s is not None and s.subsystem in KNOWN_SUBSYSTEMS]
        subsystem = seen_as[0] if seen_as else "TOOL"
    return SideChoice(snapshots[0], subsystem), SideChoice(snapshots[1], subsystem)


def get_share_for_user(user: User, share_id: int) -> Share:
    """One of the user's own shares (to revoke it)."""
    try:
        return selectors.shares_of(user).get(pk=share_id)
    except Share.DoesNotExist:
        raise Http404("No such share of yours.") from None


def share_for_token(token: str) -> Share:
    """The share a link opens, for any logged-in user; raises ShareUnavailable."""
    lookup, secret = token[:LOOKUP_LENGTH], token[LOOKUP_LENGTH:]
    # Only what token_urlsafe makes reaches the database (PostgreSQL refuses a NUL in a query outright).
    well_formed = secret and _TOKEN_CHARACTERS.fullmatch(token)
    # A miss costs what a near miss (a lookup that exists, a wrong secret)
    # costs: one indexed query for two short columns, then one digest
    # comparison (against a digest no secret has, when no row matched). The
    # snapshots are loaded only for a link that opens; loading them with the
    # row made a near miss 3.4 ms slower at the median of 50.
    found = Share.objects.filter(lookup=lookup).values_list("pk", "secret_hash").first() if well_formed else None
    pk, secret_hash = found or (None, _NO_SECRET_DIGEST)
    # Compared in constant time, so response times say nothing about the secret.
    if not secrets.compare_digest(share_secret_digest(secret), secret_hash) or pk is None:
        raise ShareUnavailable("This share link is unknown. Check that it was copied whole.")
    share = Share.objects.select_related("left", "right").get(pk=pk)
    if share.revoked_at is not None:
        raise ShareUnavailable("This share link was revoked by the person who shared it.")
    if share.expired:
        raise ShareUnavailable(f"This share link expired on {share.expires_at:%Y-%m-%d %H:%M} UTC.")
    return share
