"""The runtime edit page: set or unset a knob on a daemon, with Reconfig, for operators only."""

from __future__ import annotations

import html

from django.urls import reverse

from daemons.models import CommandRecord
from tests.configview.helpers import client_for, make_daemon


def url(daemon) -> str:
    return reverse("configview:runtime_edit", args=[daemon.pk])


def test_an_operator_sets_a_knob_with_reconfig(operator, htcondor) -> None:
    daemon = make_daemon()
    response = client_for(operator).post(
        url(daemon), {"knob": "CONDORWEB_TEST_KNOB", "value": "on", "action": "set", "reconfig": "on"}
    )
    assert response.status_code == 200
    assert htcondor.sent[-2:] == [("set", "CONDORWEB_TEST_KNOB", "on"), ("command", "Reconfig")]
    record = CommandRecord.objects.get()
    assert (record.daemon, record.user, record.outcome) == (daemon, operator, "sent")
    assert "was accepted by the daemon" in response.content.decode()


def test_an_operator_unsets_a_knob(operator, htcondor) -> None:
    client_for(operator).post(
        url(make_daemon()), {"knob": "CONDORWEB_TEST_KNOB", "value": "ignored\n", "action": "unset"}
    )
    assert ("unset", "CONDORWEB_TEST_KNOB") in htcondor.sent
    assert CommandRecord.objects.get().command == "RuntimeUnset"


def test_an_unset_in_the_middle_of_the_list_says_what_was_moved_and_why(operator, htcondor) -> None:
    htcondor.runtime = [("test_p1", "a"), ("test_p2", "b"), ("test_p3", "c")]
    response = client_for(operator).post(url(make_daemon()), {"knob": "TEST_P1", "action": "unset", "reconfig": "on"})
    page = " ".join(response.content.decode().split())
    assert "the console first sent Reconfig" in page
    assert "HTCondor crashes when a runtime value is removed from the middle" in page
    assert ('took back <span class="mono">test_p3</span>, <span class="mono">test_p2</span> from the end') in page
    assert 'set <span class="mono">test_p2</span>, <span class="mono">test_p3</span> again' in page


def test_htmx_gets_the_editor_back_in_place(operator, htcondor) -> None:
    response = client_for(operator).post(
        url(make_daemon()), {"knob": "CONDORWEB_TEST_KNOB", "value": "1", "action": "set"}, HTTP_HX_REQUEST="true"
    )
    assert response.content.decode().lstrip().startswith('<div id="editor">')


def test_a_knob_with_a_newline_is_rejected_before_sending_and_recorded_invalid(operator, htcondor) -> None:
    response = client_for(operator).post(
        url(make_daemon()), {"knob": "EVIL\nALLOW_WRITE", "value": "*", "action": "set"}
    )
    assert htcondor.sent == []
    assert CommandRecord.objects.get().outcome == CommandRecord.Outcome.INVALID
    assert "is not an HTCondor knob name" in response.content.decode()


def test_a_knob_with_a_nul_is_recorded_invalid_without_the_nul_postgresql_cannot_store(operator, htcondor) -> None:
    response = client_for(operator).post(url(make_daemon()), {"knob": "\x00", "value": "60", "action": "set"})

    record = CommandRecord.objects.get()
    assert response.status_code == 200 and htcondor.sent == []
    assert record.outcome == CommandRecord.Outcome.INVALID
    assert "\x00" not in record.knob and "\ufffd" in record.knob


def test_an_incomplete_form_sends_and_records_nothing(operator, htcondor) -> None:
    response = client_for(operator).post(url(make_daemon()), {"knob": "CONDORWEB_TEST_KNOB", "value": "x"})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    assert htcondor.sent == [] and not CommandRecord.objects.exists()


def test_a_refusal_names_the_list_the_knob_is_missing_from_and_nothing_is_sent(operator, htcondor) -> None:
    htcondor.runtime_security["SETTABLE_ATTRS_CONFIG"] = "TEST_*, CONDORWEB_*"
    response = client_for(operator).post(url(make_daemon()), {"knob": "UPDATE_INTERVAL", "value": "x", "action": "set"})
    body = html.unescape(response.content.decode())
    assert "Refused by HTCondor" in body
    assert "UPDATE_INTERVAL is not in this daemon's SETTABLE_ATTRS_CONFIG (TEST_*, CONDORWEB_*)" in body
    assert not [s for s in htcondor.sent if s[0] != "get"]
    assert CommandRecord.objects.get().outcome == CommandRecord.Outcome.REFUSED


def test_a_forged_post_from_a_viewer_is_refused_and_recorded(viewer, htcondor) -> None:
    daemon = make_daemon()
    response = client_for(viewer).post(url(daemon), {"knob": "CONDORWEB_TEST_KNOB", "value": "x", "action": "unset"})
    assert response.status_code == 403
    assert htcondor.sent == []
    record = CommandRecord.objects.get()
    assert (record.outcome, record.command, record.user, record.daemon) == ("forbidden", "RuntimeUnset", viewer, daemon)


def test_a_viewer_cannot_open_the_page(viewer, htcondor) -> None:
    assert client_for(viewer).get(url(make_daemon())).status_code == 403
    assert not CommandRecord.objects.exists()


def test_the_page_prefills_a_knob_from_the_link(operator, htcondor) -> None:
    body = client_for(operator).get(url(make_daemon()), {"knob": "CONDORWEB_TEST_KNOB"}).content.decode()
    assert 'value="CONDORWEB_TEST_KNOB"' in body
