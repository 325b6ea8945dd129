"""The layout every page shares: navigation, breadcrumbs, the user menu, messages, and nothing loaded from elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

import django_htmx
import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.test import Client
from django.urls import reverse

from tests.helpers import add_daemons, fresh_pool

pytestmark = pytest.mark.usefixtures("background_jobs")


@pytest.fixture
def pool(db: None) -> object:
    pool = fresh_pool("cluster")
    add_daemons(pool, 2)
    return pool


def page(client: Client, user: object, url: str) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def nav(html: str) -> str:
    return html.split('<nav aria-label="Main">', 1)[1].split("</nav>", 1)[0]


def test_the_navigation_leads_to_pools_configs_and_shares(client: Client, operator, pool) -> None:
    links = nav(page(client, operator, reverse("daemons:pool_list")))
    for url in (reverse("daemons:pool_list"), reverse("configview:index"), reverse("configview:share_list")):
        assert f'href="{url}"' in links
    assert reverse("admin:index") not in links


def test_staff_also_find_the_admin(client: Client, admin, pool) -> None:
    assert f'href="{reverse("admin:index")}"' in nav(page(client, admin, reverse("daemons:pool_list")))


def test_the_current_section_is_marked_for_screen_readers_too(client: Client, viewer, pool) -> None:
    links = nav(page(client, viewer, reverse("configview:share_list")))
    assert re.search(r'href="/config/shares/"\s+aria-current="page">Shares<', links)
    assert links.count('aria-current="page"') == 1


def test_breadcrumbs_lead_back_from_a_daemon_to_its_pool(client: Client, viewer, pool) -> None:
    daemon = pool.daemons.first()
    html = page(client, viewer, reverse("daemons:daemon_detail", args=[daemon.pk]))
    crumbs = html.split('<nav class="breadcrumbs" aria-label="Breadcrumb">', 1)[1].split("</nav>", 1)[0]
    assert f'<a href="{reverse("daemons:pool_detail", args=[pool.pk])}">cluster</a>' in crumbs
    assert f'<span aria-current="page">startd {daemon.name}</span>' in crumbs


def test_logging_out_is_a_form_post_naming_the_user(client: Client, viewer, pool) -> None:
    html = page(client, viewer, reverse("daemons:pool_list"))
    menu = html.split('<div class="usermenu">', 1)[1].split("</div>", 1)[0]
    assert viewer.get_username() in menu
    assert f'<form method="post" action="{reverse("logout")}">' in menu
    assert 'name="csrfmiddlewaretoken"' in menu


def test_outcomes_are_announced_as_messages(client: Client, operator, pool) -> None:
    client.force_login(operator)
    response = client.post(reverse("daemons:pool_refresh", args=[pool.pk]), follow=True)
    html = response.content.decode()
    assert '<ul class="messages" role="status">' in html
    assert "Refreshing cluster" in html


def test_no_page_loads_anything_from_another_host(client: Client, admin, pool) -> None:
    for url in (
        reverse("daemons:pool_list"),
        reverse("daemons:pool_detail", args=[pool.pk]),
        reverse("configview:index"),
    ):
        html = page(client, admin, url)
        loaded = re.findall(r'<(?:script|link|img)\b[^>]*\b(?:src|href)="([^"]+)"', html)
        assert loaded and all(address.startswith("/") and not address.startswith("//") for address in loaded), loaded


def test_htmx_is_the_copy_django_htmx_ships_served_from_the_console(client: Client, admin, pool) -> None:
    html = page(client, admin, reverse("daemons:pool_list"))

    assert f'<script src="{static("django_htmx/htmx-2.min.js")}" defer></script>' in html
    assert finders.find("django_htmx/htmx-2.min.js") == str(
        Path(django_htmx.__file__).parent / "static/django_htmx/htmx-2.min.js"
    )
    assert client.get(static("django_htmx/htmx-2.min.js")).status_code == 200


def test_no_copy_of_htmx_is_kept_in_static() -> None:
    assert [path.name for path in Path(settings.BASE_DIR, "static").rglob("*htmx*")] == []
