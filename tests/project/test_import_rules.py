"""The apps' boundaries, read from the source: configview reaches into daemons only through its shared modules
and its subpackages' services and selectors, and no module takes a private name from another app."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.condor.test_import_rules import BASE_DIR, source_files

# Packages whose modules count as app code for the private-name rule (tests patch private seams on purpose).
APP_PACKAGES = {"condor", "engine", "daemons", "configview", "condorweb", "devtools", "bench", "scripts"}
# What configview may import from daemons: the shared top level, and what the subpackages offer other apps.
CONFIGVIEW_MAY_IMPORT = {
    "daemons.models",
    "daemons.permissions",
    "daemons.access",
    "daemons.crumbs",
}
DAEMONS_SUBPACKAGES = ("inventory", "commands", "logs")
PUBLIC_LAYERS = ("services", "selectors")


def _app(path: str) -> str:
    return path.split("/")[0]


def configview_breaches(root: Path) -> set[tuple[str, str]]:
    """``(path, module)`` for each import by configview of a daemons module it may not use."""
    allowed = CONFIGVIEW_MAY_IMPORT | {
        f"daemons.{sub}.{layer}" for sub in DAEMONS_SUBPACKAGES for layer in PUBLIC_LAYERS
    }
    return {
        (path, name)
        for path, _, source in source_files(root)
        if path.startswith("configview/")
        for name in _modules_named(source)
        if name.split(".")[0] == "daemons" and not any(name == ok or name.startswith(ok + ".") for ok in allowed)
    }


def _modules_named(source: str) -> Iterator[str]:
    """The module of each import; for ``from m import x``, ``m.x``, since x may be a module (a name in m passes
    wherever m does)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if called in ("__import__", "import_module") and isinstance(node.args[0].value, str):
                yield node.args[0].value


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_breaches(root: Path) -> set[tuple[str, str]]:
    """``(path, name)`` for each private name app code takes from another app: imported, or read off a module."""
    found: set[tuple[str, str]] = set()
    for path, _, source in source_files(root):
        app = _app(path)
        if app not in APP_PACKAGES:
            continue
        foreign_aliases: dict[str, str] = {}
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and not node.level and node.module:
                if node.module.split(".")[0] == app or node.module.split(".")[0] not in APP_PACKAGES:
                    continue
                for alias in node.names:
                    if _is_private(alias.name):
                        found.add((path, f"{node.module}.{alias.name}"))
                    foreign_aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in APP_PACKAGES and alias.name.split(".")[0] != app:
                        bound = alias.asname or alias.name.split(".")[0]
                        foreign_aliases[bound] = alias.name if alias.asname else bound
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Attribute) and _is_private(node.attr):
                base = node.value
                while isinstance(base, ast.Attribute):
                    base = base.value
                if isinstance(base, ast.Name) and base.id in foreign_aliases:
                    found.add((path, f"{foreign_aliases[base.id]}…{node.attr}"))
    return found


def test_configview_imports_from_daemons_only_its_shared_modules_and_public_services_and_selectors() -> None:
    assert configview_breaches(BASE_DIR) == set()


def engine_breaches(root: Path) -> set[tuple[str, str]]:
    """``(path, module)`` for each import by the engine of an app above it: it hears them through signals."""
    return {
        (path, name)
        for path, _, source in source_files(root)
        if path.startswith("engine/")
        for name in _modules_named(source)
        if name.split(".")[0] in ("daemons", "configview", "devtools")
    }


def test_the_engine_imports_none_of_the_apps_that_queue_jobs_on_it() -> None:
    assert engine_breaches(BASE_DIR) == set()


def test_no_app_module_takes_a_private_name_from_another_app() -> None:
    assert private_breaches(BASE_DIR) == set()


def test_the_rules_catch_what_they_forbid(tmp_path: Path) -> None:
    (tmp_path / "configview").mkdir()
    (tmp_path / "configview" / "views.py").write_text(
        "from daemons.commands.views import daemon_command\n"
        "from daemons import events\n"
        "import daemons.logs.logstream\n"
        "from daemons.commands.services import ClientInfo\n"
        "from daemons.access import daemon_for\n"
        "from daemons.inventory import selectors\n"
        "x = importlib.import_module('daemons.logs.views')\n"
    )
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "commands.py").write_text(
        "from daemons.commands import audit, services\n"
        "from daemons.commands.services import _unset_from_the_end\n"
        "services._batch_send(1)\n"
        "services.__name__\n"
        "audit.attempt(print)\n"
    )
    (tmp_path / "daemons").mkdir()
    (tmp_path / "daemons" / "own.py").write_text("from daemons.commands.services import _unset_from_the_end\n")
    (tmp_path / "engine").mkdir()
    (tmp_path / "engine" / "queue.py").write_text("from daemons.models import Pool\nfrom engine import workers\n")

    assert configview_breaches(tmp_path) == {
        ("configview/views.py", "daemons.commands.views.daemon_command"),
        ("configview/views.py", "daemons.events"),
        ("configview/views.py", "daemons.logs.logstream"),
        ("configview/views.py", "daemons.logs.views"),
    }
    assert private_breaches(tmp_path) == {
        ("bench/commands.py", "daemons.commands.services._unset_from_the_end"),
        ("bench/commands.py", "daemons.commands.services…_batch_send"),
    }
    assert engine_breaches(tmp_path) == {("engine/queue.py", "daemons.models.Pool")}
