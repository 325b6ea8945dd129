"""Create the first administrator if there is none, and say how to log in."""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand

from daemons.permissions import ADMINISTRATORS


class Command(BaseCommand):
    help = "Create an administrator account on first run (password from CONDORWEB_ADMIN_PASSWORD or generated)."

    def handle(self, *args: Any, **options: Any) -> None:
        username = os.environ.get("CONDORWEB_ADMIN_USER", "admin")
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write(
                f"Log in at http://127.0.0.1:8000/ with your administrator account "
                f"(reset a password with: .venv/bin/python manage.py changepassword {username})."
            )
            return
        password = os.environ.get("CONDORWEB_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        user = User.objects.create_superuser(username=username, password=password, email="")
        user.groups.add(Group.objects.get(name=ADMINISTRATORS))
        shown = password if "CONDORWEB_ADMIN_PASSWORD" not in os.environ else "(from CONDORWEB_ADMIN_PASSWORD)"
        self.stdout.write(self.style.SUCCESS(f"Created administrator {username!r}, password: {shown}"))
        self.stdout.write("This password is shown only once. Log in at http://127.0.0.1:8000/")
