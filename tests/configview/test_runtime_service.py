"""configview.services.runtime_config_change: audited runtime set/unset, secrets redacted in the trail."""

from __future__ import annotations

import condor.client
import condor.tools
from condor.errors import RUNTIME_CONFIG_HINT, DaemonUnreachable, Refused
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


def test_a_refusal_is_recorded_with_the_knobs_that_allow_runtime_changes(operator, htcondor) -> None:
    htcondor.set_error = Refused("The daemon refused to set NOT_SETTABLE_KNOB.", hint=RUNTIME_CONFIG_HINT)
    record = change(operator, knob="NOT_SETTABLE_KNOB", value="x", reconfig=True)
    assert record.outcome == CommandRecord.Outcome.REFUSED
    for knob in ("ENABLE_RUNTIME_CONFIG", "ALLOW_CONFIG", "SETTABLE_ATTRS_CONFIG"):
        assert knob in record.error
    assert ("command", "Reconfig") not in htcondor.sent
