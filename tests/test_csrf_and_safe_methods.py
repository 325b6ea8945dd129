"""A forged POST changes nothing, and no GET ever changes anything.

The routes are the permission matrix's, so a new URL name is covered here
as soon as it has its row there. Requests come from an administrator, who
may do everything, so only CSRF and the method stand in the way.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.security_helpers import CutOff, World, make_world, no_htcondor  # noqa: F401 - fixture
from tests.test_permission_matrix import MATRIX, Row

POSTS = [row for row in MATRIX if row.method == "POST"]
GETS = [row for row in MATRIX if row.method == "GET"]
# What the binding workers do that changes a daemon or the console host's HTCondor state.
CHANGING_CALLS = {"send", "set", "local_reload"}


def _changes(cut: CutOff) -> list[tuple[str, tuple]]:
    return [
        (func, args) for func, args in cut.calls
        if func in CHANGING_CALLS or (func == "config_val" and "-runset" in args[1])
    ]


def _state(world: World) -> tuple[dict[str, int], int, str]:
    world.share.refresh_from_db()
    world.pool.refresh_from_db()
    return world.counts(), world.revocations(), world.pool.name


def test_the_post_routes_include_every_action() -> None:
    assert {row.name for row in POSTS} >= {
        "daemons:pool_refresh", "daemons:pool_add", "daemons:pool_edit", "configview:local_reload",
        "configview:local_capture", "configview:snapshot_fetch", "configview:runtime_edit",
        "configview:share_create", "configview:share_revoke", "logout", "login",
    }


@pytest.mark.parametrize("row", POSTS, ids=lambda row: row.id)
def test_a_post_without_a_csrf_token_is_refused_and_changes_nothing(row: Row, admin: User, no_htcondor: CutOff) -> None:
    world = make_world(admin)
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    before = _state(world)

    response = client.post(world.url(row.name), row.data(world))

    assert response.status_code == 403, (row.id, response.status_code)
    assert _state(world) == before
    assert no_htcondor.calls == []


@pytest.mark.parametrize("row", POSTS, ids=lambda row: row.id)
def test_a_post_with_a_wrong_csrf_token_is_refused_too(row: Row, admin: User, no_htcondor: CutOff) -> None:
    world = make_world(admin)
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    client.get("/")  # the CSRF cookie
    before = _state(world)

    response = client.post(world.url(row.name), {**row.data(world), "csrfmiddlewaretoken": "x" * 64})

    assert response.status_code == 403, (row.id, response.status_code)
    assert _state(world) == before


@pytest.mark.parametrize("row", GETS, ids=lambda row: row.id)
def test_a_get_changes_no_row_and_nothing_on_a_daemon(row: Row, admin: User, no_htcondor: CutOff) -> None:
    world = make_world(admin)
    client = Client()
    client.force_login(admin)
    before = _state(world)

    client.get(world.url(row.name), row.data(world))

    assert _state(world) == before
    assert _changes(no_htcondor) == []


def test_the_state_check_notices_a_change(admin: User, no_htcondor: CutOff) -> None:
    """The checks above could pass by looking at nothing; a real POST shows they do not."""
    world = make_world(admin)
    client = Client()
    client.force_login(admin)
    before = _state(world)

    client.post(world.url("configview:share_revoke"))
    client.post(world.url("configview:runtime_edit"), {"knob": "UPDATE_INTERVAL", "value": "60", "action": "set"})

    assert _state(world) != before
    assert _changes(no_htcondor) == [("set", (world.daemon.address, "UPDATE_INTERVAL", "60"))]
