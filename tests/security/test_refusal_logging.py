"""A refused request is one line in the console's log: reason, user, method, path, status; no traceback."""

from __future__ import annotations

import io

from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.urls import reverse


def _client(user: User, log: io.StringIO) -> Client:
    client = Client()
    client.force_login(user)
    # Logging in writes lines of its own (django-axes); only what follows counts.
    log.seek(0)
    log.truncate()
    return client


def test_a_permission_refusal_is_one_warning_line_naming_the_user(nobody: User, console_log: io.StringIO) -> None:
    response = _client(nobody, console_log).get(reverse("daemons:pool_add"))

    assert response.status_code == 403
    lines = console_log.getvalue().splitlines()
    assert len(lines) == 1
    assert "WARNING django.request Refused user=nora-nogroup GET /pool/add/ (403)" in lines[0]


def test_a_foreign_host_header_is_one_warning_line_not_an_error_with_a_traceback(
    db: None, console_log: io.StringIO
) -> None:
    response = Client(HTTP_HOST="evil.example").get("/login/")

    assert response.status_code == 400
    lines = console_log.getvalue().splitlines()
    assert len(lines) == 1
    assert "WARNING django.security.DisallowedHost Refused user=? GET /login/ (400): Invalid HTTP_HOST" in lines[0]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_body_too_large_is_one_line(admin: User, console_log: io.StringIO) -> None:
    response = _client(admin, console_log).post(reverse("daemons:pool_add"), {"description": "x" * 5000})

    assert response.status_code == 400
    lines = console_log.getvalue().splitlines()
    assert len(lines) == 1
    assert "django.security.RequestDataTooBig Refused user=alice-admin POST /pool/add/ (400)" in lines[0]


@override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=10)
def test_too_many_fields_is_one_line(admin: User, console_log: io.StringIO) -> None:
    response = _client(admin, console_log).post(reverse("daemons:pool_add"), {f"f{i}": "x" for i in range(50)})

    assert response.status_code == 400
    lines = console_log.getvalue().splitlines()
    assert len(lines) == 1
    assert "django.security.TooManyFieldsSent Refused user=alice-admin POST /pool/add/ (400)" in lines[0]


def test_a_path_cannot_start_a_second_log_line(nobody: User, console_log: io.StringIO) -> None:
    _client(nobody, console_log).get("/pool/add/%0Aforged INFO line")

    assert len(console_log.getvalue().splitlines()) == 1
