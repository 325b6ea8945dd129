"""Share links: unguessable, compared in constant time, stored only as a hash, and carrying no secret."""

from __future__ import annotations

import io
import json
import secrets
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.contrib.auth.models import User
from django.core import serializers
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from condorweb.logfilters import redact_share_tokens
from configview import access, services
from configview.models import LOOKUP_LENGTH, ConfigSnapshot, Share
from configview.selectors import SideChoice
from daemons.models import Daemon
from tests.configview.helpers import make_daemon, make_snapshot
from tests.conftest import PASSWORD

SECRETS = {"DB_PASSWORD": "hunter2-db", "SEC_TOKEN_DIRECTORY_KEY": "swordfish-key", "POOL_SIGNING_KEY": "k3y-b1ts"}


def _share(user: User, **extra: object) -> tuple[Share, str]:
    daemon = Daemon.objects.first() or make_daemon()
    before = make_snapshot(daemon, {"UPDATE_INTERVAL": "300", **SECRETS})
    after = make_snapshot(daemon, {"UPDATE_INTERVAL": "5", **{k: v + "-new" for k, v in SECRETS.items()}})
    return services.share_create(user=user, left=SideChoice(before), right=SideChoice(after), title="t", **extra)


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_secret_part_has_at_least_128_bits_from_secrets(viewer: User, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[int] = []
    real = secrets.token_urlsafe

    def spy(nbytes: int | None = None) -> str:
        asked.append(nbytes or 32)
        return real(nbytes)

    monkeypatch.setattr(services.secrets, "token_urlsafe", spy)
    _, token = _share(viewer)
    # The first draw is the lookup; every draw after it is secret.
    assert max(asked[1:]) * 8 >= 128
    assert len(token) - LOOKUP_LENGTH >= 22  # 128 bits in URL-safe base64


def test_fifty_links_are_all_different(viewer: User) -> None:
    tokens = {_share(viewer)[1] for _ in range(50)}
    assert len(tokens) == 50


def test_only_a_hash_of_the_secret_is_stored(viewer: User) -> None:
    share, token = _share(viewer)
    secret = token[LOOKUP_LENGTH:]
    stored = serializers.serialize("json", Share.objects.all())
    assert secret not in stored
    assert share.secret_hash and share.secret_hash != secret


def test_the_secret_is_compared_in_constant_time(viewer: User, monkeypatch: pytest.MonkeyPatch) -> None:
    _, token = _share(viewer)
    compared: list[tuple[str, str]] = []
    real = secrets.compare_digest

    def spy(a: str, b: str) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(access.secrets, "compare_digest", spy)
    access.share_for_token(token)
    with pytest.raises(access.ShareUnavailable):
        access.share_for_token(token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert len(compared) == 2


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:LOOKUP_LENGTH],  # the lookup alone
        lambda t: t[:LOOKUP_LENGTH] + "x" * (len(t) - LOOKUP_LENGTH),  # the lookup and a wrong secret
        lambda t: t[:-1],  # one character short
        lambda t: "x" * len(t),
        # PostgreSQL refuses a NUL in a query: it must not get that far.
        lambda t: t[: LOOKUP_LENGTH - 1] + "\x00" + t[LOOKUP_LENGTH:],
    ],
    ids=["lookup-only", "wrong-secret", "truncated", "guessed", "nul-in-lookup"],
)
def test_anything_but_the_whole_token_is_a_404(viewer: User, mangle) -> None:
    _, token = _share(viewer)
    response = _client(viewer).get(f"/config/s/{quote(mangle(token), safe='')}/")
    assert response.status_code == 404
    assert "unknown" in response.content.decode()


def test_revoked_and_expired_links_are_404s_that_say_why(viewer: User) -> None:
    revoked, revoked_token = _share(viewer)
    services.share_revoke(share=revoked)
    expired, expired_token = _share(viewer, expires_at=timezone.now() + timedelta(days=1))
    Share.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    client = _client(viewer)
    gone = client.get(reverse("configview:share_open", args=[revoked_token]))
    late = client.get(reverse("configview:share_open", args=[expired_token]))

    assert (gone.status_code, late.status_code) == (404, 404)
    assert "revoked" in gone.content.decode() and "expired" in late.content.decode()


def test_a_shared_page_shows_no_secret_value(viewer: User, nobody: User) -> None:
    _, token = _share(viewer)
    body = _client(nobody).get(reverse("configview:share_open", args=[token]), {"show": "all"}).content.decode()
    assert "UPDATE_INTERVAL" in body
    for value in SECRETS.values():
        assert value not in body


def test_no_stored_snapshot_or_share_holds_a_secret_value(viewer: User) -> None:
    _share(viewer)
    stored = serializers.serialize("json", [*ConfigSnapshot.objects.all(), *Share.objects.all()])
    for value in SECRETS.values():
        assert value not in stored
    # The secrets' names stay, so a diff can still say that one changed.
    assert set(SECRETS) <= set(json.loads(stored)[0]["fields"]["hashes"])


def test_the_link_page_shows_the_token_once_and_the_list_never(viewer: User, htcondor) -> None:
    daemon = make_daemon()
    before = make_snapshot(daemon, {"UPDATE_INTERVAL": "300"})
    after = make_snapshot(daemon, {"UPDATE_INTERVAL": "5"})
    client = _client(viewer)

    created = client.post(reverse("configview:share_create"), {"left": before.pk, "right": after.pk})
    link = created.context["link"]
    token = link.rstrip("/").rsplit("/", 1)[1]

    assert token in created.content.decode()
    assert token[LOOKUP_LENGTH:] not in client.get(reverse("configview:share_list")).content.decode()


def test_no_live_token_reaches_the_log_when_a_revoked_link_is_a_404(viewer: User, console_log: io.StringIO) -> None:
    share, token = _share(viewer)
    services.share_revoke(share=share)

    _client(viewer).get(reverse("configview:share_open", args=[token]))

    written = console_log.getvalue()
    assert f"GET /config/s/{token[:LOOKUP_LENGTH]}[redacted]/ (404): Not Found" in written
    assert token[LOOKUP_LENGTH:] not in written


def test_the_redaction_pattern_matches_the_share_links_the_console_makes() -> None:
    token = secrets.token_urlsafe(8)[:LOOKUP_LENGTH] + secrets.token_urlsafe(32)

    redacted = redact_share_tokens(f"GET {reverse('configview:share_open', args=[token])} 404")

    assert token[LOOKUP_LENGTH:] not in redacted and token[:LOOKUP_LENGTH] in redacted


def test_a_logged_out_visitor_is_sent_to_a_login_page_whose_address_carries_no_token(viewer: User) -> None:
    _, token = _share(viewer)
    client = Client()

    to_login = client.get(reverse("configview:share_open", args=[token]))

    assert to_login.status_code == 302
    assert token[LOOKUP_LENGTH:] not in to_login["Location"] and to_login["Location"] == reverse("login")
    logged_in = client.post(reverse("login"), {"username": viewer.username, "password": PASSWORD})
    assert logged_in["Location"] == reverse("configview:share_open", args=[token])
    assert client.get(logged_in["Location"]).status_code == 200


def test_other_pages_still_come_back_through_next(viewer: User) -> None:
    to_login = Client().get(reverse("configview:index"))

    assert to_login["Location"] == f"{reverse('login')}?next={reverse('configview:index')}"


def _queries_of_a_miss(token: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries, pytest.raises(access.ShareUnavailable):
        access.share_for_token(token)
    return [q["sql"] for q in queries.captured_queries]


def test_a_near_miss_costs_the_same_queries_as_a_random_token_and_loads_no_snapshot(viewer: User) -> None:
    _, token = _share(viewer)
    near_miss = token[:LOOKUP_LENGTH] + secrets.token_urlsafe(32)
    random_token = secrets.token_urlsafe(8)[:LOOKUP_LENGTH] + secrets.token_urlsafe(32)

    near, far = _queries_of_a_miss(near_miss), _queries_of_a_miss(random_token)

    assert len(near) == len(far) == 1
    assert near[0].replace(token[:LOOKUP_LENGTH], random_token[:LOOKUP_LENGTH]) == far[0]
    assert ConfigSnapshot._meta.db_table not in near[0]
