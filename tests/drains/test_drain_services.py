"""services.drain_send, drain_cancel and drain_batch_start: recorded before anything is sent, with the request's
reason, options and HTCondor's request id; a bulk drain sends each startd's request once, on the queue."""

from __future__ import annotations

from condor.errors import NotAuthorized, Refused
from condor.types import DrainCompletion, DrainRequest, DrainSpeed
from daemons.commands import services
from daemons.commands.services import ClientInfo
from daemons.models import CommandRecord
from tests.drains.helpers import make_startd

CLIENT = ClientInfo(address="192.0.2.7", user_agent="pytest")
REQUEST = DrainRequest(
    speed=DrainSpeed.QUICK, reason="kernel update", on_completion=DrainCompletion.RESUME, check="Cpus >= 1"
)


def test_a_drain_is_recorded_with_its_reason_options_and_request_id(
    operator, drains, background_jobs, django_capture_on_commit_callbacks
) -> None:
    startd = make_startd()
    with django_capture_on_commit_callbacks(execute=True):
        record = services.drain_send(user=operator, daemon=startd, request=REQUEST, client=CLIENT)
    assert drains.calls == [("drain", "exec01@node1", REQUEST)]
    record.refresh_from_db()
    assert (record.command, record.outcome, record.request_id, record.reason) == ("Drain", "sent", "1", "kernel update")
    assert record.options == {"speed": "quick", "on_completion": "resume", "check": "Cpus >= 1"}
    assert record.what == "Drain quick"
    assert "accepted by startd exec01@node1 (request 1)" in record.outcome_text
    assert background_jobs.kinds() == ["pool_refresh"]


def test_a_refused_drain_keeps_htcondors_reason_and_reads_nothing_again(
    operator, drains, background_jobs, django_capture_on_commit_callbacks
) -> None:
    startd = make_startd()
    drains.error = Refused("The startd refused to drain: the check expression Cpus >= 64 is false for slot1.")
    with django_capture_on_commit_callbacks(execute=True):
        record = services.drain_send(user=operator, daemon=startd, request=REQUEST, client=CLIENT)
    assert (record.outcome, record.request_id) == ("refused", "")
    assert "check expression Cpus >= 64 is false" in record.error
    assert background_jobs.kinds() == []


def test_a_cancel_names_the_request_it_cancels_or_none_for_all(operator, drains) -> None:
    startd = make_startd()
    one = services.drain_cancel(user=operator, daemon=startd, request_id="42", client=CLIENT)
    every = services.drain_cancel(user=operator, daemon=startd, client=CLIENT)
    assert drains.calls == [("cancel", "exec01@node1", "42"), ("cancel", "exec01@node1", "")]
    assert [(r.command, r.request_id, r.outcome) for r in (one, every)] == [
        ("CancelDrain", "42", "sent"),
        ("CancelDrain", "", "sent"),
    ]


def test_an_unauthorized_cancel_is_recorded_as_such(operator, drains) -> None:
    drains.error = NotAuthorized("The startd refused the console.", hint="Add it to ALLOW_ADMINISTRATOR.")
    record = services.drain_cancel(user=operator, daemon=make_startd(), client=CLIENT)
    assert record.outcome == CommandRecord.Outcome.UNAUTHORIZED
    assert "ALLOW_ADMINISTRATOR" in record.error


def test_a_bulk_drain_writes_a_pending_row_per_startd_then_its_job_sends_each_once(
    operator, drains, background_jobs, django_capture_on_commit_callbacks
) -> None:
    first = make_startd()
    second = make_startd(first.pool, name="exec02@node1")
    with django_capture_on_commit_callbacks(execute=True):
        batch = services.drain_batch_start(user=operator, daemons=[first, second], request=REQUEST, client=CLIENT)
    rows = CommandRecord.objects.filter(batch=batch).order_by("id")
    assert [(r.daemon_name, r.outcome, r.reason) for r in rows] == [
        ("exec01@node1", "pending", "kernel update"),
        ("exec02@node1", "pending", "kernel update"),
    ]
    assert drains.calls == []

    background_jobs.run("command_batch")
    background_jobs.run("command_batch")
    assert sorted(name for _, name, _ in drains.calls) == ["exec01@node1", "exec02@node1"]
    assert all(request == REQUEST for _, _, request in drains.calls)
    assert sorted(CommandRecord.objects.filter(batch=batch).values_list("outcome", "request_id")) == [
        ("sent", "1"),
        ("sent", "2"),
    ]
