"""SECURITY.md says what the code does: its permissions table is GROUP_PERMISSIONS, its tests exist."""

from __future__ import annotations

import re

from daemons.permissions import GROUP_PERMISSIONS
from tests.servers import BASE_DIR

DOC = (BASE_DIR / "SECURITY.md").read_text()


def _table() -> dict[str, set[str]]:
    start = DOC.index("<!-- permissions table")
    end = DOC.index("<!-- end of permissions table -->")
    lines = [line for line in DOC[start:end].splitlines() if line.startswith("|")]
    groups = [cell.strip() for cell in lines[0].strip("|").split("|")][2:]
    granted: dict[str, set[str]] = {group: set() for group in groups}
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        permission = cells[0].strip("`")
        for group, mark in zip(groups, cells[2:], strict=True):
            if mark:
                granted[group].add(permission)
    return granted


def test_the_permissions_table_is_group_permissions() -> None:
    assert _table() == {group: set(perms) for group, perms in GROUP_PERMISSIONS.items()}


def test_every_test_file_it_names_exists() -> None:
    named = set(re.findall(r"`(tests/[\w/]+\.py)`", DOC))
    assert named, "SECURITY.md names the tests that prove each point"
    assert {path for path in named if not (BASE_DIR / path).is_file()} == set()


def test_it_says_how_to_report_a_vulnerability() -> None:
    assert "## Reporting a vulnerability" in DOC
