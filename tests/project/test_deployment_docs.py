"""Every environment variable the console reads is documented for the people who deploy it,
and every documented variable is read and acts on something."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

from tests.servers import BASE_DIR

# Where the code reads its configuration: env_* helpers and look-ups in
# os.environ or a mapping passed in its place (``environ.get(...)``); an
# assignment to environ[...] sets a variable, it does not read one.
_READ = re.compile(
    r"""(?:env_(?:str|bool|int|float|list)\(|\benviron\.get\(|\benviron\[|getenv\()\s*["']([A-Z][A-Z0-9_]+)["'](?!\]\s*=[^=])"""
)
_SHELL_READ = re.compile(r"\$\{?([A-Z][A-Z0-9_]+)")
_NOT_CODE = {"tests", "bench", ".venv", "migrations", "node_modules"}
_NOT_SOURCE = {".venv", ".git", "migrations", "node_modules", "staticfiles", "var"}
# The system's own, with their usual meaning.
_GENERAL = {"PATH", "HOME", "XDG_CACHE_HOME", "DJANGO_SETTINGS_MODULE"}
_DOCUMENTS = ["README.md", "SECURITY.md", "BENCHMARKS.md", "CONTRIBUTING.md", "docs/*.md"]
# A variable as the documents name it: `CONDORWEB_…` anywhere, or any name in
# the first column of a table row (DATABASE_URL, REDIS_URL, CONDOR_CONFIG).
_DOCUMENTED_NAME = re.compile(r"`(CONDORWEB_[A-Z0-9_]*[A-Z0-9])`")
_TABLE_ROW = re.compile(r"^\|([^|]*)\|", re.MULTILINE)
_NAME_IN_CELL = re.compile(r"`([A-Z][A-Z0-9_]*_[A-Z0-9_]*[A-Z0-9])`")


def _sources(*, skip: set[str]) -> list[Path]:
    return [path for path in BASE_DIR.rglob("*.py") if not skip.intersection(path.relative_to(BASE_DIR).parts)]


def _variables_read_by_the_console() -> set[str]:
    found: set[str] = set()
    for path in _sources(skip=_NOT_CODE):
        found.update(_READ.findall(path.read_text()))
    # _CONDOR_* are set for HTCondor's client by the condor package (condor/child.py), not read.
    return {name for name in found - _GENERAL if not name.startswith("_CONDOR_")}


def _variables_read_anywhere() -> set[str]:
    """Read by the console, its benchmarks, scripts, Makefile or test tooling (CONDORWEB_REQUIRE_POOL)."""
    found: set[str] = set()
    for path in _sources(skip=_NOT_SOURCE):
        found.update(_READ.findall(path.read_text()))
    shell = [BASE_DIR / "Makefile", *BASE_DIR.glob("scripts/*"), *BASE_DIR.glob(".ci/*")]
    for path in shell:
        if path.is_file():
            found.update(_SHELL_READ.findall(path.read_text()))
    return found


def _documented_variables() -> dict[str, str]:
    """Each variable the documents name, with the first document naming it."""
    documented: dict[str, str] = {}
    for pattern in _DOCUMENTS:
        for path in sorted(BASE_DIR.glob(pattern)):
            text = path.read_text()
            names = set(_DOCUMENTED_NAME.findall(text))
            for cell in _TABLE_ROW.findall(text):
                names.update(name for name in _NAME_IN_CELL.findall(cell) if name.isupper())
            for name in names:
                documented.setdefault(name, str(path.relative_to(BASE_DIR)))
    return documented


def _the_console_settings() -> set[str]:
    """Settings settings.py defines for the console's own code (CONDORWEB_*); Django's own are read by Django."""
    return {name for name in dir(settings) if name.startswith("CONDORWEB_")}


def test_every_variable_the_console_reads_is_documented() -> None:
    documentation = (BASE_DIR / "README.md").read_text() + (BASE_DIR / "docs" / "deployment.md").read_text()

    undocumented = sorted(name for name in _variables_read_by_the_console() if f"`{name}`" not in documentation)

    assert undocumented == [], "document these in README.md's table or docs/deployment.md"


def test_every_documented_variable_is_read() -> None:
    read = _variables_read_anywhere()

    unread = sorted(f"{name} ({where})" for name, where in _documented_variables().items() if name not in read)

    assert unread == [], "nothing reads these documented variables: drop them from the documents or read them"


def test_every_setting_of_the_console_is_used_outside_settings() -> None:
    code = "\n".join(
        path.read_text() for path in _sources(skip=_NOT_CODE) if path != BASE_DIR / "condorweb" / "settings.py"
    )

    unused = sorted(name for name in _the_console_settings() if not re.search(rf"\b{name}\b", code))

    assert unused == [], "settings.py reads these from the environment but no code uses them"


def test_the_scan_finds_the_settings_variables() -> None:
    assert {"DATABASE_URL", "REDIS_URL", "CONDORWEB_SECRET_KEY", "CONDORWEB_HTTPS"} <= _variables_read_by_the_console()


def test_the_scan_finds_the_documented_variables() -> None:
    documented = _documented_variables()

    assert {"DATABASE_URL", "REDIS_URL", "CONDOR_CONFIG", "CONDORWEB_REQUIRE_POOL", "CONDORWEB_DB_POOL_TIMEOUT"} <= set(
        documented
    )
    assert "CONDORWEB_" not in documented  # `CONDORWEB_*`, a pattern of knobs, is no variable
