"""Production settings pass Django's deployment checklist."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from tests.services import BASE_DIR


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
            **overrides,
        }
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=environment, cwd=BASE_DIR, capture_output=True, text=True, timeout=120, check=False,
    )


def test_the_deployment_checklist_is_clean_with_production_settings(tmp_path: Path) -> None:
    result = _check_deploy(tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_checklist_warns_when_https_is_off(tmp_path: Path) -> None:
    result = _check_deploy(tmp_path, CONDORWEB_HTTPS="0")

    assert result.returncode != 0
    assert "security.W012" in result.stderr  # SESSION_COOKIE_SECURE
