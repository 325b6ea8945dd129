"""The condor package rejects bad input before anything is sent."""

from __future__ import annotations

import pickle

import pytest

import condor.client
from condor.commands import Command
from condor.errors import RUNTIME_CONFIG_HINT, InvalidInput, Refused
from condor.types import Credentials, Target
from condor.validation import validate_collector, validate_knob, validate_subsystem, validate_value


@pytest.mark.parametrize("name", ["UPDATE_INTERVAL", "SCHEDD.TEST_FOO", "_x", "a1.b2.c3"])
def test_it_accepts_htcondor_knob_names(name: str) -> None:
    assert validate_knob(name) == name


@pytest.mark.parametrize(
    "name", ["", "BAD\nNAME", "with space", "1LEADING_DIGIT", "A=B", "A.", ".A", "A..B", "X" * 300, "KNOB\x00"]
)
def test_it_rejects_knob_names_outside_htcondors_syntax(name: str) -> None:
    with pytest.raises(InvalidInput):
        validate_knob(name)


@pytest.mark.parametrize("value", ["line\nbreak", "cr\rhere", "nul\x00"])
def test_it_rejects_values_that_are_not_one_line(value: str) -> None:
    with pytest.raises(InvalidInput, match="single line"):
        validate_value(value)


def test_it_rejects_unknown_subsystems() -> None:
    with pytest.raises(InvalidInput, match="not an HTCondor subsystem"):
        validate_subsystem("SCHEDDX")
    with pytest.raises(InvalidInput):
        validate_subsystem("schedd")
    assert validate_subsystem("SCHEDD") == "SCHEDD"


@pytest.mark.parametrize(
    "collector", ["cm.example.org", "cm.example.org:9618", "127.0.0.1:9618, cm2:9620", "[::1]:9618"]
)
def test_it_accepts_collector_addresses(collector: str) -> None:
    assert validate_collector(collector)


@pytest.mark.parametrize("collector", ["", "cm example", "cm:99999", "<127.0.0.1:9618>", "cm:9618;rm -rf /", "a,,b"])
def test_it_rejects_malformed_collector_addresses(collector: str) -> None:
    with pytest.raises(InvalidInput):
        validate_collector(collector)


def test_it_rejects_addresses_that_are_not_sinful_strings() -> None:
    with pytest.raises(InvalidInput):
        Target(address="127.0.0.1:9618", kind="master")
    with pytest.raises(InvalidInput):
        Target(address="<127.0.0.1:9618>", kind="toaster")


def test_the_command_table_carries_htcondors_real_ids() -> None:
    # htcondor2.DaemonCommands 25.14.1 has DaemonOffPeaceful=469 and DaemonsOn=483: both wrong.
    assert Command.DaemonOffPeaceful.command_id == 483
    assert Command.DaemonsOn.command_id == 455
    assert Command.DaemonOn.command_id == 469
    assert Command.Reconfig.command_id == 60004
    assert Command.OffFast.command_id == 60006
    assert len({c.command_id for c in Command}) == len(Command)


def test_it_refuses_a_subsystem_command_without_a_subsystem() -> None:
    target = Target(address="<127.0.0.1:1>", kind="master")
    with pytest.raises(InvalidInput):
        condor.client.send_command(target, Command.DaemonOff, Credentials(), subsystem="")
    with pytest.raises(InvalidInput, match="takes no subsystem"):
        condor.client.send_command(target, Command.Reconfig, Credentials(), subsystem="SCHEDD")


def test_it_refuses_master_commands_for_other_daemons() -> None:
    target = Target(address="<127.0.0.1:1>", kind="schedd")
    with pytest.raises(InvalidInput, match="send it to the master"):
        condor.client.send_command(target, Command.DaemonsOff, Credentials())


def test_errors_cross_the_process_boundary_with_their_class_and_hint() -> None:
    error = Refused("no", hint=RUNTIME_CONFIG_HINT)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is Refused
    assert copy.hint == RUNTIME_CONFIG_HINT
    assert "SETTABLE_ATTRS_CONFIG" in str(copy)


def test_it_warns_about_a_token_file_others_can_read(tmp_path) -> None:
    token = tmp_path / "token"
    token.write_text("eyJ...")
    token.chmod(0o644)
    assert "chmod 600" in Credentials(token_file=str(token)).check()[0]
    token.chmod(0o600)
    assert Credentials(token_file=str(token)).check() == []
    assert "There is no file at" in Credentials(token_file=str(tmp_path / "missing")).check()[0]


def test_the_token_file_warning_applies_the_pool_forms_rule(tmp_path) -> None:
    directory = tmp_path / "tokens.d"
    directory.mkdir(mode=0o700)
    assert "is not a regular file" in Credentials(token_file=str(directory)).check()[0]
    assert "is under /proc" in Credentials(token_file="/proc/self/environ").check()[0]
    assert "not an absolute path" in Credentials(token_file="relative.token").check()[0]
