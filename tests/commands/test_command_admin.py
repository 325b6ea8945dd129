"""The audit trail in the Django admin: read-only for everyone, superusers included; filters; CSV export."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from condor.commands import Command
from daemons.commands import services
from daemons.models import CommandRecord
from tests.commands.helpers import client_for, make_master

CLIENT = services.ClientInfo(address="192.0.2.9", user_agent='=HYPERLINK("http://evil")')


@pytest.fixture
def superuser(db: None) -> User:
    return User.objects.create_superuser("root-user", "root@example.org", "pw-pw-pw-pw")


@pytest.fixture
def record(operator, sent) -> CommandRecord:
    return services.command_send(user=operator, daemon=make_master(), command=Command.Reconfig, client=CLIENT)


def test_a_superuser_can_list_and_open_records_but_not_add_change_or_delete_them(superuser, record) -> None:
    client = client_for(superuser)
    changelist = reverse("admin:daemons_commandrecord_changelist")
    body = client.get(changelist).content.decode()
    assert "master@node1" in body
    assert reverse("admin:daemons_commandrecord_add") not in body
    assert client.get(reverse("admin:daemons_commandrecord_add")).status_code == 403
    change = reverse("admin:daemons_commandrecord_change", args=[record.pk])
    page = client.get(change)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    client.post(change, {"command": "Forged", "outcome": "sent"})
    assert client.get(reverse("admin:daemons_commandrecord_delete", args=[record.pk])).status_code == 403
    client.post(changelist, {"action": "delete_selected", "_selected_action": [record.pk], "post": "yes"})
    record.refresh_from_db()
    assert record.command == "Reconfig"


def test_the_changelist_has_the_filters_search_and_date_hierarchy(superuser, record) -> None:
    client = client_for(superuser)
    changelist = reverse("admin:daemons_commandrecord_changelist")
    body = client.get(changelist).content.decode()
    for title in ("By outcome", "By command", "By pool", "By user", "By created at"):
        assert title in body
    assert '<nav class="toplinks">' in body  # the date hierarchy
    assert "master@node1" in client.get(changelist, {"q": "node1"}).content.decode()
    assert "master@node1" not in client.get(changelist, {"q": "nothing-like-it"}).content.decode()
    assert "master@node1" in client.get(changelist, {"outcome__exact": "sent"}).content.decode()


def test_the_csv_export_holds_every_field_and_defuses_formulas(superuser, record) -> None:
    response = client_for(superuser).post(
        reverse("admin:daemons_commandrecord_changelist"), {"action": "export_csv", "_selected_action": [record.pk]}
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 1
    row = rows[0]
    assert (row["username"], row["command"], row["outcome"], row["daemon_name"], row["client_address"]) == (
        "oscar-operator",
        "Reconfig",
        "sent",
        "master@node1",
        "192.0.2.9",
    )
    assert row["user_agent"].startswith("'=")


def test_an_administrator_of_the_console_may_view_the_trail_in_the_admin(admin, record) -> None:
    client = client_for(admin)
    assert client.get(reverse("admin:daemons_commandrecord_changelist")).status_code == 200
    assert client.get(reverse("admin:daemons_commandrecord_add")).status_code == 403
