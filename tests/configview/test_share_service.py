"""configview.services: share links that store both sides and only a hash of the secret."""

from __future__ import annotations

import pytest

from configview import access, services
from configview.models import LOOKUP_LENGTH, ConfigSnapshot, Share
from configview.selectors import NotComparable, SideChoice
from tests.configview.helpers import make_daemon, make_snapshot


def test_a_share_stores_both_snapshots_and_never_its_token(viewer) -> None:
    daemon = make_daemon()
    left, right = make_snapshot(daemon, {"A": "1"}), make_snapshot(daemon, {"A": "2"})
    share, token = services.share_create(user=viewer, left=SideChoice(left), right=SideChoice(right), title="t")
    share.refresh_from_db()
    assert (share.left, share.right, share.title, share.created_by) == (left, right, "t", viewer)
    assert token not in str(Share.objects.filter(pk=share.pk).values().get())
    assert token[LOOKUP_LENGTH:] not in share.secret_hash


def test_the_token_carries_at_least_128_random_bits_and_differs_each_time(viewer) -> None:
    snapshot = make_snapshot(make_daemon(), {"A": "1"})
    tokens = {
        services.share_create(user=viewer, left=SideChoice(snapshot), right=SideChoice(snapshot))[1] for _ in range(5)
    }
    assert len(tokens) == 5
    # token_urlsafe: 6 bits per character; the part after the lookup is the secret.
    assert all((len(t) - LOOKUP_LENGTH) * 6 >= 128 for t in tokens)


def test_the_console_hosts_side_is_captured_as_a_snapshot_when_shared(viewer, htcondor) -> None:
    right = make_snapshot(make_daemon(), {"UPDATE_INTERVAL": "5"})
    share, _ = services.share_create(user=viewer, left=SideChoice(None, "MASTER"), right=SideChoice(right))
    assert share.left.source == ConfigSnapshot.Source.LOCAL
    assert share.left.subsystem == "MASTER"
    assert share.left.values["UPDATE_INTERVAL"] == 300


def test_an_incomplete_snapshot_cannot_be_shared(viewer) -> None:
    daemon = make_daemon()
    with pytest.raises(NotComparable):
        services.share_create(
            user=viewer,
            left=SideChoice(make_snapshot(daemon, {}, status="running")),
            right=SideChoice(make_snapshot(daemon, {"A": "1"})),
        )
    assert not Share.objects.exists()


def test_the_token_opens_its_share_and_a_wrong_secret_does_not(viewer) -> None:
    snapshot = make_snapshot(make_daemon(), {"A": "1"})
    share, token = services.share_create(user=viewer, left=SideChoice(snapshot), right=SideChoice(snapshot))
    assert access.share_for_token(token) == share
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (tampered, token[:LOOKUP_LENGTH], "", "x" * 60):
        with pytest.raises(access.ShareUnavailable, match="unknown"):
            access.share_for_token(bad)


def test_a_revoked_share_stays_revoked_when_revoked_again(viewer) -> None:
    snapshot = make_snapshot(make_daemon(), {"A": "1"})
    share, token = services.share_create(user=viewer, left=SideChoice(snapshot), right=SideChoice(snapshot))
    services.share_revoke(share=share)
    first = share.revoked_at
    services.share_revoke(share=share)
    assert share.revoked_at == first is not None
    with pytest.raises(access.ShareUnavailable, match="revoked"):
        access.share_for_token(token)
