"""The condor package's boundaries, read from the source: only condor/child.py imports the bindings,
and nothing in condor/ imports Django or the console's apps."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
_NOT_SOURCE = {".venv", ".git", "var", "node_modules", "staticfiles"}
BINDINGS = {"htcondor2", "classad2"}
# What condor/ may not import: Django itself (its settings arrive through
# condor.workers.configure) and every first-party package outside condor/.
FORBIDDEN_IN_CONDOR = {"django", "channels", "daemons", "configview", "condorweb", "tests", "bench"}


def imported_modules(source: str, package: str = "") -> Iterator[str]:
    """Every module ``source`` imports, absolute, including ``__import__("x")`` and ``import_module("x")``."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                yield ".".join([*base, node.module] if node.module else base)
            else:
                yield node.module or ""
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if called in ("__import__", "import_module") and isinstance(node.args[0].value, str):
                yield node.args[0].value


def source_files(root: Path) -> Iterator[tuple[str, str, str]]:
    """``(path relative to root, package, source)`` of every Python file of the project."""
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if _NOT_SOURCE.intersection(relative.parts):
            continue
        yield relative.as_posix(), ".".join(relative.parts[:-1]), path.read_text()


def importers_of(root: Path, modules: set[str]) -> set[str]:
    return {
        path
        for path, package, source in source_files(root)
        if any(name.split(".")[0] in modules for name in imported_modules(source, package))
    }


def condor_breaches(root: Path) -> set[tuple[str, str]]:
    return {
        (path, name)
        for path, package, source in source_files(root)
        if path.startswith("condor/")
        for name in imported_modules(source, package)
        if name.split(".")[0] in FORBIDDEN_IN_CONDOR
    }


def test_only_condor_child_imports_the_htcondor_bindings() -> None:
    assert importers_of(BASE_DIR, BINDINGS) == {"condor/child.py"}


def test_the_condor_package_imports_neither_django_nor_the_consoles_apps() -> None:
    assert condor_breaches(BASE_DIR) == set()


def test_the_rules_catch_every_way_of_importing(tmp_path: Path) -> None:
    (tmp_path / "condor").mkdir()
    (tmp_path / "condor" / "child.py").write_text("def main():\n    import htcondor2\n")
    (tmp_path / "condor" / "client.py").write_text(
        "from django.conf import settings\nfrom daemons.models import Pool\n"
    )
    (tmp_path / "condor" / "tools.py").write_text("import importlib\nx = importlib.import_module('configview.diff')\n")
    (tmp_path / "daemons").mkdir()
    (tmp_path / "daemons" / "views.py").write_text("from classad2 import ClassAd\n")
    (tmp_path / "daemons" / "logs.py").write_text("htcondor2 = __import__('htcondor2')\n")
    (tmp_path / "daemons" / "fine.py").write_text("CODE = 'import htcondor2'  # a string, run elsewhere\n")

    assert importers_of(tmp_path, BINDINGS) == {"condor/child.py", "daemons/views.py", "daemons/logs.py"}
    assert condor_breaches(tmp_path) == {
        ("condor/client.py", "django.conf"),
        ("condor/client.py", "daemons.models"),
        ("condor/tools.py", "configview.diff"),
    }


def test_relative_imports_are_read_from_the_package_they_start_in() -> None:
    source = "from . import workers\nfrom .errors import InvalidInput\nfrom ..daemons import models\n"
    assert list(imported_modules(source, "condor")) == ["condor", "condor.errors", "daemons"]
