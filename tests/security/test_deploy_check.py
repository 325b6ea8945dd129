"""Production settings pass Django's deployment checklist."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from tests.servers import BASE_DIR


def _check_deploy(tmp_path: Path, **overrides: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("CONDORWEB_", "DATABASE_URL"))
    }
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "condorweb.settings",
            "CONDORWEB_HTTPS": "1",
            "CONDORWEB_BEHIND_PROXY": "1",
            "CONDORWEB_SECRET_KEY": secrets.token_urlsafe(64),
            "CONDORWEB_DEBUG": "0",
            "CONDORWEB_ALLOWED_HOSTS": "condorweb.example.org",
            "CONDORWEB_CSRF_TRUSTED_ORIGINS": "https://condorweb.example.org",
            "CONDORWEB_DATA_DIR": str(tmp_path),
            # The suite runs as root (the dev pool's chroot needs it); the
            # refusal itself is tested below.
            "CONDORWEB_ALLOW_ROOT": "1" if os.geteuid() == 0 else "0",
            **overrides,
        }
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=environment,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_deployment_checklist_is_clean_with_production_settings(tmp_path: Path) -> None:
    result = _check_deploy(tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_checklist_warns_when_https_is_off(tmp_path: Path) -> None:
    result = _check_deploy(tmp_path, CONDORWEB_HTTPS="0")

    assert result.returncode != 0
    assert "security.W012" in result.stderr  # SESSION_COOKIE_SECURE


def test_production_settings_refuse_to_start_as_root_unless_allowed(tmp_path: Path) -> None:
    script = "import os; os.geteuid = lambda: 0; import django; django.setup()"
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("CONDORWEB_", "DATABASE_URL"))
    } | {
        "DJANGO_SETTINGS_MODULE": "condorweb.settings",
        "CONDORWEB_HTTPS": "1",
        "CONDORWEB_DATA_DIR": str(tmp_path),
        "CONDORWEB_SECRET_KEY": secrets.token_urlsafe(64),
    }

    def start(**extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", script],
            env=environment | extra,
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    refused, allowed, development = start(), start(CONDORWEB_ALLOW_ROOT="1"), start(CONDORWEB_HTTPS="0")
    assert refused.returncode != 0 and "refuses to run as root with CONDORWEB_HTTPS=1" in refused.stderr
    assert allowed.returncode == 0, allowed.stderr
    assert development.returncode == 0, development.stderr


def test_a_deployment_does_not_install_the_dev_pools_tooling(tmp_path: Path) -> None:
    result = _check_deploy(tmp_path)
    commands = subprocess.run(
        [sys.executable, "manage.py", "help", "--commands"],
        env={
            **os.environ,
            "CONDORWEB_HTTPS": "1",
            "CONDORWEB_ALLOW_ROOT": "1",
            "CONDORWEB_DATA_DIR": str(tmp_path),
            "CONDORWEB_SECRET_KEY": secrets.token_urlsafe(64),
            "CONDORWEB_ALLOWED_HOSTS": "condorweb.example.org",
        },
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "migrate" in commands.stdout.split()
    assert "devpool" not in commands.stdout.split()
