"""A command form on a daemon's page: permissions per role and command, confirmation, CSRF, outcomes, audit rows."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from condor.commands import Command
from condor.errors import (
    ADMINISTRATOR_HINT,
    DaemonUnreachable,
    NotAuthorized,
    ProtocolTimeout,
    Refused,
)
from daemons.inventory import services
from daemons.models import CommandRecord
from tests.commands.helpers import ROLE_MAY, client_for, form_for, make_daemon, make_master

ROLES = sorted(ROLE_MAY)


def url(daemon) -> str:
    return reverse("daemons:daemon_command", args=[daemon.pk])


@pytest.mark.parametrize("role", ["admin", "operator", "viewer"])
def test_each_role_may_send_exactly_the_commands_of_its_group_and_the_rest_are_recorded_forbidden(
    request, role, sent
) -> None:
    user = request.getfixturevalue(role)
    master = make_master()
    client = client_for(user)
    for command in Command:
        sent.calls.clear()
        response = client.post(url(master), form_for(command, master))
        record = CommandRecord.objects.order_by("-id").first()
        assert (record.user, record.daemon, record.command) == (user, master, command.name)
        if command.name in ROLE_MAY[role]:
            assert response.status_code == 302, command
            assert sent.calls == [(master.name, command.name, "SCHEDD" if command.needs_target else "")]
            assert record.outcome == CommandRecord.Outcome.SENT, command
        else:
            assert response.status_code == 403, command
            assert sent.calls == []
            assert record.outcome == CommandRecord.Outcome.FORBIDDEN, command
    assert CommandRecord.objects.count() == len(Command)


def test_a_user_in_no_group_who_cannot_even_see_the_daemon_is_refused_and_recorded(nobody, sent) -> None:
    master = make_master()
    client = client_for(nobody)
    for command in Command:
        assert client.post(url(master), form_for(command, master)).status_code == 403
    assert sent.calls == []
    assert set(CommandRecord.objects.values_list("outcome", "user", "daemon")) == {("forbidden", nobody.pk, master.pk)}
    assert CommandRecord.objects.count() == len(Command)


def test_a_forged_post_to_a_daemon_that_does_not_exist_records_nothing(nobody, sent) -> None:
    assert (
        client_for(nobody).post(reverse("daemons:daemon_command", args=[999]), {"command": "OffFast"}).status_code
        == 403
    )
    assert not CommandRecord.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_the_page_shows_a_button_for_each_command_the_role_may_send_and_no_other(request, role, sent) -> None:
    user = request.getfixturevalue(role)
    master = make_master()
    if role == "nobody":
        assert client_for(user).get(reverse("daemons:daemon_detail", args=[master.pk])).status_code == 403
        return
    body = client_for(user).get(reverse("daemons:daemon_detail", args=[master.pk])).content.decode()
    shown = {c.name for c in Command if f"Send {c.name}</button>" in body}
    assert shown == ROLE_MAY[role]


def test_a_schedd_page_offers_reconfig_and_the_off_commands_but_nothing_only_a_master_takes(admin, sent) -> None:
    schedd = make_daemon(make_master().pool, "schedd", "sched@node1")
    body = client_for(admin).get(reverse("daemons:daemon_detail", args=[schedd.pk])).content.decode()
    for name in ("Reconfig", "OffGraceful", "OffPeaceful", "OffFast", "OffForce"):
        assert f"Send {name}</button>" in body
    for name in ("Restart", "DaemonOff", "DaemonsOn"):
        assert f"Send {name}</button>" not in body


def test_daemon_off_offers_only_the_daemons_this_master_runs(admin, sent) -> None:
    master = make_master()
    body = client_for(admin).get(reverse("daemons:daemon_detail", args=[master.pk])).content.decode()
    assert '<option value="SCHEDD">SCHEDD (up)</option>' in body
    assert '<option value="NEGOTIATOR">NEGOTIATOR (down)</option>' in body
    assert '<option value="STARTD"' not in body
    response = client_for(admin).post(
        url(master), {"command": "DaemonOff", "subsystem": "STARTD", "confirm": master.name}
    )
    assert response.status_code == 302 and sent.calls == [] and not CommandRecord.objects.exists()


def test_off_fast_on_a_master_says_condorweb_cannot_start_it_again(admin, sent) -> None:
    master = make_master()
    body = client_for(admin).get(reverse("daemons:daemon_detail", args=[master.pk])).content.decode()
    assert "stops the master itself" in body and "condorweb cannot start it again remotely" in body


def test_a_destructive_command_without_the_typed_name_sends_and_records_nothing(admin, sent) -> None:
    master = make_master()
    client = client_for(admin)
    response = client.post(url(master), {"command": "OffFast", "confirm": "master@node2"}, follow=True)
    assert sent.calls == [] and not CommandRecord.objects.exists()
    assert f"Type the daemon&#x27;s name, {master.name}, to confirm OffFast." in response.content.decode()


def test_reconfig_needs_no_confirmation(operator, sent) -> None:
    master = make_master()
    assert client_for(operator).post(url(master), {"command": "Reconfig"}).status_code == 302
    assert sent.calls == [(master.name, "Reconfig", "")]


def test_a_command_a_daemon_does_not_accept_is_invalid_and_not_sent(admin, sent) -> None:
    schedd = make_daemon(make_master().pool, "schedd", "sched@node1")
    response = client_for(admin).post(
        url(schedd), {"command": "Restart", "confirm": schedd.name}, HTTP_HX_REQUEST="true"
    )
    assert "Nothing was sent." in response.content.decode()
    assert sent.calls == [] and not CommandRecord.objects.exists()


def test_an_unknown_command_is_invalid_and_not_sent(admin, sent) -> None:
    response = client_for(admin).post(url(make_master()), {"command": "Explode"}, follow=True)
    assert "Nothing was sent" in response.content.decode()
    assert sent.calls == [] and not CommandRecord.objects.exists()


def test_a_post_without_the_csrf_token_is_refused_before_anything_is_recorded(operator, sent) -> None:
    client = client_for(operator, enforce_csrf_checks=True)
    assert client.post(url(make_master()), {"command": "Reconfig"}).status_code == 403
    assert sent.calls == [] and not CommandRecord.objects.exists()


def test_a_post_with_the_csrf_token_from_the_page_is_sent(operator, sent) -> None:
    master = make_master()
    client = client_for(operator, enforce_csrf_checks=True)
    client.get(reverse("daemons:daemon_detail", args=[master.pk]))
    token = client.cookies["csrftoken"].value
    assert client.post(url(master), {"command": "Reconfig", "csrfmiddlewaretoken": token}).status_code == 302
    assert sent.calls == [(master.name, "Reconfig", "")]


def test_get_is_not_allowed(operator, sent) -> None:
    assert client_for(operator).get(url(make_master())).status_code == 405


def test_an_anonymous_post_is_sent_to_the_login_page_and_records_nothing(db, client, sent) -> None:
    master = make_master()
    response = client.post(url(master), {"command": "Reconfig"})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url(master)}"
    assert not CommandRecord.objects.exists()


@pytest.mark.parametrize(
    ("error", "outcome", "shown"),
    [
        (Refused("The master refused the command."), "refused", "Refused by HTCondor"),
        (DaemonUnreachable("Nothing listens at <127.0.0.1:9618>."), "unreachable", "Daemon unreachable"),
        (NotAuthorized("Not authorized.", hint=ADMINISTRATOR_HINT), "unauthorized", "ALLOW_ADMINISTRATOR"),
        (ProtocolTimeout("No answer within 10 s."), "timeout", "Timed out"),
    ],
)
def test_each_outcome_is_shown_and_recorded(operator, sent, error, outcome, shown) -> None:
    sent.error = error
    master = make_master()
    response = client_for(operator).post(url(master), {"command": "Reconfig"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="command-panel"')
    assert shown in body and escape(error.message) in body
    record = CommandRecord.objects.get()
    assert (record.outcome, record.error) == (outcome, str(error))
    assert record.completed_at is not None and record.duration_ms is not None


def test_an_invalid_address_is_recorded_invalid_and_shown(operator, sent) -> None:
    master = make_master()
    master.address = "not a sinful string"
    master.save()
    response = client_for(operator).post(url(master), {"command": "Reconfig"}, follow=True)
    assert CommandRecord.objects.get().outcome == CommandRecord.Outcome.INVALID
    assert "Invalid input" in response.content.decode()


def test_a_sent_command_is_reported_with_a_message_and_the_record_says_who_and_from_where(operator, sent) -> None:
    master = make_master()
    response = client_for(operator).post(
        url(master),
        {"command": "DaemonOff", "subsystem": "SCHEDD", "confirm": master.name},
        follow=True,
        REMOTE_ADDR="192.0.2.7",
        HTTP_USER_AGENT="pytest-agent",
    )
    assert "DaemonOff SCHEDD sent to master master@node1" in response.content.decode()
    record = CommandRecord.objects.get()
    assert (record.target, record.client_address, record.user_agent, record.username) == (
        "SCHEDD",
        "192.0.2.7",
        "pytest-agent",
        "oscar-operator",
    )
    assert (record.pool_name, record.daemon_name, record.daemon_kind, record.daemon_address) == (
        "cluster",
        master.name,
        "master",
        master.address,
    )


def test_htmx_gets_the_panel_back_with_the_outcome_and_the_new_history_row(operator, sent) -> None:
    master = make_master()
    body = client_for(operator).post(url(master), {"command": "Reconfig"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<strong>Sent.</strong>" in body
    assert "oscar-operator" in body.split('id="history-heading"')[1]


def test_a_sent_command_refreshes_the_pool_on_the_queue(
    operator, sent, background_jobs, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    refreshed = []
    monkeypatch.setattr(services, "pool_refresh", lambda *, pool: refreshed.append(pool.pk))
    master = make_master()
    with django_capture_on_commit_callbacks(execute=True):
        client_for(operator).post(url(master), {"command": "Reconfig"})
    assert refreshed == []  # not on the request's path
    background_jobs.run()
    assert refreshed == [master.pool_id]


def test_a_refused_command_does_not_refresh_the_pool(
    operator, sent, background_jobs, django_capture_on_commit_callbacks
) -> None:
    sent.error = Refused("No.")
    master = make_master()
    with django_capture_on_commit_callbacks(execute=True):
        client_for(operator).post(url(master), {"command": "Reconfig"})
    assert background_jobs.kinds() == []


def test_a_forged_post_records_the_subsystem_it_named(viewer, sent) -> None:
    master = make_master()
    response = client_for(viewer).post(
        url(master), {"command": "DaemonOffFast", "subsystem": "SCHEDD", "confirm": master.name}
    )
    assert response.status_code == 403
    record = CommandRecord.objects.get()
    assert (record.outcome, record.command, record.target) == ("forbidden", "DaemonOffFast", "SCHEDD")
