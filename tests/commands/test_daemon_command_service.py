"""services.command_send / command_batch_start: the audit row comes first, then the command, then a background refresh."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client

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
    """services.command_batch_start as a view calls it, then its background sends run: the rows, in order."""

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

    assert sent.calls == [] and not background_jobs.jobs
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


def test_a_command_during_the_follow_up_restarts_its_schedule(operator, monkeypatch, background_jobs) -> None:
    refreshed = []
    monkeypatch.setattr(inventory_services, "_pool_refresh_by_id", lambda pool_id: refreshed.append(pool_id))
    monkeypatch.setattr(inventory_services, "COMMAND_REFRESH_DELAYS", (0.0, 0.0))
    master = make_master()
    inventory_services.pool_refresh_after_command(pool=master.pool)
    inventory_services.pool_refresh_after_command(pool=master.pool)  # already queued: no second job
    assert len(background_jobs.jobs) == 1
    background_jobs.run()
    assert refreshed == [master.pool_id, master.pool_id]


def test_forbidden_attempts_are_recorded_without_sending(viewer, sent) -> None:
    schedd = make_daemon(make_master().pool, "schedd", "sched@node1")
    (record,) = services.record_refusal(user=viewer, command="OffFast", daemon_ids=[schedd.pk], client=CLIENT)
    assert (record.outcome, record.daemon_kind, record.client_address) == ("forbidden", "schedd", "192.0.2.1")
    assert sent.calls == []


@pytest.mark.django_db(transaction=True)
def test_the_broadcast_leaves_after_commit_in_the_background_and_reaches_the_pools_group(
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
    queued = background_jobs.kinds()
    assert "command_recorded" in queued and "pool_refresh_after_command" in queued
    background_jobs.run()
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
