"""Every environment variable the console reads is documented for the people who deploy it."""

from __future__ import annotations

import re

from tests.services import BASE_DIR

# Where the code reads its configuration: env_* helpers and os.environ look-ups.
_READ = re.compile(
    r"""(?:env_(?:str|bool|int|float|list)\(|os\.environ\.get\(|os\.environ\[|getenv\()\s*["']([A-Z][A-Z0-9_]+)["']"""
)
_NOT_CODE = {"tests", "bench", ".venv", "migrations", "node_modules"}
# The system's own, with their usual meaning.
_GENERAL = {"PATH", "HOME", "XDG_CACHE_HOME", "DJANGO_SETTINGS_MODULE"}


def _variables_read_by_the_console() -> set[str]:
    found: set[str] = set()
    for path in BASE_DIR.rglob("*.py"):
        if _NOT_CODE.intersection(path.relative_to(BASE_DIR).parts):
            continue
        found.update(_READ.findall(path.read_text()))
    # _CONDOR_* are set for HTCondor's client by the protocol module, not read.
    return {name for name in found - _GENERAL if not name.startswith("_CONDOR_")}


def test_every_variable_the_console_reads_is_documented() -> None:
    documentation = (BASE_DIR / "README.md").read_text() + (BASE_DIR / "docs" / "deployment.md").read_text()

    undocumented = sorted(name for name in _variables_read_by_the_console() if f"`{name}`" not in documentation)

    assert undocumented == [], "document these in README.md's table or docs/deployment.md"


def test_the_scan_finds_the_settings_variables() -> None:
    assert {"DATABASE_URL", "REDIS_URL", "CONDORWEB_SECRET_KEY", "CONDORWEB_HTTPS"} <= _variables_read_by_the_console()
