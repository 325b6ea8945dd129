"""A pool's timeline: the commands sent to its daemons and their state changes, merged, on the pool page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from daemons.inventory import selectors
from daemons.models import CommandRecord, Daemon, DaemonStateChange, Pool
from tests.helpers import add_daemons, fresh_pool

pytestmark = pytest.mark.usefixtures("background_jobs")


@pytest.fixture
def pool(db: None) -> Pool:
    pool = fresh_pool("cluster")
    add_daemons(pool, 1, kind="master", prefix="cm")
    add_daemons(pool, 1, kind="schedd", prefix="submit")
    return pool


def daemon(pool: Pool, kind: str) -> Daemon:
    return Daemon.objects.get(pool=pool, kind=kind)


def a_command(
    pool: Pool, *, minutes_ago: int, command: str = "DaemonOff", outcome: str = "sent", error: str = ""
) -> None:
    master = daemon(pool, "master")
    record = CommandRecord.objects.create(
        username="olga",
        pool=pool,
        pool_name=pool.name,
        daemon=master,
        daemon_name=master.name,
        daemon_kind="master",
        command=command,
        target="SCHEDD",
        outcome=outcome,
        error=error,
    )
    CommandRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - timedelta(minutes=minutes_ago))


def a_change(pool: Pool, *, minutes_ago: int, old: str = "up", new: str = "down") -> None:
    DaemonStateChange.objects.create(
        pool=pool,
        daemon=daemon(pool, "schedd"),
        old_state=old,
        new_state=new,
        at=timezone.now() - timedelta(minutes=minutes_ago),
    )


def test_commands_and_state_changes_are_merged_newest_first(pool: Pool) -> None:
    a_command(pool, minutes_ago=3, command="DaemonOff")
    a_change(pool, minutes_ago=2, old="up", new="down")
    a_command(pool, minutes_ago=1, command="DaemonOn")
    a_change(pool, minutes_ago=0, old="down", new="up")
    entries = selectors.pool_timeline(pool)
    assert [(e.command, e.new_state) for e in entries] == [
        ("", "up"),
        ("DaemonOn SCHEDD", ""),
        ("", "down"),
        ("DaemonOff SCHEDD", ""),
    ]


def test_only_the_latest_entries_are_kept(pool: Pool) -> None:
    for minutes in range(10):
        a_command(pool, minutes_ago=minutes * 2 + 1)
        a_change(pool, minutes_ago=minutes * 2)
    entries = selectors.pool_timeline(pool, limit=5)
    assert len(entries) == 5
    assert entries[0].at > entries[-1].at
    assert [e.is_command for e in entries] == [False, True, False, True, False]


def test_another_pools_activity_is_not_shown(pool: Pool) -> None:
    other = fresh_pool("other")
    add_daemons(other, 1, kind="master", prefix="cm")
    add_daemons(other, 1, kind="schedd", prefix="submit")
    a_change(other, minutes_ago=1)
    a_command(other, minutes_ago=1)
    assert selectors.pool_timeline(pool) == []


def page_of(client: Client, pool: Pool, **headers: str) -> str:
    response = client.get(reverse("daemons:pool_detail", args=[pool.pk]), **headers)
    assert response.status_code == 200
    return response.content.decode()


def test_the_pool_page_shows_who_sent_what_and_its_outcome_in_words(client: Client, viewer, pool: Pool) -> None:
    a_command(pool, minutes_ago=1, outcome="unreachable", error="The daemon did not answer.")
    client.force_login(viewer)
    page = page_of(client, pool)
    timeline = page.split('id="timeline"', 1)[1].split("</section>", 1)[0]
    assert "<strong>DaemonOff SCHEDD</strong>" in timeline
    assert "by olga" in timeline
    assert "✖</span> Daemon unreachable" in timeline
    assert "The daemon did not answer." in timeline


def test_a_state_change_reads_as_words_beside_icons(client: Client, viewer, pool: Pool) -> None:
    a_change(pool, minutes_ago=1, old="up", new="down")
    client.force_login(viewer)
    timeline = page_of(client, pool).split('id="timeline"', 1)[1].split("</section>", 1)[0]
    assert "schedd submit0" in timeline
    assert timeline.index("✔</span> Up") < timeline.index("✖</span> Down")


def test_the_timeline_refreshes_with_the_live_part_of_the_page(client: Client, viewer, pool: Pool) -> None:
    a_change(pool, minutes_ago=1)
    client.force_login(viewer)
    live = page_of(client, pool, HTTP_HX_REQUEST="true")
    assert live.lstrip().startswith('<div id="live"')
    assert 'id="timeline"' in live


def test_a_pool_without_activity_says_so(client: Client, viewer, pool: Pool) -> None:
    client.force_login(viewer)
    assert "No commands or state changes recorded yet." in page_of(client, pool)


def test_staff_find_the_whole_history_in_the_admin_and_others_do_not(client: Client, admin, viewer, pool: Pool) -> None:
    history = reverse("admin:daemons_daemonstatechange_changelist") + f"?pool__id__exact={pool.pk}"
    client.force_login(admin)
    assert history in page_of(client, pool)
    client.force_login(viewer)
    assert history not in page_of(client, pool)
    client.force_login(admin)
    assert client.get(history).status_code == 200
