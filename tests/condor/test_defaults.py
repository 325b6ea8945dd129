"""The condor package's defaults are the console's: one value each, the one README documents."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from condor.workers import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


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

