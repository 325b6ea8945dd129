"""Every control on every page has a label a screen reader can read: an associated <label>, or aria-label(ledby)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from configview import services
from configview.selectors import SideChoice
from tests.configview.helpers import client_for, make_daemon, make_snapshot
from tests.helpers import fresh_pool

CONTROLS = {"input", "select", "textarea"}
# Inputs a person never fills in or whose text is their own label.
UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}


class Controls(HTMLParser):
    """Collects the page's controls and the ids its labels point at."""

    def __init__(self) -> None:
        super().__init__()
        self.label_for: set[str] = set()
        self.open_labels = 0
        self.unlabelled: list[str] = []
        self._pending: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "label":
            self.open_labels += 1
            if attributes.get("for"):
                self.label_for.add(attributes["for"])
        elif tag in CONTROLS and attributes.get("type", "text") not in UNLABELLED_TYPES:
            if not (self.open_labels or attributes.get("aria-label") or attributes.get("aria-labelledby")):
                self._pending.append((tag, attributes))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.open_labels -= 1

    def close(self) -> None:
        super().close()
        self.unlabelled = [
            f"<{tag} name={attributes.get('name')!r} id={attributes.get('id')!r}>"
            for tag, attributes in self._pending
            if attributes.get("id", "") not in self.label_for
        ]


def unlabelled_controls(html: str) -> list[str]:
    parser = Controls()
    parser.feed(html)
    parser.close()
    return parser.unlabelled


def test_the_checker_finds_a_control_without_a_label() -> None:
    html = '<label for="a">A</label><input id="a"><label>B <input name="b"></label><input name="c"><select id="d"></select>'
    assert unlabelled_controls(html) == ["<input name='c' id=None>", "<select name=None id='d'>"]


@pytest.fixture
def pages(admin, htcondor) -> list[str]:
    """Every page of the console an administrator can open, with something on each."""
    pool = fresh_pool("cluster")
    daemon = make_daemon(pool_name=pool.name)
    older = make_snapshot(daemon, {"UPDATE_INTERVAL": 5})
    newer = make_snapshot(daemon, {"UPDATE_INTERVAL": 6})
    services.share_create(user=admin, left=SideChoice(older), right=SideChoice(newer), title="shared")
    return [
        reverse("daemons:pool_list"),
        reverse("daemons:pool_add"),
        reverse("daemons:pool_detail", args=[pool.pk]),
        reverse("daemons:pool_edit", args=[pool.pk]),
        reverse("daemons:daemon_detail", args=[daemon.pk]),
        reverse("daemons:daemon_log", args=[daemon.pk]),
        reverse("daemons:pool_commands", args=[pool.pk]),
        reverse("daemons:audit"),
        reverse("daemons:diagnostics"),
        reverse("configview:index"),
        reverse("configview:local"),
        reverse("configview:daemon_snapshots", args=[daemon.pk]),
        reverse("configview:snapshot_detail", args=[newer.pk]),
        reverse("configview:runtime_edit", args=[daemon.pk]),
        f"{reverse('configview:diff')}?left={older.pk}&right={newer.pk}",
        reverse("configview:share_list"),
    ]


def test_every_control_on_every_page_has_a_label(admin, pages: list[str]) -> None:
    client = client_for(admin)
    found = {}
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        found[url] = unlabelled_controls(response.content.decode())
    assert {url: controls for url, controls in found.items() if controls} == {}


def test_the_login_page_labels_its_fields(client: Client, db: None) -> None:
    assert unlabelled_controls(client.get(reverse("login")).content.decode()) == []
