"""Refusals and missing pages read in the console's layout and say what to do, never a bare status line."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from tests.helpers import fresh_pool


def test_a_refusal_says_what_permission_is_missing_and_whom_to_ask(client: Client, nobody) -> None:
    pool = fresh_pool("cluster")
    client.force_login(nobody)
    response = client.get(reverse("daemons:pool_detail", args=[pool.pk]))
    assert response.status_code == 403
    page = response.content.decode()
    assert "You are not allowed to do this" in page
    assert "ask a console administrator" in page
    assert 'aria-label="Main"' in page and "Log out" in page


def test_a_missing_page_names_the_address_escaped_and_leads_back(client: Client, viewer) -> None:
    client.force_login(viewer)
    response = client.get("/pool/999/<script>/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Nothing here" in page
    assert "<script>" not in page.split("<main", 1)[1]
    assert f'href="{reverse("daemons:pool_list")}"' in page
