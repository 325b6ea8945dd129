"""A forged POST changes nothing, and no GET ever changes anything.

The routes are the permission matrix's, so a new URL name is covered here
as soon as it has its row there. Requests come from an administrator, who
may do everything, so only CSRF and the method stand in the way. "Nothing"
is every row of every table, by value, every statement the request sends
to the database, and every job it puts on the task queue: no page starts a
refresh, or any other background work, by being looked at.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from tests.helpers import Queued
from tests.security.helpers import CutOff, make_world
from tests.security.test_permission_matrix import MATRIX, Row

POSTS = [row for row in MATRIX if row.method == "POST"]
GETS = [row for row in MATRIX if row.method == "GET"]
# What the binding workers do that changes a daemon or the console host's HTCondor state.
CHANGING_CALLS = {"send", "set", "local_reload"}


def _changes(cut: CutOff) -> list[tuple[str, tuple]]:
    return [
        (func, args)
        for func, args in cut.calls
        if func in CHANGING_CALLS or (func == "config_val" and "-runset" in args[1])
    ]


Rows = dict[str, dict[Any, dict[str, Any]]]


def _rows() -> Rows:
    """Every row of every installed model, by value: all the state a request could change."""
    return {
        model._meta.label: {row["pk"]: row for row in model._base_manager.values("pk", *_fields(model))}
        for model in django_apps.get_models()
    }


def _fields(model: type) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


def _changed(before: Rows, after: Rows) -> set[tuple[str, str]]:
    """(model, field) for every changed value; (model, "+row") and (model, "-row") for rows added and gone."""
    changed: set[tuple[str, str]] = set()
    for label, rows in after.items():
        old = before[label]
        changed |= {(label, "+row") for pk in rows.keys() - old.keys()}
        changed |= {(label, "-row") for pk in old.keys() - rows.keys()}
        for pk in rows.keys() & old.keys():
            changed |= {(label, name) for name, value in rows[pk].items() if old[pk][name] != value}
    return changed


class Writes:
    """Every statement through the test's database connection that writes (its ``execute_wrapper``)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE", "REPLACE"}:
            self.statements.append(sql)
        return execute(sql, params, many, context)


def test_the_post_routes_include_every_action() -> None:
    assert {row.name for row in POSTS} >= {
        "daemons:pool_refresh",
        "daemons:pool_add",
        "daemons:pool_edit",
        "configview:local_reload",
        "configview:local_capture",
        "configview:snapshot_fetch",
        "configview:runtime_edit",
        "configview:share_create",
        "configview:share_revoke",
        "logout",
        "login",
    }


@pytest.mark.parametrize("row", POSTS, ids=lambda row: row.id)
def test_a_post_without_a_csrf_token_is_refused_and_changes_nothing(row: Row, admin: User, no_htcondor: CutOff) -> None:
    world = make_world(admin)
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    before = _rows()

    response = client.post(world.url(row.name), row.data(world))

    assert response.status_code == 403, (row.id, response.status_code)
    assert _rows() == before
    assert no_htcondor.calls == []


@pytest.mark.parametrize("row", POSTS, ids=lambda row: row.id)
def test_a_post_with_a_wrong_csrf_token_is_refused_too(row: Row, admin: User, no_htcondor: CutOff) -> None:
    world = make_world(admin)
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    client.get("/")  # the CSRF cookie
    before = _rows()

    response = client.post(world.url(row.name), {**row.data(world), "csrfmiddlewaretoken": "x" * 64})

    assert response.status_code == 403, (row.id, response.status_code)
    assert _rows() == before


@pytest.mark.parametrize("method", ["get", "head"])
@pytest.mark.parametrize("row", GETS, ids=lambda row: row.id)
def test_a_get_writes_nothing_queues_nothing_and_changes_nothing_on_a_daemon(
    row: Row,
    method: str,
    admin: User,
    no_htcondor: CutOff,
    background_jobs: Queued,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    world = make_world(admin)
    client = Client()
    client.force_login(admin)
    before = _rows()
    writes = Writes()

    with connection.execute_wrapper(writes), django_capture_on_commit_callbacks(execute=True):
        getattr(client, method)(world.url(row.name), row.data(world))

    assert writes.statements == []
    assert _rows() == before
    assert _changes(no_htcondor) == []
    # no_htcondor runs jobs as they are queued (their writes are seen above); delayed ones stay held.
    assert background_jobs.kinds() == []


def test_the_checks_notice_a_queued_job(
    admin: User,
    no_htcondor: CutOff,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """The check above could miss background work; the Refresh button's POST shows its job's writes are seen."""
    world = make_world(admin)
    client = Client()
    client.force_login(admin)
    before = _rows()
    writes = Writes()

    with connection.execute_wrapper(writes), django_capture_on_commit_callbacks(execute=True):
        response = client.post(world.url("daemons:pool_refresh"))

    assert response.status_code == 302
    assert any(statement.lstrip().upper().startswith("UPDATE") for statement in writes.statements)
    assert ("daemons.Pool", "last_refreshed_at") in _changed(before, _rows())


def test_the_state_check_notices_a_change(admin: User, no_htcondor: CutOff) -> None:
    """The checks above could pass by looking at nothing; a real POST shows they do not."""
    world = make_world(admin)
    client = Client()
    client.force_login(admin)
    before = _rows()
    writes = Writes()

    with connection.execute_wrapper(writes):
        client.post(world.url("configview:share_revoke"))
        client.post(world.url("configview:runtime_edit"), {"knob": "UPDATE_INTERVAL", "value": "60", "action": "set"})

    assert ("configview.Share", "revoked_at") in _changed(before, _rows())
    assert any(statement.lstrip().upper().startswith("UPDATE") for statement in writes.statements)
    assert _changes(no_htcondor) == [("set", (world.daemon.address, "UPDATE_INTERVAL", "60"))]
