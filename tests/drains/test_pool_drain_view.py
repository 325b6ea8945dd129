"""Draining several startds of a pool: chosen by pattern, by name or by a constraint the collector evaluates,
previewed before anything is sent, confirmed with the pool's name, sent on the queue with a row per startd."""

from __future__ import annotations

from django.urls import reverse

from condor.errors import InvalidInput
from daemons.models import CommandRecord
from tests.commands.helpers import client_for, make_master
from tests.drains.helpers import make_startd


def url(pool) -> str:
    return reverse("daemons:pool_drain", args=[pool.pk])


def three_startds():
    first = make_startd()
    return [first, make_startd(first.pool, name="exec02@node1"), make_startd(first.pool, name="gpu01@node2")]


def test_a_pattern_previews_the_startds_it_names_and_sends_nothing(operator, drains) -> None:
    startds = three_startds()
    make_master(startds[0].pool)
    response = client_for(operator).get(url(startds[0].pool), {"by": "pattern", "pattern": "exec*"})
    body = response.content.decode()
    assert "2 startds to drain" in body
    assert "exec01@node1" in body and "exec02@node1" in body and "gpu01@node2</a>" not in body
    assert drains.calls == []


def test_a_constraint_is_evaluated_by_the_collector_and_previewed(operator, drains) -> None:
    startds = three_startds()
    drains.matching = ["gpu01@node2", "new99@node3"]
    response = client_for(operator).get(url(startds[0].pool), {"by": "constraint", "constraint": "TotalGpus > 0"})
    body = response.content.decode()
    assert drains.calls == [("match", "TotalGpus > 0")]
    assert "1 startd to drain" in body
    assert "the inventory does not know yet (new99@node3)" in body


def test_a_constraint_the_collector_cannot_parse_is_shown_as_such(operator, drains) -> None:
    startds = three_startds()
    drains.error = InvalidInput("The constraint does not parse: Cpus >>> 2.")
    response = client_for(operator).get(url(startds[0].pool), {"by": "constraint", "constraint": "Cpus >>> 2"})
    assert "The collector could not evaluate it: The constraint does not parse" in response.content.decode()


def test_the_confirmed_drain_writes_a_row_per_startd_and_its_job_sends_each(
    operator, drains, background_jobs, django_capture_on_commit_callbacks
) -> None:
    startds = three_startds()
    pool = startds[0].pool
    data = {
        "daemons": [startds[0].pk, startds[1].pk],
        "speed": "graceful",
        "reason": "rack 4 power work",
        "on_completion": "resume",
        "confirm": pool.name,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(operator).post(url(pool), data)
    batch = CommandRecord.objects.filter(command="Drain").first().batch
    assert response.status_code == 302
    assert response["Location"] == reverse("daemons:pool_command_batch", args=[pool.pk, batch])
    background_jobs.run("command_batch")
    assert sorted(name for _, name, _ in drains.calls) == ["exec01@node1", "exec02@node1"]
    page = client_for(operator).get(response["Location"]).content.decode()
    assert page.count("Accepted: request") == 2


def test_the_pool_name_must_be_typed_for_a_bulk_drain(operator, drains) -> None:
    startds = three_startds()
    data = {"daemons": [startds[0].pk], "speed": "fast", "reason": "x", "on_completion": "nothing", "confirm": "nope"}
    response = client_for(operator).post(url(startds[0].pool), data)
    assert response.status_code == 200
    assert f"Type {startds[0].pool.name} to confirm the drain." in response.content.decode()
    assert not CommandRecord.objects.exists()


def test_a_viewers_forged_bulk_drain_is_forbidden_and_recorded_per_startd(viewer, drains) -> None:
    startds = three_startds()
    data = {"daemons": [s.pk for s in startds], "speed": "fast", "reason": "x", "confirm": startds[0].pool.name}
    assert client_for(viewer).post(url(startds[0].pool), data).status_code == 403
    assert client_for(viewer).get(url(startds[0].pool)).status_code == 403
    assert CommandRecord.objects.filter(outcome="forbidden", command="Drain").count() == 3
    assert drains.calls == []


def test_the_previewed_startds_drains_can_be_cancelled_at_once(
    operator, drains, background_jobs, django_capture_on_commit_callbacks
) -> None:
    startds = three_startds()
    pool = startds[0].pool
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(operator).post(url(pool), {"action": "cancel", "daemons": [s.pk for s in startds]})
    assert response.status_code == 302
    background_jobs.run("command_batch")
    assert sorted(drains.calls) == [("cancel", s.name, "") for s in sorted(startds, key=lambda s: s.name)]
    assert set(CommandRecord.objects.values_list("command", "outcome")) == {("CancelDrain", "sent")}


def test_a_viewers_forged_bulk_cancel_is_recorded_as_a_cancel(viewer, drains) -> None:
    startds = three_startds()
    response = client_for(viewer).post(url(startds[0].pool), {"action": "cancel", "daemons": [startds[0].pk]})
    assert response.status_code == 403
    assert list(CommandRecord.objects.values_list("command", "outcome")) == [("CancelDrain", "forbidden")]
