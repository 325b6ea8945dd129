"""A startd's page: its slots (partitionable ones with their dynamic slots and what is left), its drain state
with who asked through the console, and the maintenance panel for those who may drain."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from daemons.models import CommandRecord, Daemon, Slot
from tests.commands.helpers import client_for
from tests.drains.helpers import make_startd

pytestmark = pytest.mark.usefixtures("background_jobs")


def slot(startd: Daemon, name: str, **fields: object) -> Slot:
    defaults: dict[str, object] = {"state": "Unclaimed", "activity": "Idle", "board": "unclaimed", "cpus": 1}
    return Slot.objects.create(
        pool=startd.pool, startd=startd, name=name, machine=startd.machine, **(defaults | fields)
    )


def page(user: object, startd: Daemon) -> str:
    return client_for(user).get(reverse("daemons:daemon_detail", args=[startd.pk])).content.decode()


def test_a_partitionable_slot_lists_its_dynamic_slots_and_what_is_left(viewer) -> None:
    startd = make_startd()
    slot(
        startd,
        "slot1@exec01@node1",
        slot_type="Partitionable",
        cpus=3,
        total_cpus=4,
        memory_mb=1536,
        total_memory_mb=2048,
    )
    slot(
        startd,
        "slot1_1@exec01@node1",
        slot_type="Dynamic",
        parent="slot1@exec01@node1",
        state="Claimed",
        activity="Busy",
        board="claimed",
        job="node1#12.0#1700000000",
        user="alice@example.org",
        entered_state=timezone.now() - timedelta(minutes=5),
    )
    body = page(viewer, startd)
    assert "slot1_1@exec01@node1" in body and "alice@example.org" in body and "node1#12.0#1700000000" in body
    assert "Left unclaimed in slot1@exec01@node1: 3 of 4 cpus, 1536 of 2048 MB memory" in body
    assert "5\xa0minutes in Claimed" in body
    assert body.index("slot1@exec01@node1") < body.index("slot1_1@exec01@node1")


def test_a_drain_asked_through_the_console_shows_who_asked_and_how(viewer, operator) -> None:
    startd = make_startd()
    startd.drain_state = "draining"
    startd.save()
    slot(
        startd,
        "slot1@exec01@node1",
        state="Claimed",
        activity="Retiring",
        board="draining",
        draining=True,
        drain_request_id="9",
        drain_reason="kernel update",
    )
    CommandRecord.objects.create(
        username=operator.username,
        pool=startd.pool,
        daemon=startd,
        daemon_name=startd.name,
        command="Drain",
        outcome="sent",
        request_id="9",
        reason="kernel update",
        options={"speed": "graceful", "on_completion": "resume"},
    )
    body = page(viewer, startd)
    assert "Draining" in body and "kernel update" in body
    assert f"{operator.username}, " in body and "resume" in body


def test_a_drain_the_console_did_not_ask_for_says_so(viewer) -> None:
    startd = make_startd()
    startd.drain_state = "drained"
    startd.save()
    slot(startd, "slot1@exec01@node1", state="Drained", board="drained", draining=True, drain_request_id="3")
    assert "not through the console" in page(viewer, startd)


def test_the_maintenance_forms_are_for_those_who_may_drain(viewer, operator) -> None:
    startd = make_startd()
    assert "Drain exec01@node1" in page(operator, startd)
    viewer_page = page(viewer, startd)
    assert "Drain exec01@node1" not in viewer_page and "You may not drain this startd." in viewer_page
