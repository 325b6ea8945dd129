"""services.command_send / command_batch_start: the audit row comes first, then the command, then refreshes on the queue."""

from __future__ import annotations

import uuid
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client, TestCase

import condor.client
from condor.commands import Command
from condor.errors import DaemonUnreachable
from daemons.commands import services
from daemons.inventory import services as inventory_services
from daemons.models import CommandRecord
from tests.commands.helpers import make_daemon, make_master

CLIENT = services.ClientInfo(address="192.0.2.1", user_agent="test")


@pytest.fixture
def in_batch(operator, django_capture_on_commit_callbacks, background_jobs):
    """services.command_batch_start as a view calls it, then its job runs: the rows, in order."""

    def start(daemons, command=Command.Reconfig):
        with django_capture_on_commit_callbacks(execute=True):
            batch = services.command_batch_start(user=operator, daemons=daemons, command=command, client=CLIENT)
        background_jobs.run("command_batch")
        return list(CommandRecord.objects.filter(batch=batch).order_by("id"))

    return start


def test_the_record_is_written_as_pending_before_the_command_leaves(operator, sent, monkeypatch) -> None:
    seen = []

    def send(target, command, credentials, *, subsystem=""):
        seen.append(list(CommandRecord.objects.values_list("command", "outcome")))

    monkeypatch.setattr(condor.client, "send_command", send)
    record = services.command_send(user=operator, daemon=make_master(), command=Command.Reconfig, client=CLIENT)
    assert seen == [[("Reconfig", "pending")]]
    assert record.outcome == "sent" and record.completed_at is not None


def test_no_record_no_command(operator, sent) -> None:
    master = make_master()
    with mock.patch.object(CommandRecord.objects, "create", side_effect=OperationalError("database is locked")):
        with pytest.raises(OperationalError):
            services.command_send(user=operator, daemon=master, command=Command.Reconfig, client=CLIENT)
    assert sent.calls == []


def test_a_page_whose_audit_row_cannot_be_written_says_so_and_sends_nothing(operator, sent) -> None:
    master = make_master()
    client = Client(raise_request_exception=False)
    client.force_login(operator)
    with mock.patch.object(CommandRecord.objects, "create", side_effect=OperationalError("database is locked")):
        response = client.post(f"/daemon/{master.pk}/command/", {"command": "Reconfig"})
    assert response.status_code == 503
    assert sent.calls == []


def test_an_unexpected_error_is_recorded_as_error_and_raised(operator, sent) -> None:
    sent.error = None
    with mock.patch.object(condor.client, "send_command", side_effect=RuntimeError("boom")):
        with pytest.raises(RuntimeError):
            services.command_send(user=operator, daemon=make_master(), command=Command.Reconfig, client=CLIENT)
    record = CommandRecord.objects.get()
    assert (record.outcome, record.error) == ("error", "Unexpected error: boom")


def test_an_invalid_subsystem_is_recorded_invalid_and_not_sent(operator, sent) -> None:
    record = services.command_send(
        user=operator, daemon=make_master(), command=Command.DaemonOff, subsystem="schedd; rm -rf /", client=CLIENT
    )
    assert record.outcome == "invalid" and sent.calls == []


def test_a_bulk_command_goes_to_each_daemon_with_a_row_each_and_refreshes_each_pool_once(
    operator, sent, in_batch, background_jobs, monkeypatch
) -> None:
    refreshed = []
    monkeypatch.setattr(inventory_services, "pool_refresh", lambda *, pool: refreshed.append(pool.name))
    first = make_master()
    second = make_master(first.pool, name="master@node2", machine="node2")
    records = in_batch([first, second])
    assert [r.daemon for r in records] == [first, second]
    assert sorted(sent.calls) == sorted([(first.name, "Reconfig", ""), (second.name, "Reconfig", "")])
    background_jobs.run()
    assert refreshed == ["cluster"]


def test_a_bulk_command_is_committed_pending_as_one_batch_and_sent_only_after(
    operator, sent, django_capture_on_commit_callbacks, background_jobs
) -> None:
    first = make_master()
    second = make_master(first.pool, name="master@node2", machine="node2")
    with django_capture_on_commit_callbacks() as committed:
        batch = services.command_batch_start(
            user=operator, daemons=[first, second], command=Command.Reconfig, client=CLIENT
        )

    assert sent.calls == [] and background_jobs.kinds() == []
    assert sorted(CommandRecord.objects.values_list("daemon_name", "outcome", "batch")) == sorted(
        [(first.name, "pending", batch), (second.name, "pending", batch)]
    )
    for callback in committed:
        callback()
    background_jobs.run("command_batch")
    assert sorted(CommandRecord.objects.values_list("outcome", flat=True)) == ["sent", "sent"]


def test_one_unreachable_target_does_not_stop_the_others(operator, sent, in_batch, monkeypatch) -> None:
    first = make_master()
    second = make_master(first.pool, name="master@node2", machine="node2")

    def send(target, command, credentials, *, subsystem=""):
        if target.name == first.name:
            raise DaemonUnreachable("Nothing listens there.")
        sent.calls.append((target.name, command.name, subsystem))

    monkeypatch.setattr(condor.client, "send_command", send)
    records = in_batch([first, second])
    assert [r.outcome for r in records] == ["unreachable", "sent"]


def test_each_command_schedules_its_own_follow_up_refreshes(operator, monkeypatch, background_jobs) -> None:
    monkeypatch.setattr(inventory_services, "COMMAND_REFRESH_DELAYS", (1.0, 6.0))
    master = make_master()
    with TestCase.captureOnCommitCallbacks(execute=True):
        inventory_services.pool_refresh_after_command(pool=master.pool)
        inventory_services.pool_refresh_after_command(pool=master.pool)
    held = background_jobs.pending()
    assert [(task.name, task.args) for task in held] == [("pool_refresh", (master.pool_id, "command"))] * 4
    assert all(task.eta is not None for task in held)


def test_a_batch_already_sent_by_another_job_sends_nothing_more(operator, sent, in_batch) -> None:
    master = make_master()
    (record,) = in_batch([master])
    services.command_batch_send(batch=record.batch)
    assert sent.calls == [(master.name, "Reconfig", "")]


def test_a_batch_row_claimed_by_another_worker_is_not_sent_here(operator, sent, background_jobs) -> None:
    first = make_master()
    second = make_master(first.pool, name="master@node2", machine="node2")
    with TestCase.captureOnCommitCallbacks(execute=True):
        batch = services.command_batch_start(
            user=operator, daemons=[first, second], command=Command.Reconfig, client=CLIENT
        )
    CommandRecord.objects.filter(daemon=first).update(outcome="sending", claimed_by="elsewhere:1:1")
    background_jobs.run("command_batch")
    assert sent.calls == [(second.name, "Reconfig", "")]
    assert dict(CommandRecord.objects.filter(batch=batch).values_list("daemon_name", "outcome")) == {
        first.name: "sending",
        second.name: "sent",
    }


def test_a_full_queue_refuses_a_bulk_command_and_writes_nothing(operator, sent, settings) -> None:
    settings.CONDORWEB_POOL_QUEUE_LIMIT = 1
    master = make_master()
    CommandRecord.objects.create(pool=master.pool, daemon=master, batch=uuid.uuid4(), command="Reconfig")
    with pytest.raises(services.QueueFull, match="1 bulk commands to this pool are still being sent"):
        services.command_batch_start(user=operator, daemons=[master], command=Command.Reconfig, client=CLIENT)
    assert CommandRecord.objects.count() == 1


def test_forbidden_attempts_are_recorded_without_sending(viewer, sent) -> None:
    schedd = make_daemon(make_master().pool, "schedd", "sched@node1")
    (record,) = services.record_refusal(user=viewer, command="OffFast", daemon_ids=[schedd.pk], client=CLIENT)
    assert (record.outcome, record.daemon_kind, record.client_address) == ("forbidden", "schedd", "192.0.2.1")
    assert sent.calls == []


@pytest.mark.django_db(transaction=True)
def test_the_broadcast_leaves_after_commit_and_reaches_the_pools_group(
    operator, sent, background_jobs, monkeypatch
) -> None:
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from daemons import events

    monkeypatch.setattr(inventory_services, "pool_refresh", lambda *, pool: pool)
    master = make_master()
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(events.pool_group(master.pool_id), channel)
    record = services.command_send(user=operator, daemon=master, command=Command.Reconfig, client=CLIENT)
    assert ("pool_refresh", (master.pool_id, "command")) in [(t.name, t.args) for t in background_jobs.pending()]
    message = async_to_sync(layer.receive)(channel)
    assert message == {
        "type": "command.recorded",
        "record_id": record.pk,
        "daemon_id": master.pk,
        "machine": master.machine,
        "subsystem": "",
        "text": f"Reconfig by {operator.username} to master {master.name}: Sent",
    }


def test_a_bulk_command_waits_for_slow_daemons_side_by_side_not_in_turn(operator, sent, in_batch, monkeypatch) -> None:
    import threading

    first = make_master()
    second = make_master(first.pool, name="master@node2", machine="node2")
    # Each send waits until the other has started: in turn, the first would wait in vain.
    both_started = threading.Barrier(2, timeout=10)

    def send(target, command, credentials, *, subsystem=""):
        both_started.wait()

    monkeypatch.setattr(condor.client, "send_command", send)
    records = in_batch([first, second])
    assert [r.outcome for r in records] == ["sent", "sent"]


def test_an_unexpected_error_in_one_bulk_target_is_recorded_and_the_rest_complete(
    operator, sent, in_batch, monkeypatch
) -> None:
    first = make_master()
    second = make_master(first.pool, name="master@node2", machine="node2")

    def send(target, command, credentials, *, subsystem=""):
        if target.name == first.name:
            raise RuntimeError("boom")

    monkeypatch.setattr(condor.client, "send_command", send)
    records = in_batch([first, second])
    assert [(r.outcome, r.error) for r in records] == [("error", "Unexpected error: boom"), ("sent", "")]
    assert all(r.completed_at for r in CommandRecord.objects.all())


def test_a_bulk_command_goes_to_the_address_its_row_names_even_if_a_refresh_moved_the_daemon(
    operator, sent, django_capture_on_commit_callbacks, background_jobs, monkeypatch
) -> None:
    addresses = []
    monkeypatch.setattr(
        condor.client,
        "send_command",
        lambda target, command, credentials, *, subsystem="": addresses.append(target.address),
    )
    master = make_master()
    recorded = master.address
    with django_capture_on_commit_callbacks(execute=True):
        services.command_batch_start(user=operator, daemons=[master], command=Command.Reconfig, client=CLIENT)
    master.address = "<10.9.9.9:9618>"
    master.save()

    background_jobs.run("command_batch")

    assert addresses == [recorded]
    assert CommandRecord.objects.get().daemon_address == recorded


def test_a_bulk_command_whose_pool_was_removed_before_sending_says_so(
    operator, sent, django_capture_on_commit_callbacks, background_jobs
) -> None:
    master = make_master()
    with django_capture_on_commit_callbacks(execute=True):
        services.command_batch_start(user=operator, daemons=[master], command=Command.Reconfig, client=CLIENT)
    master.pool.delete()

    background_jobs.run("command_batch")

    assert sent.calls == []
    assert CommandRecord.objects.values_list("outcome", "error").get() == (
        "error",
        "The pool was removed from the console before sending.",
    )
