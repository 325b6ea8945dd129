"""configview.services.runtime_config_change: audited runtime set/unset, secrets redacted in the trail."""

from __future__ import annotations

import condor.client
import condor.tools
from condor.errors import RUNTIME_CONFIG_HINT, DaemonUnreachable, NotAuthorized, RuntimeConfigRefused
from configview import services
from configview.redaction import MARKER
from daemons.commands.services import ClientInfo
from daemons.models import CommandRecord
from tests.configview.helpers import make_daemon

CLIENT = ClientInfo(address="192.0.2.7", user_agent="pytest")


def change(user, **kwargs) -> CommandRecord:
    return services.runtime_config_change(user=user, daemon=make_daemon(), client=CLIENT, **kwargs).record


def test_a_set_sends_the_value_and_records_old_and_new(operator, htcondor) -> None:
    htcondor.remote["CONDORWEB_TEST_KNOB"] = "before"
    record = change(operator, knob="CONDORWEB_TEST_KNOB", value="after", reconfig=False)
    assert ("set", "CONDORWEB_TEST_KNOB", "after") in htcondor.sent
    assert (record.command, record.outcome, record.old_value, record.new_value) == (
        "RuntimeSet",
        "sent",
        "before",
        "after",
    )
    assert record.client_address == "192.0.2.7"


def test_a_set_with_reconfig_sends_reconfig_right_after(operator, htcondor) -> None:
    record = change(operator, knob="CONDORWEB_TEST_KNOB", value="x", reconfig=True)
    assert htcondor.sent[-2:] == [("set", "CONDORWEB_TEST_KNOB", "x"), ("command", "Reconfig")]
    assert record.command == "RuntimeSet+Reconfig"


def test_an_unset_removes_the_runtime_value(operator, htcondor) -> None:
    record = change(operator, knob="CONDORWEB_TEST_KNOB", value=None, reconfig=False)
    assert ("unset", "CONDORWEB_TEST_KNOB") in htcondor.sent
    assert (record.command, record.outcome) == ("RuntimeUnset", "sent")


def test_an_unset_of_the_last_runtime_value_reads_the_current_list_first_and_moves_nothing(operator, htcondor) -> None:
    htcondor.runtime = [("test_p1", "a"), ("test_p2", "b")]
    done = services.runtime_config_change(
        user=operator, daemon=make_daemon(), client=CLIENT, knob="TEST_P2", value=None, reconfig=True
    )
    assert [s for s in htcondor.sent if s[0] != "get"] == [
        ("command", "Reconfig"),
        ("dump",),
        ("unset", "TEST_P2"),
        ("command", "Reconfig"),
    ]
    assert done.moved == ()


def test_an_unset_in_the_middle_takes_the_later_values_back_from_the_end_and_sets_them_again(
    operator, htcondor
) -> None:
    htcondor.runtime = [("test_p1", "a"), ("TEST_P2", "b = $(X)"), ("test_p3", "c")]
    done = services.runtime_config_change(
        user=operator, daemon=make_daemon(), client=CLIENT, knob="TEST_P1", value=None, reconfig=False
    )
    assert [s for s in htcondor.sent if s[0] != "get"] == [
        ("command", "Reconfig"),
        ("dump",),
        ("unset", "test_p3"),
        ("unset", "TEST_P2"),
        ("unset", "TEST_P1"),
        ("set", "TEST_P2", "b = $(X)"),
        ("set", "test_p3", "c"),
    ]
    assert (done.record.outcome, done.moved) == ("sent", ("TEST_P2", "test_p3"))


def test_a_later_value_already_taken_back_is_set_again_when_a_removal_fails(operator, htcondor, monkeypatch) -> None:
    htcondor.runtime = [("test_p1", "a"), ("test_p2", "b"), ("test_p3", "c")]

    def unset(target, name, credentials) -> None:
        if name == "test_p2":
            raise DaemonUnreachable("gone")
        htcondor.sent.append(("unset", name))

    monkeypatch.setattr(condor.client, "remote_config_unset", unset)
    record = change(operator, knob="TEST_P1", value=None, reconfig=False)
    assert record.outcome == CommandRecord.Outcome.UNREACHABLE
    assert htcondor.sent[-2:] == [("unset", "test_p3"), ("set", "test_p3", "c")]


def test_an_unset_is_refused_before_any_removal_when_the_daemon_hides_part_of_its_list(
    operator, htcondor, monkeypatch
) -> None:
    def hidden(target, credentials):
        return condor.tools.parse_runtime_values("TEST_P1 = a\n # at: <runtime>, line 1\n")

    monkeypatch.setattr(condor.client, "remote_runtime_values", hidden)
    record = change(operator, knob="TEST_P1", value=None, reconfig=False)
    assert record.outcome == CommandRecord.Outcome.REFUSED
    assert not [s for s in htcondor.sent if s[0] == "unset"]


def test_a_secret_is_sent_in_full_but_recorded_hidden(operator, htcondor) -> None:
    htcondor.remote["CONDORWEB_TEST_PASSWORD"] = "old-secret"
    record = change(operator, knob="CONDORWEB_TEST_PASSWORD", value="new-secret", reconfig=False)
    assert ("set", "CONDORWEB_TEST_PASSWORD", "new-secret") in htcondor.sent
    assert (record.old_value, record.new_value) == (MARKER, MARKER)
    assert "secret" not in str(CommandRecord.objects.filter(pk=record.pk).values().get())


def test_a_knob_with_a_newline_is_rejected_before_anything_is_sent_and_recorded_invalid(operator, htcondor) -> None:
    record = change(operator, knob="EVIL\nALLOW_WRITE", value="*", reconfig=True)
    assert htcondor.sent == []
    assert record.outcome == CommandRecord.Outcome.INVALID
    assert "not an HTCondor knob name" in record.error


def test_a_value_with_a_newline_is_rejected_without_even_reading_the_knob(operator, htcondor) -> None:
    record = change(operator, knob="CONDORWEB_TEST_KNOB", value="a\nALLOW_WRITE = *", reconfig=False)
    assert htcondor.sent == []
    assert record.outcome == CommandRecord.Outcome.INVALID


def test_a_knob_in_no_settable_attrs_list_is_refused_unsent_and_recorded_naming_the_list(operator, htcondor) -> None:
    htcondor.runtime_security["SETTABLE_ATTRS_CONFIG"] = "TEST_*, CONDORWEB_*"
    record = change(operator, knob="UPDATE_INTERVAL", value="10", reconfig=True)
    assert not [s for s in htcondor.sent if s[0] != "get"]
    assert (record.command, record.outcome) == ("RuntimeSet+Reconfig", CommandRecord.Outcome.REFUSED)
    assert record.error.startswith(
        "Not sent, as the daemon would refuse it: "
        "UPDATE_INTERVAL is not in this daemon's SETTABLE_ATTRS_CONFIG (TEST_*, CONDORWEB_*)."
    )
    assert "Add UPDATE_INTERVAL to SETTABLE_ATTRS_CONFIG" in record.error
    assert CommandRecord.objects.get() == record


def test_an_unset_of_a_knob_in_no_list_is_refused_before_its_reconfig_and_dump(operator, htcondor) -> None:
    htcondor.runtime_security["SETTABLE_ATTRS_CONFIG"] = "TEST_*"
    record = change(operator, knob="UPDATE_INTERVAL", value=None, reconfig=True)
    assert not [s for s in htcondor.sent if s[0] != "get"]
    assert record.outcome == CommandRecord.Outcome.REFUSED
    assert "UPDATE_INTERVAL is not in this daemon's SETTABLE_ATTRS_CONFIG (TEST_*)" in record.error


def test_a_console_without_config_on_the_daemon_is_refused_unsent_naming_its_identity(operator, htcondor) -> None:
    htcondor.authorized.discard("CONFIG")
    record = change(operator, knob="TEST_FOO", value="x", reconfig=False)
    assert not [s for s in htcondor.sent if s[0] != "get"]
    assert record.outcome == CommandRecord.Outcome.REFUSED
    assert "the console's identity (console@pool-a) lacks CONFIG on this daemon" in record.error
    assert "ALLOW_CONFIG" in record.error


def test_a_knob_settable_at_administrator_is_sent_when_the_console_has_that_level(operator, htcondor) -> None:
    htcondor.runtime_security.update(SETTABLE_ATTRS_CONFIG="TEST_*", SETTABLE_ATTRS_ADMINISTRATOR="UPDATE_INTERVAL")
    htcondor.authorized.discard("CONFIG")
    record = change(operator, knob="update_interval", value="10", reconfig=False)
    assert ("set", "update_interval", "10") in htcondor.sent
    assert record.outcome == CommandRecord.Outcome.SENT


def test_a_daemons_refusal_with_runtime_configuration_off_says_to_turn_it_on_and_restart(operator, htcondor) -> None:
    htcondor.runtime_security["ENABLE_RUNTIME_CONFIG"] = "False"
    htcondor.set_error = RuntimeConfigRefused("The daemon refused to set TEST_FOO.", hint=RUNTIME_CONFIG_HINT)
    record = change(operator, knob="TEST_FOO", value="x", reconfig=True)
    assert record.outcome == CommandRecord.Outcome.REFUSED
    assert record.error.startswith(
        "The daemon refused to set TEST_FOO: runtime configuration is off (ENABLE_RUNTIME_CONFIG is false). "
        "Set ENABLE_RUNTIME_CONFIG = True and restart the daemon"
    )
    assert ("command", "Reconfig") not in htcondor.sent


def test_a_refusal_the_configuration_does_not_explain_says_what_was_checked(operator, htcondor) -> None:
    htcondor.set_error = RuntimeConfigRefused("The daemon refused to set TEST_FOO.", hint=RUNTIME_CONFIG_HINT)
    record = change(operator, knob="TEST_FOO", value="x", reconfig=False)
    assert record.error.startswith(
        "The daemon refused to set TEST_FOO, although ENABLE_RUNTIME_CONFIG is true, "
        "TEST_FOO is in its SETTABLE_ATTRS_CONFIG and the console has CONFIG there."
    )


def test_a_daemon_that_will_not_show_its_lists_gets_the_change_and_its_refusal_keeps_the_general_hint(
    operator, htcondor, monkeypatch
) -> None:
    def unreadable(target, names, credentials):
        raise NotAuthorized("No READ.")

    def set_(value: str) -> CommandRecord:
        return services.runtime_config_change(
            user=operator, daemon=daemon, client=CLIENT, knob="TEST_FOO", value=value, reconfig=False
        ).record

    daemon = make_daemon()
    monkeypatch.setattr(condor.client, "remote_config_values", unreadable)
    assert set_("x").outcome == CommandRecord.Outcome.SENT
    htcondor.set_error = RuntimeConfigRefused("The daemon refused to set TEST_FOO.", hint=RUNTIME_CONFIG_HINT)
    record = set_("y")
    assert (record.outcome, record.error) == (
        CommandRecord.Outcome.REFUSED,
        f"The daemon refused to set TEST_FOO. {RUNTIME_CONFIG_HINT}",
    )
