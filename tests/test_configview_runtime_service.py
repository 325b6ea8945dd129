"""configview.services.runtime_config_change: audited runtime set/unset, secrets redacted in the trail."""

from __future__ import annotations

from configview import services
from configview.redaction import MARKER
from daemons import protocol
from daemons.models import CommandRecord
from daemons.services import ClientInfo
from tests.configview_helpers import htcondor, make_daemon  # noqa: F401 - fixture

CLIENT = ClientInfo(address="192.0.2.7", user_agent="pytest")


def change(user, **kwargs) -> CommandRecord:
    return services.runtime_config_change(user=user, daemon=make_daemon(), client=CLIENT, **kwargs)


def test_a_set_sends_the_value_and_records_old_and_new(operator, htcondor) -> None:
    htcondor.remote["CONDORWEB_TEST_KNOB"] = "before"
    record = change(operator, knob="CONDORWEB_TEST_KNOB", value="after", reconfig=False)
    assert ("set", "CONDORWEB_TEST_KNOB", "after") in htcondor.sent
    assert (record.command, record.outcome, record.old_value, record.new_value) == (
        "RuntimeSet", "sent", "before", "after",
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
    htcondor.set_error = protocol.Refused("The daemon refused to set NOT_SETTABLE_KNOB.", hint=protocol.RUNTIME_CONFIG_HINT)
    record = change(operator, knob="NOT_SETTABLE_KNOB", value="x", reconfig=True)
    assert record.outcome == CommandRecord.Outcome.REFUSED
    for knob in ("ENABLE_RUNTIME_CONFIG", "ALLOW_CONFIG", "SETTABLE_ATTRS_CONFIG"):
        assert knob in record.error
    assert ("command", "Reconfig") not in htcondor.sent
