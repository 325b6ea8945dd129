"""Bulk commands: one command to several daemons of a pool, chosen by kind, machine or name, confirmed once."""

from __future__ import annotations

from django.urls import reverse

from daemons.commands import services
from daemons.models import CommandRecord
from tests.commands.helpers import client_for, make_daemon, make_master


def url(pool) -> str:
    return reverse("daemons:pool_commands", args=[pool.pk])


def batch_url(pool, batch) -> str:
    return reverse("daemons:pool_command_batch", args=[pool.pk, batch])


def three_masters():
    first = make_master()
    second = make_master(first.pool, name="master@node2", machine="node2")
    third = make_master(first.pool, name="master@gpu1", machine="gpu1")
    make_daemon(first.pool, "schedd", "sched@node1")
    return first.pool, [first, second, third]


def test_choosing_lists_the_matching_daemons_and_sends_nothing(operator, sent) -> None:
    pool, _masters = three_masters()
    body = (
        client_for(operator)
        .get(url(pool), {"command": "Reconfig", "kind": "master", "machine": "node"})
        .content.decode()
    )
    assert "Reconfig to 2 daemons" in body
    assert "master@node1" in body and "master@node2" in body and "master@gpu1" not in body
    assert sent.calls == [] and not CommandRecord.objects.exists()


def test_master_only_commands_list_only_masters(admin, sent) -> None:
    pool, _ = three_masters()
    body = client_for(admin).get(url(pool), {"command": "DaemonOff", "subsystem": "SCHEDD"}).content.decode()
    assert "DaemonOff SCHEDD to 3 daemons" in body and "sched@node1" not in body


def test_reconfig_of_every_master_sends_one_command_each_and_shows_a_row_each(operator, sent, bulk_post) -> None:
    pool, masters = three_masters()
    client = client_for(operator)

    response = bulk_post(client, pool, {"command": "Reconfig", "daemons": [m.pk for m in masters]})

    batch = CommandRecord.objects.values_list("batch", flat=True).distinct().get()
    assert response.status_code == 302 and response["Location"] == batch_url(pool, batch)
    body = client.get(response["Location"]).content.decode()
    assert "3 of 3 sent." in body and "hx-trigger" not in body
    assert sorted(name for name, _, _ in sent.calls) == sorted(m.name for m in masters)
    assert CommandRecord.objects.filter(outcome="sent").count() == 3


def test_the_post_answers_before_any_daemon_does_and_the_outcomes_arrive_on_their_page(
    operator, sent, django_capture_on_commit_callbacks, background_jobs
) -> None:
    pool, masters = three_masters()
    client = client_for(operator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(pool), {"command": "Reconfig", "daemons": [m.pk for m in masters]})

    waiting = client.get(response["Location"]).content.decode()
    assert sent.calls == [] and CommandRecord.objects.filter(outcome="pending").count() == 3
    assert "0 of 3 sent, 3 waiting for the daemon to answer" in waiting
    assert f'hx-get="{response["Location"]}" hx-trigger="every 1s"' in waiting
    assert f'<a href="{response["Location"]}">reload</a>' in waiting

    background_jobs.run("command_batch")
    assert "3 of 3 sent." in client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()


def test_each_daemon_gets_its_own_outcome_and_one_failure_stops_no_other(operator, sent, bulk_post) -> None:
    from condor.errors import DaemonUnreachable

    pool, masters = three_masters()
    sent.error = DaemonUnreachable("Cannot connect to the daemon at <10.0.0.9:9618>.")
    client = client_for(operator)

    response = bulk_post(client, pool, {"command": "Reconfig", "daemons": [m.pk for m in masters]})

    body = client.get(response["Location"]).content.decode()
    assert "0 of 3 sent." in body and body.count("Daemon unreachable") == 3


def test_an_outcome_page_of_another_pool_or_no_command_is_not_found(operator, sent, bulk_post) -> None:
    import uuid

    from tests.helpers import fresh_pool

    pool, masters = three_masters()
    client = client_for(operator)
    location = bulk_post(client, pool, {"command": "Reconfig", "daemons": [masters[0].pk]})["Location"]
    batch = location.rstrip("/").rsplit("/", 1)[1]
    elsewhere = fresh_pool("elsewhere")

    assert client.get(batch_url(elsewhere, batch)).status_code == 404
    assert client.get(batch_url(pool, uuid.uuid4())).status_code == 404


def test_a_viewer_cannot_open_an_outcome_page(viewer, operator, sent, bulk_post) -> None:
    pool, masters = three_masters()
    location = bulk_post(client_for(operator), pool, {"command": "Reconfig", "daemons": [masters[0].pk]})["Location"]
    assert client_for(viewer).get(location).status_code == 403


def test_a_destructive_bulk_command_needs_the_pool_name_once(admin, sent, bulk_post) -> None:
    pool, masters = three_masters()
    data = {"command": "DaemonsOff", "daemons": [m.pk for m in masters]}
    body = bulk_post(client_for(admin), pool, data).content.decode()
    assert "Type the pool&#x27;s name, cluster, to confirm DaemonsOff." in body
    assert sent.calls == [] and not CommandRecord.objects.exists()
    bulk_post(client_for(admin), pool, {**data, "confirm": "cluster"})
    assert len(sent.calls) == 3


def test_a_daemon_of_another_pool_cannot_be_slipped_in(operator, sent) -> None:
    pool, masters = three_masters()
    from tests.helpers import fresh_pool

    stranger = make_master(fresh_pool("elsewhere"), name="master@far")
    body = (
        client_for(operator)
        .post(url(pool), {"command": "Reconfig", "daemons": [masters[0].pk, stranger.pk]})
        .content.decode()
    )
    assert "Select a valid choice" in body
    assert sent.calls == []


def test_a_master_only_command_to_a_schedd_is_refused_before_sending(admin, sent) -> None:
    pool, _ = three_masters()
    schedd = pool.daemons.get(kind="schedd")
    body = (
        client_for(admin)
        .post(url(pool), {"command": "Restart", "daemons": [schedd.pk], "confirm": "cluster"})
        .content.decode()
    )
    assert "Restart goes to masters only" in body and sent.calls == []


def test_a_forged_bulk_post_is_refused_and_recorded_for_each_target(operator, sent) -> None:
    pool, masters = three_masters()
    response = client_for(operator).post(
        url(pool), {"command": "OffFast", "daemons": [m.pk for m in masters], "confirm": "cluster"}
    )
    assert response.status_code == 403
    assert sent.calls == []
    assert sorted(CommandRecord.objects.values_list("daemon_name", "outcome")) == sorted(
        (m.name, "forbidden") for m in masters
    )


def test_a_bulk_post_from_a_user_who_may_not_see_the_pool_is_refused_and_recorded(nobody, sent) -> None:
    pool, masters = three_masters()

    response = client_for(nobody).post(url(pool), {"command": "Reconfig", "daemons": [m.pk for m in masters]})

    assert response.status_code == 403
    assert sent.calls == []
    assert sorted(CommandRecord.objects.values_list("user__username", "daemon_name", "outcome")) == sorted(
        (nobody.username, m.name, "forbidden") for m in masters
    )


def test_a_viewer_cannot_open_the_bulk_page_and_the_pool_page_has_no_link(viewer, operator, sent) -> None:
    pool, _ = three_masters()
    assert client_for(viewer).get(url(pool)).status_code == 403
    assert url(pool) not in client_for(viewer).get(reverse("daemons:pool_detail", args=[pool.pk])).content.decode()
    assert url(pool) in client_for(operator).get(reverse("daemons:pool_detail", args=[pool.pk])).content.decode()


def test_the_bulk_page_offers_only_the_commands_the_user_may_send(operator, sent) -> None:
    pool, _ = three_masters()
    body = client_for(operator).get(url(pool)).content.decode()
    assert '<option value="Reconfig">' in body and '<option value="OffFast">' not in body


def test_bulk_without_csrf_is_refused(operator, sent) -> None:
    pool, masters = three_masters()
    client = client_for(operator, enforce_csrf_checks=True)
    assert client.post(url(pool), {"command": "Reconfig", "daemons": [masters[0].pk]}).status_code == 403
    assert sent.calls == [] and not CommandRecord.objects.exists()


def test_htmx_gets_the_outcome_table_in_place_with_its_address(operator, sent, bulk_post) -> None:
    pool, masters = three_masters()
    response = bulk_post(
        client_for(operator), pool, {"command": "Reconfig", "daemons": [masters[0].pk]}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    batch = CommandRecord.objects.get().batch
    assert body.lstrip().startswith(f'<div id="bulk" hx-get="{batch_url(pool, batch)}"')
    assert "0 of 1 sent, 1 waiting" in body  # rendered as the sends start
    assert response["HX-Push-Url"] == batch_url(pool, batch)


def test_the_send_form_says_it_is_working_while_the_daemons_answer(operator, sent) -> None:
    pool, _ = three_masters()
    body = client_for(operator).get(url(pool), {"command": "Reconfig", "kind": "master"}).content.decode()
    assert "data-busy" in body
    assert "Recording the command for each daemon" in body


def test_rows_a_stopped_worker_was_sending_are_called_unknown_and_never_resent(operator, sent, bulk_post) -> None:
    pool, masters = three_masters()
    client = client_for(operator)
    location = client.post(url(pool), {"command": "Reconfig", "daemons": [m.pk for m in masters]})["Location"]
    CommandRecord.objects.filter(daemon=masters[0]).update(outcome="sending", claimed_by="gone:1:1")
    services.command_batches_recover(alive=set())

    body = client.get(location).content.decode()

    assert "1 of 3 with outcome unknown: the worker sending them stopped" in body
    assert "0 of 3 sent, 2 waiting" in body


def test_an_outcome_page_polls_while_rows_wait_and_stops_once_none_do(operator, sent) -> None:
    pool, masters = three_masters()
    client = client_for(operator)
    location = client.post(url(pool), {"command": "Reconfig", "daemons": [m.pk for m in masters]})["Location"]
    assert "hx-trigger" in client.get(location).content.decode()
    CommandRecord.objects.update(outcome="sent")
    assert "hx-trigger" not in client.get(location).content.decode()


def test_a_full_queue_says_so_on_the_form_and_writes_nothing(operator, sent, settings) -> None:
    settings.CONDORWEB_POOL_QUEUE_LIMIT = 1
    pool, masters = three_masters()
    client = client_for(operator)
    client.post(url(pool), {"command": "Reconfig", "daemons": [masters[0].pk]})
    response = client.post(url(pool), {"command": "Reconfig", "daemons": [masters[1].pk]})
    assert response.status_code == 200
    assert "Nothing was sent: 1 bulk commands to this pool are still being sent" in response.content.decode()
    assert CommandRecord.objects.count() == 1


def test_a_poll_of_an_outcome_page_that_went_away_stops_polling(operator, sent, bulk_post) -> None:
    pool, masters = three_masters()
    client = client_for(operator)
    location = bulk_post(client, pool, {"command": "Reconfig", "daemons": [masters[0].pk]})["Location"]
    pool.delete()

    assert client.get(location, HTTP_HX_REQUEST="true").status_code == 286
    assert client.get(location).status_code == 404
