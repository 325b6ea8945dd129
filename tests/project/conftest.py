"""The project-wide tests' fixtures."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client


@pytest.fixture
def logged_in(viewer: User) -> Client:
    # A logged-in browser: every page then reads its session from the database.
    client = Client(raise_request_exception=False)
    client.force_login(viewer)
    return client
