"""The condor package's settings are the console's: one default each, the one README documents, and
every setting it names to an operator exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from condor.workers import Settings

BASE_DIR = Path(__file__).resolve().parents[2]
README = BASE_DIR / "README.md"


def documented_default(variable: str) -> str:
    found = re.search(rf"^\| `{variable}` \| `([^`]*)` \|", README.read_text(), re.M)
    assert found, f"README's configuration table has no row for {variable}"
    return found.group(1)


@pytest.mark.parametrize(
    ("variable", "field"),
    [
        ("CONDORWEB_HTCONDOR_TIMEOUT", "timeout"),
        ("CONDORWEB_WORKERS_PER_POOL", "workers_per_pool"),
        ("CONDORWEB_FETCH_WORKERS", "fetch_workers"),
    ],
)
def test_an_unconfigured_condor_package_uses_the_documented_default(variable: str, field: str) -> None:
    default = getattr(Settings(), field)
    assert default == type(default)(documented_default(variable))


def test_every_console_setting_the_condor_package_names_exists() -> None:
    named = {
        (path.name, name)
        for path in (BASE_DIR / "condor").glob("*.py")
        for name in re.findall(r"\bCONDORWEB_[A-Z0-9_]+", path.read_text())
    }
    assert named, "the package names no setting at all: the scan is broken"
    assert {(module, name) for module, name in named if not hasattr(settings, name)} == set()
