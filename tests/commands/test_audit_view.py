"""The audit page: recent commands across pools, filterable, for users who may view the audit trail."""

from __future__ import annotations

from django.urls import reverse

from condor.commands import Command
from daemons.commands import services
from daemons.models import CommandRecord
from tests.commands.helpers import client_for, make_master
from tests.helpers import fresh_pool

CLIENT = services.ClientInfo(address="192.0.2.9", user_agent="ua")


def test_an_administrator_sees_every_attempt_with_who_what_and_outcome(admin, operator, viewer, sent) -> None:
    master = make_master()
    services.command_send(user=operator, daemon=master, command=Command.Reconfig, client=CLIENT)
    services.record_refusal(user=viewer, command="OffFast", daemon_ids=[master.pk], client=CLIENT)
    body = client_for(admin).get(reverse("daemons:audit")).content.decode()
    assert "oscar-operator" in body and "victor-viewer" in body
    assert "Forbidden by the console" in body and "Sent" in body
    assert reverse("daemons:daemon_detail", args=[master.pk]) in body and "192.0.2.9" in body


def test_filters_narrow_the_list(admin, operator, sent) -> None:
    first = make_master()
    other = make_master(fresh_pool("elsewhere"), name="master@far")
    services.command_send(user=operator, daemon=first, command=Command.Reconfig, client=CLIENT)
    sent.error = None
    services.command_send(user=admin, daemon=other, command=Command.DaemonsOn, client=CLIENT)
    client = client_for(admin)
    body = client.get(reverse("daemons:audit"), {"pool": other.pool_id}).content.decode()
    assert "master@far" in body and "master@node1" not in body
    body = client.get(reverse("daemons:audit"), {"command": "Reconfig", "user": "oscar-operator"}).content.decode()
    assert "master@node1" in body and "master@far" not in body
    body = client.get(reverse("daemons:audit"), {"outcome": "refused"}).content.decode()
    assert "No recorded commands match." in body


def test_invalid_filters_are_ignored(admin, operator, sent) -> None:
    services.command_send(user=operator, daemon=make_master(), command=Command.Reconfig, client=CLIENT)
    response = client_for(admin).get(reverse("daemons:audit"), {"pool": "x", "since": "yesterday", "outcome": "bogus"})
    assert response.status_code == 200 and "master@node1" in response.content.decode()


def test_a_record_outlives_its_daemon_and_pool(admin, operator, sent) -> None:
    master = make_master()
    services.command_send(user=operator, daemon=master, command=Command.Reconfig, client=CLIENT)
    master.pool.delete()
    record = CommandRecord.objects.get()
    assert (record.daemon, record.pool, record.daemon_name) == (None, None, "master@node1")
    assert "master@node1" in client_for(admin).get(reverse("daemons:audit")).content.decode()


def test_operators_and_viewers_may_not_open_it_and_see_no_link(operator, viewer, admin, sent) -> None:
    for user in (operator, viewer):
        assert client_for(user).get(reverse("daemons:audit")).status_code == 403
        assert reverse("daemons:audit") not in client_for(user).get(reverse("daemons:pool_list")).content.decode()
    assert reverse("daemons:audit") in client_for(admin).get(reverse("daemons:pool_list")).content.decode()


def test_htmx_gets_only_the_table(admin, sent) -> None:
    body = client_for(admin).get(reverse("daemons:audit"), HTTP_HX_REQUEST="true").content.decode()
    assert body.lstrip().startswith('<div id="records">')


def test_an_auditor_can_list_the_drains_alone(admin, operator, sent) -> None:
    master = make_master()
    services.command_send(user=operator, daemon=master, command=Command.Reconfig, client=CLIENT)
    CommandRecord.objects.create(
        username="oscar-operator", pool=master.pool, daemon_name="exec01@node1", command="Drain", outcome="sent"
    )
    body = client_for(admin).get(reverse("daemons:audit"), {"command": "Drain"}).content.decode()
    assert "exec01@node1" in body and "master@node1" not in body
