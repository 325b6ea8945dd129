"""A database that is down or locked gets a clear 503 page, never a server error."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from unittest import mock

import pytest
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import AsyncClient, Client

from daemons.inventory import selectors


def _refuse(*args: object, **kwargs: object) -> None:
    raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')


def _locked(*args: object, **kwargs: object) -> None:
    raise OperationalError("database is locked")


@pytest.fixture
def database_down(db: None) -> Iterator[None]:
    """Every connection, in every thread, fails as with PostgreSQL stopped (until the test database is torn down)."""
    with mock.patch.object(BaseDatabaseWrapper, "ensure_connection", _refuse):
        yield


def test_a_page_is_a_503_when_the_database_cannot_be_reached(logged_in: Client, database_down: None) -> None:
    response = logged_in.get("/")

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "The database server cannot be reached." in response.text
    assert "Your request was not carried out." in response.text


async def test_a_page_is_a_503_under_asgi_too(logged_in: Client, database_down: None) -> None:
    client = AsyncClient(raise_request_exception=False)
    client.cookies = logged_in.cookies

    response = await client.get("/")

    assert response.status_code == 503
    assert "The database server cannot be reached." in response.text


def test_the_503_page_does_not_show_the_error_itself(logged_in: Client, database_down: None) -> None:
    response = logged_in.post("/logout/")

    assert response.status_code == 503
    assert "5432" not in response.text


def test_the_server_log_says_what_failed(
    logged_in: Client, database_down: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="condorweb.errors"):
        logged_in.get("/")

    assert "Database unavailable during GET /: connection to server" in caplog.text


def test_a_view_that_finds_the_database_locked_is_a_503(logged_in: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(selectors, "pools_for_user", _locked)

    response = logged_in.get("/")

    assert response.status_code == 503
    assert "The database is busy with another change." in response.text


def test_other_errors_are_still_a_plain_500(logged_in: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(selectors, "pools_for_user", lambda user: 1 / 0)

    response = logged_in.get("/")

    assert response.status_code == 500
    assert "database" not in response.text
