"""Who may reach what: every role against every page and action of the URL conf.

A URL name without a row here fails the suite, so a new view arrives with
its permissions written down. The Django admin's many pages are covered as
a whole: only staff get past its own login.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.security.helpers import CutOff, World, make_world, route_parameters, url_names

ROLES = ("anonymous", "nobody", "viewer", "operator", "admin")
LOGIN = 302  # anonymous visitors are sent to log in


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    # Status per role, in the order of ROLES.
    expected: tuple[int, int, int, int, int]
    data: Callable[[World], dict[str, Any]] = field(default=lambda world: {})

    @property
    def id(self) -> str:
        return f"{self.method} {self.name}"


def _sides(world: World) -> dict[str, Any]:
    return {"left": world.before.pk, "right": world.after.pk}


def _pool_form(world: World) -> dict[str, Any]:
    # Invalid on purpose (no collector): the form comes back, nothing is queried.
    return {"name": "renamed", "collector": ""}


def _drain(world: World) -> dict[str, Any]:
    return {"speed": "graceful", "reason": "maintenance", "on_completion": "nothing", "confirm": world.daemon.name}


MATRIX = [
    Row("login", "GET", (200, 200, 200, 200, 200)),
    Row("login", "POST", (200, 200, 200, 200, 200), lambda w: {"username": "x", "password": "y"}),
    Row("logout", "GET", (LOGIN, 405, 405, 405, 405)),
    Row("logout", "POST", (LOGIN, 302, 302, 302, 302)),
    Row("daemons:pool_list", "GET", (LOGIN, 403, 200, 200, 200)),
    Row("daemons:pool_detail", "GET", (LOGIN, 403, 200, 200, 200)),
    Row("daemons:daemon_detail", "GET", (LOGIN, 403, 200, 200, 200)),
    Row("daemons:pool_refresh", "GET", (LOGIN, 405, 405, 405, 405)),
    Row("daemons:pool_refresh", "POST", (LOGIN, 403, 302, 302, 302)),
    Row("daemons:pool_add", "GET", (LOGIN, 403, 403, 403, 200)),
    Row("daemons:pool_add", "POST", (LOGIN, 403, 403, 403, 200), _pool_form),
    Row("daemons:pool_edit", "GET", (LOGIN, 403, 403, 403, 200)),
    Row("daemons:pool_edit", "POST", (LOGIN, 403, 403, 403, 200), _pool_form),
    Row("daemons:daemon_log", "GET", (LOGIN, 403, 200, 200, 200)),
    # The test pool's logs are out of reach: the download goes back to the log page, which says why.
    Row("daemons:daemon_log_download", "GET", (LOGIN, 403, 302, 302, 302)),
    Row("daemons:diagnostics", "GET", (LOGIN, 403, 403, 403, 200)),
    Row("daemons:diagnostics", "POST", (LOGIN, 403, 403, 403, 302), lambda w: {"debug": ""}),
    Row("daemons:client_log_download", "GET", (LOGIN, 403, 403, 403, 302)),
    Row("daemons:daemon_command", "GET", (LOGIN, 405, 405, 405, 405)),
    Row("daemons:daemon_command", "POST", (LOGIN, 403, 403, 302, 302), lambda w: {"command": "Reconfig"}),
    Row("daemons:daemon_command", "POST", (LOGIN, 403, 403, 403, 302), lambda w: {"command": "Restart"}),
    Row("daemons:pool_commands", "GET", (LOGIN, 403, 403, 200, 200), lambda w: {"command": "Reconfig"}),
    Row(
        "daemons:pool_commands",
        "POST",
        (LOGIN, 403, 403, 302, 302),
        lambda w: {"command": "Reconfig", "daemons": [w.daemon.pk]},
    ),
    Row("daemons:pool_command_batch", "GET", (LOGIN, 403, 403, 200, 200)),
    Row("daemons:audit", "GET", (LOGIN, 403, 403, 403, 200)),
    Row("daemons:pool_machines", "GET", (LOGIN, 403, 200, 200, 200), lambda w: {"board": "claimed"}),
    Row("daemons:daemon_drain", "GET", (LOGIN, 405, 405, 405, 405)),
    # The world's daemon is a master: the drain is refused by the form, after the permission check.
    Row("daemons:daemon_drain", "POST", (LOGIN, 403, 403, 302, 302), _drain),
    Row("daemons:daemon_drain_cancel", "GET", (LOGIN, 405, 405, 405, 405)),
    Row("daemons:daemon_drain_cancel", "POST", (LOGIN, 403, 403, 302, 302)),
    # The collector is cut off: the page says it could not evaluate the constraint.
    Row(
        "daemons:pool_drain",
        "GET",
        (LOGIN, 403, 403, 200, 200),
        lambda w: {"by": "constraint", "constraint": "Cpus > 0"},
    ),
    Row("daemons:pool_drain", "POST", (LOGIN, 403, 403, 200, 200), lambda w: _drain(w) | {"daemons": [w.daemon.pk]}),
    Row("configview:index", "GET", (LOGIN, 403, 200, 200, 200)),
    Row("configview:local", "GET", (LOGIN, 403, 200, 200, 200)),
    Row("configview:local_reload", "GET", (LOGIN, 405, 405, 405, 405)),
    Row("configview:local_reload", "POST", (LOGIN, 403, 403, 302, 302)),
    Row("configview:local_capture", "GET", (LOGIN, 405, 405, 405, 405)),
    Row("configview:local_capture", "POST", (LOGIN, 403, 403, 302, 302), lambda w: {"subsystem": "SCHEDD"}),
    Row("configview:daemon_snapshots", "GET", (LOGIN, 403, 200, 200, 200)),
    Row("configview:snapshot_fetch", "GET", (LOGIN, 405, 405, 405, 405)),
    Row("configview:snapshot_fetch", "POST", (LOGIN, 403, 403, 302, 302)),
    Row("configview:snapshot_detail", "GET", (LOGIN, 403, 200, 200, 200)),
    Row("configview:runtime_edit", "GET", (LOGIN, 403, 403, 200, 200)),
    Row(
        "configview:runtime_edit",
        "POST",
        (LOGIN, 403, 403, 200, 200),
        lambda w: {"knob": "UPDATE_INTERVAL", "value": "60", "action": "set"},
    ),
    Row(
        "configview:runtime_edit",
        "POST",
        (LOGIN, 403, 403, 200, 200),
        lambda w: {"knob": "UPDATE_INTERVAL", "action": "unset"},
    ),
    Row("configview:diff", "GET", (LOGIN, 403, 200, 200, 200), _sides),
    Row("configview:share_list", "GET", (LOGIN, 200, 200, 200, 200)),
    Row("configview:share_create", "GET", (LOGIN, 405, 405, 405, 405)),
    Row("configview:share_create", "POST", (LOGIN, 403, 200, 200, 200), _sides),
    Row("configview:share_revoke", "GET", (LOGIN, 405, 405, 405, 405)),
    # Anyone may take back a link of their own, even after losing their group.
    Row("configview:share_revoke", "POST", (LOGIN, 302, 302, 302, 302)),
    # A link opens for any logged-in user: that is what sharing is for.
    Row("configview:share_open", "GET", (LOGIN, 200, 200, 200, 200)),
]


def _user(request: pytest.FixtureRequest, role: str) -> User | None:
    # Only the role's own user: each one costs a password hash.
    return None if role == "anonymous" else request.getfixturevalue(role)


def _client(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_every_url_name_of_the_console_has_a_row() -> None:
    named = {name for name in url_names() if not name.startswith("admin:")}
    covered = {row.name for row in MATRIX}
    assert named - covered == set(), "add these URL names to MATRIX with the status each role gets"
    assert covered - named == set(), "these rows name URLs that no longer exist"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", MATRIX, ids=lambda row: row.id)
def test_each_role_gets_the_status_the_matrix_says(
    row: Row, role: str, request: pytest.FixtureRequest, no_htcondor: CutOff, db: None
) -> None:
    user = _user(request, role)
    # The share to revoke is the visitor's own; an anonymous visitor's is someone else's.
    world = make_world(user or User.objects.create(username="someone"))
    client = _client(user)
    url = world.url(row.name)
    if row.method == "GET":
        response = client.get(url, row.data(world))
    else:
        response = client.post(url, row.data(world))
    assert response.status_code == row.expected[ROLES.index(role)], (row.id, role, response.status_code)
    if role == "anonymous" and row.name != "login":
        assert response["Location"].startswith("/login/")


# Logging in and out is for everyone.
ADMIN_PAGES = sorted(
    name for name in url_names() if name.startswith("admin:") and name not in ("admin:login", "admin:logout")
)


_ADMIN_SAMPLES = {"app_label": "daemons", "object_id": "1", "id": "1", "content_type_id": "1", "url": "nosuchpage"}


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_no_one_but_staff_gets_past_the_admins_login(name: str, operator: User) -> None:
    # The operator holds the most permissions of anyone who is not staff.
    url = reverse(name, kwargs={p: _ADMIN_SAMPLES[p] for p in route_parameters(name)})
    response = _client(operator).get(url)
    assert response.status_code == 302, (name, response.status_code)
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("/admin/", 200),
        ("/admin/daemons/pool/", 200),
        # The inventory is what the collector says; nobody writes it by hand.
        ("/admin/daemons/daemon/add/", 403),
    ],
)
def test_an_administrator_uses_the_admin_but_cannot_invent_daemons(admin: User, page: str, expected: int) -> None:
    assert _client(admin).get(page).status_code == expected
