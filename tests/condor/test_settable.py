"""condor.settable: SETTABLE_ATTRS lists matched as HTCondor matches them, and refusals that name the failed condition."""

from __future__ import annotations

import pytest

from condor.settable import RuntimeConfigCheck, matches, runtime_enabled, settable_list, wildcards_anchored

DEV_POOL_LIST = ["CONDORWEB_*", "TEST_*", "MASTER_DEBUG", "SCHEDD_DEBUG"]


def test_it_splits_a_list_on_commas_and_whitespace_dropping_empty_items() -> None:
    items = settable_list(" TEST_*, ,MASTER_DEBUG\tSCHEDD_DEBUG\n,, X ")
    assert items == ["TEST_*", "MASTER_DEBUG", "SCHEDD_DEBUG", "X"]
    assert settable_list(None) == settable_list("") == []


@pytest.mark.parametrize(
    ("pattern", "knob"),
    [
        ("MASTER_DEBUG", "master_debug"),
        ("test_*", "TEST_FOO"),
        ("TEST_*", "TEST_"),
        ("*", "UPDATE_INTERVAL"),
        ("*_DEBUG", "SCHEDD_DEBUG"),
        ("*DEBUG*", "MY_DEBUG_LEVEL"),
        ("START*INTERVAL", "STARTD_UPDATE_INTERVAL"),
        ("START*INTERVAL*", "START_INTERVAL_X"),
        ("A*B*C", "A_B*C"),
    ],
)
def test_it_matches_like_htcondor_ignoring_case_with_wildcards(pattern: str, knob: str) -> None:
    assert matches(pattern, knob)


@pytest.mark.parametrize(
    ("pattern", "knob"),
    [
        ("MASTER_DEBUG", "MASTER_DEBUGX"),
        ("TEST_*", "UPDATE_INTERVAL"),
        ("TEST_*", "SCHEDD.TEST_FOO"),
        ("*_DEBUG", "SCHEDD_DEBUG_LEVEL"),
        ("START*INTERVAL", "STARTD_INTERVAL_X"),
        ("A*A", "A"),
        ("A*B*C", "A_B_C"),
    ],
)
def test_it_refuses_what_htcondor_refuses(pattern: str, knob: str) -> None:
    assert not matches(pattern, knob)


def test_it_matches_a_pattern_end_anywhere_for_daemons_before_the_anchoring_fix() -> None:
    assert matches("*_DEBUG", "SCHEDD_DEBUG_LEVEL", anchored=False)
    assert matches("START*INTERVAL", "STARTD_INTERVAL_X", anchored=False)
    assert not matches("TEST_*", "UPDATE_INTERVAL", anchored=False)


@pytest.mark.parametrize(
    ("version", "anchored"),
    [
        ("$CondorVersion: 23.9.6 2024-08-08 BuildID: Debian-23.9.6 $", False),
        ("$CondorVersion: 24.0.22 2025-01-01 $", False),
        ("$CondorVersion: 24.0.23 2025-07-01 $", True),
        ("$CondorVersion: 24.5.1 2025-01-01 $", False),
        ("$CondorVersion: 24.12.23 2025-07-01 $", True),
        ("$CondorVersion: 25.0.12 2025-07-01 $", False),
        ("$CondorVersion: 25.0.13 2025-07-01 $", True),
        ("$CondorVersion: 25.12.2 2025-07-01 $", False),
        ("$CondorVersion: 25.14.1 2025-10-01 $", True),
        ("", False),
        ("garbage", False),
    ],
)
def test_it_knows_which_releases_anchor_wildcards(version: str, anchored: bool) -> None:
    assert wildcards_anchored(version) is anchored


@pytest.mark.parametrize(
    ("value", "enabled"),
    [("True", True), ("1", True), ("TRUE  ", True), ("false", False), ("0", False), (None, False), ("", False)],
)
def test_it_reads_enable_runtime_config_as_param_boolean_does(value: str | None, enabled: bool) -> None:
    assert runtime_enabled(value) is enabled


def test_it_leaves_an_expression_for_enable_runtime_config_undecided() -> None:
    assert runtime_enabled("$(OTHER) || false") is None


def check(knob: str, **fields: object) -> RuntimeConfigCheck:
    defaults: dict[str, object] = {"enabled": True, "lists": {"CONFIG": DEV_POOL_LIST}, "anchored": True}
    return RuntimeConfigCheck(knob=knob, **{**defaults, **fields})


def test_it_finds_the_levels_whose_list_has_the_knob() -> None:
    lists = {"CONFIG": ["TEST_*"], "ADMINISTRATOR": ["test_foo"], "WRITE": ["OTHER"]}
    assert check("TEST_FOO", lists=lists).listing == ("ADMINISTRATOR", "CONFIG")


def test_it_refuses_a_knob_in_no_list_before_sending_naming_the_list() -> None:
    refusal = check("UPDATE_INTERVAL", authorized=frozenset({"CONFIG"})).certain_refusal
    assert refusal is not None
    assert refusal.message == (
        "Not sent, as the daemon would refuse it: UPDATE_INTERVAL is not in this daemon's SETTABLE_ATTRS_CONFIG "
        "(CONDORWEB_*, TEST_*, MASTER_DEBUG, SCHEDD_DEBUG)."
    )
    assert "Add UPDATE_INTERVAL to SETTABLE_ATTRS_CONFIG" in refusal.hint


def test_it_names_every_list_the_daemon_has_or_says_none_is_set() -> None:
    both = check("X", lists={"CONFIG": ["TEST_*"], "ADMINISTRATOR": ["Y"]}).certain_refusal
    assert "SETTABLE_ATTRS_ADMINISTRATOR (Y) or SETTABLE_ATTRS_CONFIG (TEST_*)" in str(both)
    assert "SETTABLE_ATTRS_CONFIG (not set)" in str(check("X", lists={}).certain_refusal)


def test_it_caps_what_it_quotes_of_a_long_list() -> None:
    long = [f"KNOB_{n}_" + "X" * 100 for n in range(20)]
    message = check("Y", lists={"CONFIG": long}).certain_refusal.message
    assert "KNOB_8_" not in message and message.endswith(", …).")
    assert "X" * 65 not in message


def test_it_refuses_before_sending_when_the_console_lacks_the_level_naming_its_identity() -> None:
    refusal = check("TEST_FOO", identity="console@pool").certain_refusal
    assert refusal is not None
    assert "the console's identity (console@pool) lacks CONFIG on this daemon" in refusal.message
    assert "ALLOW_CONFIG" in refusal.hint


def test_it_sends_when_the_knob_is_listed_at_a_level_the_console_has() -> None:
    assert check("TEST_FOO", authorized=frozenset({"CONFIG"})).certain_refusal is None


def test_it_sends_when_the_only_level_listing_the_knob_cannot_be_pinged() -> None:
    assert check("TEST_FOO", lists={"CLIENT": ["TEST_*"]}, unknown=frozenset({"CLIENT"})).certain_refusal is None


def test_it_never_refuses_before_sending_on_enable_runtime_config_alone() -> None:
    assert check("TEST_FOO", enabled=False, authorized=frozenset({"CONFIG"})).certain_refusal is None


def test_it_explains_a_daemons_refusal_with_runtime_configuration_off() -> None:
    refusal = check("TEST_FOO", enabled=False, authorized=frozenset({"CONFIG"})).refusal("to set TEST_FOO")
    assert refusal.message == (
        "The daemon refused to set TEST_FOO: runtime configuration is off (ENABLE_RUNTIME_CONFIG is false)."
    )
    assert "Set ENABLE_RUNTIME_CONFIG = True and restart the daemon" in refusal.hint


def test_it_names_runtime_configuration_off_with_the_other_cause() -> None:
    message = check("UPDATE_INTERVAL", enabled=False).certain_refusal.message
    assert "runtime configuration is off" in message and "not in this daemon's SETTABLE_ATTRS_CONFIG" in message


def test_it_says_what_it_checked_when_it_finds_no_cause_for_a_refusal() -> None:
    refusal = check("TEST_FOO", authorized=frozenset({"CONFIG"})).refusal("to set TEST_FOO")
    assert refusal.message == (
        "The daemon refused to set TEST_FOO, although ENABLE_RUNTIME_CONFIG is true, TEST_FOO is in its "
        "SETTABLE_ATTRS_CONFIG and the console has CONFIG there."
    )
    assert "restart" in refusal.hint
