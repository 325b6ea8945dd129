"""A pool's machine board: slots counted by column on the pool's page and its machines page, each execute node
with its own counts, filterable, in a number of queries that does not grow with the pool."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from daemons.models import Daemon, Slot
from tests.commands.helpers import client_for
from tests.drains.helpers import make_startd

pytestmark = pytest.mark.usefixtures("background_jobs")


def fill(startd: Daemon, boards: list[str]) -> None:
    Slot.objects.bulk_create(
        Slot(pool=startd.pool, startd=startd, name=f"slot{i}@{startd.name}", board=board)
        for i, board in enumerate(boards, 1)
    )


def machines(user: object, pool: object, **params: str) -> str:
    return client_for(user).get(reverse("daemons:pool_machines", args=[pool.pk]), params).content.decode()


def test_the_pool_page_counts_slots_by_column_and_machines_draining(viewer) -> None:
    first = make_startd()
    second = make_startd(first.pool, name="exec02@node1")
    second.drain_state = "draining"
    second.save()
    fill(first, ["unclaimed", "claimed", "claimed"])
    fill(second, ["draining", "drained"])
    body = client_for(viewer).get(reverse("daemons:pool_detail", args=[first.pool.pk])).content.decode()
    assert "Claimed</span> 2" in body and "Unclaimed</span> 1" in body and "Drained</span> 1" in body
    assert "5 slots on 2 startds" in body
    assert "1 machine draining or drained" in body


def test_the_board_filters_machines_by_the_slots_they_have(viewer) -> None:
    first = make_startd()
    second = make_startd(first.pool, name="exec02@node1")
    fill(first, ["claimed"])
    fill(second, ["unclaimed"])
    body = machines(viewer, first.pool, board="claimed")
    assert "exec01@node1</a>" in body and "exec02@node1</a>" not in body
    assert "exec02@node1</a>" in machines(viewer, first.pool, q="exec02")


def test_each_column_reads_as_a_word_beside_its_icon_never_colour_alone(viewer) -> None:
    startd = make_startd()
    fill(startd, ["owner"])
    body = machines(viewer, startd.pool)
    assert '<span class="slot slot-owner"><span aria-hidden="true">⌂</span> Owner</span>' in body


def test_the_machines_page_costs_the_same_queries_for_ten_or_a_thousand_slots(
    viewer, django_assert_max_num_queries
) -> None:
    startd = make_startd()
    pool = startd.pool
    fill(startd, ["claimed"] * 10)
    client = client_for(viewer)
    client.get(reverse("daemons:pool_machines", args=[pool.pk]))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("daemons:pool_machines", args=[pool.pk]))
    for n in range(2, 40):
        fill(make_startd(pool, name=f"exec{n:02d}@node1"), ["claimed", "unclaimed"] * 12)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("daemons:pool_machines", args=[pool.pk]))
