"""Every URL the console serves, enumerated from the URL conf so a new view cannot be forgotten."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

# Views anyone may reach: the login forms.
PUBLIC = {"/login/", "/admin/login/"}
_CONVERTER_SAMPLES = {
    "int": "999999",
    "str": "nosuchthing",
    "slug": "nosuchthing",
    "path": "nosuchthing",
    "uuid": "00000000-0000-0000-0000-000000000000",
}


def _walk(patterns: list, prefix: str = "") -> list[str]:
    urls: list[str] = []
    for entry in patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            urls += _walk(entry.url_patterns, prefix + route)
        elif isinstance(entry, URLPattern):
            urls.append(prefix + route)
    return urls


def _concrete(route: str) -> str:
    route = re.sub(r"<(?:(\w+):)?\w+>", lambda m: _CONVERTER_SAMPLES.get(m.group(1) or "str", "x"), route)
    # Regex routes (the admin's): drop anchors and groups to a plain sample path.
    route = route.replace("^", "").replace("$", "").replace("\\Z", "")
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "nosuchthing", route)
    route = re.sub(r"[()?*+\[\]\\]", "", route)
    return "/" + route


ALL_URLS = sorted({_concrete(r) for r in _walk(get_resolver().url_patterns)})


def test_the_enumeration_finds_the_consoles_views() -> None:
    assert "/" in ALL_URLS
    assert "/login/" in ALL_URLS
    assert any(u.startswith("/admin/") for u in ALL_URLS)


@pytest.mark.django_db
@pytest.mark.parametrize("url", [u for u in ALL_URLS if u not in PUBLIC])
def test_every_url_refuses_an_anonymous_visitor(client: Client, url: str) -> None:
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code == 302, (url, response.status_code)
        assert "login" in response["Location"], (url, response["Location"])


@pytest.mark.django_db
@pytest.mark.parametrize("url", ALL_URLS)
def test_every_post_without_a_csrf_token_is_refused(admin: User, url: str) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    response = client.post(url, {"anything": "x"})
    assert response.status_code in (403, 404, 405), (url, response.status_code)
