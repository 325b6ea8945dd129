"""configview.diff: comparing configurations knob by knob, by each knob's declared type."""

from __future__ import annotations

import pytest

from configview.diff import ADDED, CHANGED, REMOVED, SAME, Side, canonical, compare, name_matcher


def status_of(name: str, left: Side, right: Side) -> str:
    return next(r.status for r in compare(left, right).rows if r.name == name)


# --------------------------------------------------------------------------
# Canonical forms.
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "remote", "declared"),
    [
        (300, "300", "int"),
        (300, " 300 ", "int"),
        (10240000, "10000*1024", "int"),
        (131072, "128 * 1024", "int"),
        (-5, "-5", "int"),
        (2, "7/3", "int"),
        (True, "TRUE", "bool"),
        (True, "true", "bool"),
        (False, "False", "bool"),
        (True, "1", "bool"),
        (0.5, "0.50", "float"),
        (1.0, "1", "float"),
        (2.5, "5/2.0", "float"),
        ("/var/log", "/var/log", "str"),
    ],
)
def test_values_equal_under_the_declared_type_have_one_canonical_form(local, remote, declared) -> None:
    assert canonical(local, declared) == canonical(remote, declared)


@pytest.mark.parametrize(
    ("a", "b", "declared"),
    [
        (300, "5", "int"),
        (True, "false", "bool"),
        (0.5, "0.25", "float"),
        ("TRUE", "true", "str"),  # text knobs keep their case
        ("300", "300.0", "str"),
    ],
)
def test_different_values_keep_different_canonical_forms(a, b, declared) -> None:
    assert canonical(a, declared) != canonical(b, declared)


def test_undefined_stays_undefined_whatever_the_type() -> None:
    assert canonical(None, "int") is None
    assert canonical(None, "") is None


@pytest.mark.parametrize("text", ["$(OTHER)", "2**64", "__import__('os')", "1/0", "x" * 500, ""])
def test_anything_but_constant_arithmetic_is_compared_as_text(text) -> None:
    assert canonical(text, "int") == text.strip()


def test_classad_integer_division_truncates_toward_zero() -> None:
    assert canonical("-7/2", "int") == "-3"


def test_an_unknown_type_compares_typed_local_values_as_htcondor_prints_them() -> None:
    assert canonical(True, "") == canonical("true", "")
    assert canonical(300, "") == canonical("300", "")


# --------------------------------------------------------------------------
# The comparison.
# --------------------------------------------------------------------------


def test_it_counts_added_removed_changed_and_same_knobs() -> None:
    left = Side(values={"A": "1", "B": "2", "C": "3", "D": None})
    right = Side(values={"A": "1", "B": "20", "E": "5", "D": None})
    result = compare(left, right)
    assert result.counts == {ADDED: 1, REMOVED: 1, CHANGED: 1, SAME: 2}
    assert [(r.name, r.status) for r in result.rows] == [
        ("A", SAME),
        ("B", CHANGED),
        ("C", REMOVED),
        ("D", SAME),
        ("E", ADDED),
    ]


def test_local_300_equals_remote_300_text_for_an_int_knob() -> None:
    left = Side(values={"UPDATE_INTERVAL": 300}, types={"UPDATE_INTERVAL": "int"})
    right = Side(values={"UPDATE_INTERVAL": "300"})
    assert status_of("UPDATE_INTERVAL", left, right) == SAME


def test_local_default_300_against_remote_5_is_changed() -> None:
    left = Side(values={"UPDATE_INTERVAL": 300}, types={"UPDATE_INTERVAL": "int"})
    right = Side(values={"UPDATE_INTERVAL": "5"})
    row = compare(left, right).rows[0]
    assert (row.status, row.type, row.left.text, row.right.text) == (CHANGED, "int", "300", "5")


def test_true_equals_true_in_any_case_for_a_bool_knob() -> None:
    left = Side(values={"ENABLE_RUNTIME_CONFIG": True}, types={"ENABLE_RUNTIME_CONFIG": "bool"})
    right = Side(values={"ENABLE_RUNTIME_CONFIG": "TRUE"})
    assert status_of("ENABLE_RUNTIME_CONFIG", left, right) == SAME


def test_the_declared_type_of_either_side_is_used() -> None:
    left = Side(values={"X": "0.5"})
    right = Side(values={"X": "0.50"}, types={"X": "float"})
    assert status_of("X", left, right) == SAME


def test_a_remote_not_defined_is_shown_as_undefined_not_as_a_value() -> None:
    left = Side(values={"FOO": "bar"})
    right = Side(values={"FOO": None})
    row = compare(left, right).rows[0]
    assert row.status == REMOVED
    assert row.right.text is None
    assert row.left.text == "bar"


def test_undefined_on_both_sides_is_the_same() -> None:
    assert status_of("FOO", Side(values={"FOO": None}), Side(values={})) == SAME


def test_hidden_values_compare_by_their_hashes() -> None:
    left = Side(values={"PW": "‹hidden›", "KEY": "‹hidden›"}, hashes={"PW": "aa", "KEY": "cc"})
    right = Side(values={"PW": "‹hidden›", "KEY": "‹hidden›"}, hashes={"PW": "aa", "KEY": "dd"})
    result = compare(left, right)
    assert {r.name: r.status for r in result.rows} == {"KEY": CHANGED, "PW": SAME}
    assert all(r.left.hidden and r.right.hidden and r.left.text == "" for r in result.rows)


def test_sources_are_carried_into_the_cells() -> None:
    left = Side(values={"A": "1"}, sources={"A": "/etc/condor/condor_config, line 3"})
    right = Side(values={"A": "2"}, sources={"A": "<runtime>"})
    row = compare(left, right).rows[0]
    assert (row.left.source, row.right.source) == ("/etc/condor/condor_config, line 3", "<runtime>")


def test_only_differences_and_a_name_search_select_rows() -> None:
    result = compare(
        Side(values={"SCHEDD_LOG": "a", "SCHEDD_NAME": "x", "STARTD_LOG": "b"}),
        Side(values={"SCHEDD_LOG": "a2", "SCHEDD_NAME": "x", "STARTD_LOG": "b2"}),
    )
    assert [r.name for r in result.select()] == ["SCHEDD_LOG", "STARTD_LOG"]
    assert [r.name for r in result.select(only_differences=False, query="schedd")] == ["SCHEDD_LOG", "SCHEDD_NAME"]
    assert [r.name for r in result.select(query="*_log")] == ["SCHEDD_LOG", "STARTD_LOG"]


def test_a_name_matcher_is_case_insensitive_and_matches_everything_when_empty() -> None:
    assert name_matcher("")("ANYTHING")
    assert name_matcher("  interval ")("UPDATE_INTERVAL")
    assert not name_matcher("SCHEDD?")("SCHEDD_LOG")


def test_knob_names_match_whatever_their_case_as_htcondors_do() -> None:
    # A daemon lists a runtime value under the lower-cased name it was set with.
    left = Side(values={"UPDATE_INTERVAL": 300}, types={"UPDATE_INTERVAL": "int"})
    right = Side(values={"update_interval": "300", "condorweb_test_knob": "x"})
    result = compare(left, right)
    assert [(r.name, r.status, r.type) for r in result.rows] == [
        ("condorweb_test_knob", ADDED, ""),
        ("UPDATE_INTERVAL", SAME, "int"),
    ]
