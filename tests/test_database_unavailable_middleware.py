"""A database that is down or locked gets a clear 503 page, never a server error."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError, connection
from django.test import Client

from daemons import selectors


def _refuse(*args: object, **kwargs: object) -> None:
    raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')


def _locked(*args: object, **kwargs: object) -> None:
    raise OperationalError("database is locked")


def test_a_page_is_a_503_when_the_database_cannot_be_reached(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connection, "ensure_connection", _refuse)

    response = client.get("/")

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "The database server cannot be reached." in response.text
    assert "Your request was not carried out." in response.text


def test_the_503_page_does_not_show_the_error_itself(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connection, "ensure_connection", _refuse)

    response = client.post("/login/", {"username": "someone", "password": "x"})

    assert response.status_code == 503
    assert "5432" not in response.text


def test_the_server_log_says_what_failed(
    client: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(connection, "ensure_connection", _refuse)

    with caplog.at_level(logging.ERROR, logger="condorweb.middleware"):
        client.get("/")

    assert "Database unavailable during GET /: connection to server" in caplog.text


def test_a_view_that_finds_the_database_locked_is_a_503(
    client: Client, viewer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.force_login(viewer)
    monkeypatch.setattr(selectors, "pools_for_user", _locked)

    response = client.get("/")

    assert response.status_code == 503
    assert "The database is busy with another change." in response.text


def test_other_errors_are_left_alone(client: Client, viewer: User, monkeypatch: pytest.MonkeyPatch) -> None:
    client.force_login(viewer)
    monkeypatch.setattr(selectors, "pools_for_user", lambda user: 1 / 0)

    with pytest.raises(ZeroDivisionError):
        client.get("/")
