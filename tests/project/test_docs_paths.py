"""Every test file the Markdown documents name exists: no path left from before a move."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
# ``tests/inventory/test_pool_list_view.py`` anywhere in the text, quoted or not.
_TEST_PATH = re.compile(r"(?<![\w/.])tests/[\w/]*\w\.py\b")


def _documents() -> list[Path]:
    return sorted(
        path for path in BASE_DIR.rglob("*.md") if not {".venv", ".git", "node_modules", "var"}.intersection(path.parts)
    )


def named_paths(text: str) -> set[str]:
    return set(_TEST_PATH.findall(text))


def test_the_scan_finds_the_paths_the_documents_name() -> None:
    assert named_paths("see `tests/security/test_fuzzing.py` and tests/x/test_y.py, not mytests/z.py") == {
        "tests/security/test_fuzzing.py",
        "tests/x/test_y.py",
    }
    assert "SECURITY.md" in {path.name for path in _documents()}


@pytest.mark.parametrize("document", _documents(), ids=lambda path: str(path.relative_to(BASE_DIR)))
def test_every_test_path_a_document_names_exists(document: Path) -> None:
    missing = {path for path in named_paths(document.read_text()) if not (BASE_DIR / path).is_file()}
    assert missing == set(), f"{document.relative_to(BASE_DIR)} names test files that do not exist"
