"""Comparing two configurations knob by knob. Pure: no Django, no HTCondor.

Values come in two shapes: the console host's own configuration is typed by
HTCondor's parameter table (300, True, 0.5), a remote daemon's arrives as
text ("300", "true", "10000*1024"), and a knob a daemon does not define is
None. Two values are equal when their canonical forms are, where the
canonical form follows the knob's declared type.
"""

from __future__ import annotations

import ast
import fnmatch
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

Value = str | int | float | bool

ADDED = "added"
REMOVED = "removed"
CHANGED = "changed"
SAME = "same"
STATUSES = (ADDED, REMOVED, CHANGED, SAME)


@dataclass(frozen=True)
class Side:
    """One configuration as the diff sees it.

    ``hashes`` holds, for each knob whose value is hidden, a keyed hash of the
    value's canonical form: ``values`` then holds only a marker.
    """

    values: Mapping[str, Value | None]
    types: Mapping[str, str] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)
    hashes: Mapping[str, str] = field(default_factory=dict)


# Cells and rows are tuples: a diff makes thousands of them per page.
class Cell(NamedTuple):
    text: str | None  # None: the knob is not defined on this side
    hidden: bool = False
    source: str = ""


class Row(NamedTuple):
    name: str
    status: str
    type: str
    left: Cell
    right: Cell


@dataclass(frozen=True)
class Diff:
    rows: list[Row]
    counts: dict[str, int]

    def select(
        self, *, only_differences: bool = True, query: str = "", leave_out: frozenset[str] = frozenset()
    ) -> list[Row]:
        matches = name_matcher(query)
        return [
            r
            for r in self.rows
            if (not only_differences or r.status != SAME) and matches(r.name) and r.name not in leave_out
        ]


def name_matcher(query: str) -> Callable[[str], bool]:
    """Case-insensitive: a substring, or a shell pattern where the query has * or ?."""
    query = query.strip().upper()
    if not query:
        return lambda name: True
    if any(ch in query for ch in "*?["):
        return lambda name: fnmatch.fnmatchcase(name.upper(), query)
    return lambda name: query in name.upper()


# --------------------------------------------------------------------------
# Canonical forms.
# --------------------------------------------------------------------------

# HTCondor reads a boolean knob as true/false (any case) or 1/0; anything
# else it evaluates as an expression, which is compared as text here.
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


def canonical(value: Value | None, declared: str = "") -> str | None:
    """The form two values of one knob are compared in; None stays None (undefined)."""
    if value is None:
        return None
    if declared == "bool":
        flag = _as_bool(value)
        if flag is not None:
            return "true" if flag else "false"
    elif declared in ("int", "float"):
        number = _as_number(value)
        if number is not None and math.isfinite(number):
            if declared == "int" and number == int(number):
                return str(int(number))
            return repr(float(number))
    return display(value).strip()


def display(value: Value) -> str:
    """A value as HTCondor would print it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _as_bool(value: Value) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


_BINARY: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Mod: operator.mod,
}


def _as_number(value: Value) -> int | float | None:
    """A number, or a constant arithmetic expression such as ``10000*1024`` evaluated as a ClassAd would."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    text = value.strip()
    if not text or len(text) > 200:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return _evaluate(ast.parse(text, mode="eval").body)
    except (SyntaxError, ValueError, ZeroDivisionError, OverflowError, RecursionError):
        return None


def _evaluate(node: ast.AST) -> int | float:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = _evaluate(node.operand)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Div):
            # ClassAd integer division truncates toward zero.
            if isinstance(left, int) and isinstance(right, int):
                quotient = abs(left) // abs(right)
                return quotient if (left >= 0) == (right >= 0) else -quotient
            return left / right
        op = _BINARY.get(type(node.op))
        if op is not None:
            return op(left, right)
    raise ValueError("not a constant arithmetic expression")


# --------------------------------------------------------------------------
# The comparison.
# --------------------------------------------------------------------------


def compare(left: Side, right: Side) -> Diff:
    """Every knob either side knows, with its status (left is "before", right "after").

    Knob names are case-insensitive in HTCondor (a daemon lists a runtime
    value under the lower-cased name it was set with), so they are matched
    without regard to case.
    """
    left_names, right_names = _by_folded_name(left), _by_folded_name(right)
    counts = dict.fromkeys(STATUSES, 0)
    rows = []
    for folded in sorted(left_names.keys() | right_names.keys()):
        left_name, right_name = left_names.get(folded, ""), right_names.get(folded, "")
        declared = left.types.get(left_name) or right.types.get(right_name) or ""
        left_value, left_cell = _entry(left, left_name)
        right_value, right_cell = _entry(right, right_name)
        if left_value is None or right_value is None:
            status = SAME if left_value is right_value else ADDED if left_value is None else REMOVED
        elif left_cell.hidden or right_cell.hidden:
            status = SAME if left.hashes.get(left_name) == right.hashes.get(right_name) else CHANGED
        elif type(left_value) is type(right_value) and left_value == right_value:
            status = SAME  # the common case, without working out canonical forms
        else:
            status = SAME if canonical(left_value, declared) == canonical(right_value, declared) else CHANGED
        counts[status] += 1
        rows.append(Row(left_name or right_name, status, declared, left_cell, right_cell))
    return Diff(rows=rows, counts=counts)


def _by_folded_name(side: Side) -> dict[str, str]:
    return {name.upper(): name for name in side.values}


_ABSENT = Cell(None)


def cell(side: Side, name: str) -> Cell:
    """One knob of one side as a page shows it."""
    return _entry(side, name)[1]


def _entry(side: Side, name: str) -> tuple[Value | None, Cell]:
    if not name:
        return None, _ABSENT
    value = side.values.get(name)
    source = side.sources.get(name, "")
    if value is None:
        return None, Cell(None, False, source)
    if name in side.hashes:
        return value, Cell("", True, source)
    return value, Cell(display(value), False, source)
