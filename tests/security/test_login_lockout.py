"""Failed log-ins lock out that user from that address (django-axes), in one process on SQLite.

tests/project/test_multiprocess.py checks the same across two daphne processes on PostgreSQL.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import PASSWORD

GUESSER = "203.0.113.7"
ELSEWHERE = "203.0.113.8"


def _log_in(username: str, password: str, address: str) -> tuple[int, str, bool]:
    client = Client(REMOTE_ADDR=address)
    response = client.post("/login/", {"username": username, "password": password})
    return response.status_code, response.content.decode(), "_auth_user_id" in client.session


def _lock_out(username: str, limit: int) -> None:
    _fail(username, limit - 1)
    assert _log_in(username, "last-guess", GUESSER)[0] == 429


def _fail(username: str, times: int, address: str = GUESSER) -> None:
    for attempt in range(times):
        status, _, logged_in = _log_in(username, f"wrong-{attempt}", address)
        # The failure that reaches the limit is answered with the locked-out page already.
        assert (status, logged_in) == (200, False), attempt


@pytest.fixture
def limit(settings) -> int:
    return settings.AXES_FAILURE_LIMIT


def test_the_right_password_is_refused_with_the_locked_out_page_after_too_many_failures(
    viewer: User, limit: int
) -> None:
    _lock_out(viewer.username, limit)

    status, body, logged_in = _log_in(viewer.username, PASSWORD, GUESSER)

    assert status == 429
    assert "Too many failed log-ins" in body
    assert not logged_in


def test_one_failure_fewer_than_the_limit_still_lets_the_user_in(viewer: User, limit: int) -> None:
    _fail(viewer.username, limit - 1)

    assert _log_in(viewer.username, PASSWORD, GUESSER)[2]


def test_the_same_user_from_another_address_is_not_locked_out(viewer: User, limit: int) -> None:
    _lock_out(viewer.username, limit)

    status, _, logged_in = _log_in(viewer.username, PASSWORD, ELSEWHERE)

    assert (status, logged_in) == (302, True)


def test_another_user_from_the_same_address_is_not_locked_out(viewer: User, operator: User, limit: int) -> None:
    _lock_out(viewer.username, limit)

    assert _log_in(operator.username, PASSWORD, GUESSER)[2]


def test_the_limit_is_the_setting(viewer: User, settings) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    _lock_out(viewer.username, 2)

    assert _log_in(viewer.username, PASSWORD, GUESSER)[0] == 429


def test_a_locked_out_address_reaches_no_page_by_guessing_on(viewer: User, limit: int) -> None:
    _lock_out(viewer.username, limit)
    for attempt in range(3):
        assert _log_in(viewer.username, f"more-{attempt}", GUESSER)[0] == 429

    status, body, _ = _log_in(viewer.username, PASSWORD, GUESSER)
    assert status == 429 and "Too many failed log-ins" in body
