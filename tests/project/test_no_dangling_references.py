"""What comments and docstrings cite as ``module.Name`` exists: no names left from before a rename."""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)

_APP_CODE = ("condorweb", "daemons", "configview", "condor", "bench", "scripts")
# ``module.Name`` in double backquotes, e.g. ``consumers._LogConsumer``; resolved in the file's package.
_DOTTED = re.compile(r"``([a-z_][a-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)``")


def _app_files() -> list[Path]:
    return [
        path
        for top in _APP_CODE
        if (BASE_DIR / top).is_dir()
        for path in (BASE_DIR / top).rglob("*.py")
        if "migrations" not in path.parts
    ]


def _references() -> list[tuple[Path, str, str]]:
    return [(path, module, name) for path in _app_files() for module, name in _DOTTED.findall(path.read_text())]


def _resolves(path: Path, module: str, name: str) -> bool:
    package = ".".join(path.relative_to(BASE_DIR).parent.parts)
    for candidate in (f"{package}.{module}", module):
        try:
            found = importlib.import_module(candidate)
        except ImportError:
            continue
        return hasattr(found, name) or importlib.util.find_spec(f"{candidate}.{name}") is not None
    return True  # not a module of ours (``htcondor2.Collector``, ``settings.X``): not ours to check


def test_the_scan_finds_references() -> None:
    assert any(module == "consumers" for _, module, _ in _references())


@pytest.mark.parametrize("path, module, name", _references(), ids=lambda v: str(v).rsplit("/", 1)[-1])
def test_a_dotted_reference_in_a_comment_names_something_that_exists(path: Path, module: str, name: str) -> None:
    assert _resolves(path, module, name), f"{path.relative_to(BASE_DIR)} names {module}.{name}, which does not exist"
