"""Draining one startd from its page: who may, the typed confirmation, refusals recorded, htmx and plain answers."""

from __future__ import annotations

from django.urls import reverse

from condor.errors import Refused
from daemons.models import CommandRecord
from tests.commands.helpers import client_for, make_master
from tests.drains.helpers import drain_data, make_startd


def drain_url(daemon) -> str:
    return reverse("daemons:daemon_drain", args=[daemon.pk])


def cancel_url(daemon) -> str:
    return reverse("daemons:daemon_drain_cancel", args=[daemon.pk])


def test_an_operator_drains_a_startd_and_the_page_says_htcondor_accepted_it(operator, drains) -> None:
    startd = make_startd()
    response = client_for(operator).post(drain_url(startd), drain_data(startd, speed="fast"), follow=True)
    assert response.status_code == 200
    assert [(kind, name, request.speed) for kind, name, request in drains.calls] == [("drain", startd.name, "fast")]
    assert "accepted by startd exec01@node1 (request 1)" in response.content.decode()
    record = CommandRecord.objects.get()
    assert (record.user, record.command, record.outcome, record.reason) == (operator, "Drain", "sent", "kernel update")


def test_a_drain_needs_the_startds_name_typed_and_sends_nothing_without_it(operator, drains) -> None:
    startd = make_startd()
    response = client_for(operator).post(drain_url(startd), drain_data(startd, confirm="exec01"), follow=True)
    assert "Nothing was sent: Type exec01@node1 to confirm the drain." in response.content.decode()
    assert drains.calls == []
    assert not CommandRecord.objects.exists()


def test_a_drain_without_a_reason_is_refused_by_the_form(operator, drains) -> None:
    startd = make_startd()
    response = client_for(operator).post(drain_url(startd), drain_data(startd, reason="  "), follow=True)
    assert "Nothing was sent" in response.content.decode()
    assert drains.calls == []


def test_a_completion_the_startds_version_lacks_is_not_offered_nor_accepted(operator, drains) -> None:
    startd = make_startd(version="$CondorVersion: 8.6.13 Oct 30 2018 BuildID: 453497 $")
    response = client_for(operator).post(drain_url(startd), drain_data(startd, on_completion="reconfig"), follow=True)
    assert "Nothing was sent" in response.content.decode()
    assert drains.calls == []


def test_a_viewers_forged_drain_is_forbidden_and_recorded(viewer, drains) -> None:
    startd = make_startd()
    assert client_for(viewer).post(drain_url(startd), drain_data(startd)).status_code == 403
    assert client_for(viewer).post(cancel_url(startd), {}).status_code == 403
    assert drains.calls == []
    assert sorted(CommandRecord.objects.values_list("command", "outcome", "user")) == [
        ("CancelDrain", "forbidden", viewer.pk),
        ("Drain", "forbidden", viewer.pk),
    ]


def test_only_startds_drain(operator, drains) -> None:
    master = make_master()
    response = client_for(operator).post(drain_url(master), drain_data(master), follow=True)
    assert "Only startds drain; master@node1 is a master." in response.content.decode()
    assert drains.calls == []


def test_htcondors_refusal_is_shown_in_the_panel_under_htmx(operator, drains) -> None:
    startd = make_startd()
    drains.error = Refused("The startd refused to drain: the check expression is false for slot1@exec01@node1.")
    response = client_for(operator).post(
        drain_url(startd), drain_data(startd, check="Cpus >= 64"), HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="drain-panel"' in body and "<html" not in body
    assert "check expression is false" in body
    assert CommandRecord.objects.get().outcome == "refused"


def test_a_cancel_of_one_request_names_it(operator, drains) -> None:
    startd = make_startd()
    client_for(operator).post(cancel_url(startd), {"request_id": "17"})
    assert drains.calls == [("cancel", startd.name, "17")]
    assert CommandRecord.objects.get().request_id == "17"
