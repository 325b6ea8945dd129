"""services.pool_refresh and the queued refreshes that keep an inventory fresh (asked for, after a command, the watch)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from huey.contrib.djhuey import HUEY as huey
from huey.exceptions import RetryTask

import condor.client
from condor.errors import DaemonUnreachable
from condor.types import Credentials, DaemonInfo
from daemons import tasks
from daemons.inventory import services
from daemons.models import Daemon, DaemonStateChange, Pool
from devtools import devpool
from engine import queue
from tests.helpers import daemon_info as info
from tests.helpers import register, schedd_turned_off, wait_for


def a_master(machine: str = "node1", **children: str) -> DaemonInfo:
    return info("master", machine, machine, children=children or {"SCHEDD": "up", "STARTD": "up"})


@pytest.fixture
def pool(db: None) -> Pool:
    return services.pool_save(name="cluster", collector="cm.example.org:9618", token_file="/etc/condorweb/token")


@pytest.fixture
def collector(monkeypatch: pytest.MonkeyPatch) -> list[DaemonInfo]:
    """What the fake collector answers; tests change it between refreshes."""
    answer: list[DaemonInfo] = []
    monkeypatch.setattr(condor.client, "discover", lambda collector, credentials: list(answer))
    monkeypatch.setattr(condor.client, "slots", lambda collector, credentials: [])
    return answer


def states(pool: Pool) -> dict[str, str]:
    """kind -> state (the tests' pools run one daemon of each kind)."""
    return dict(Daemon.objects.filter(pool=pool).values_list("kind", "state"))


def test_a_refresh_records_every_daemon_the_collector_lists(pool: Pool, collector: list) -> None:
    collector[:] = [a_master(), info("schedd", "node1"), info("startd", "slot1@node1")]
    services.pool_refresh(pool=pool)
    assert states(pool) == {"master": "up", "schedd": "up", "startd": "up"}
    pool.refresh_from_db()
    assert pool.last_refreshed_at is not None
    assert pool.last_refresh_error == ""


def test_a_daemon_gone_from_the_collector_is_kept_and_marked_missing(pool: Pool, collector: list) -> None:
    collector[:] = [a_master(), info("startd", "slot1@node1")]
    services.pool_refresh(pool=pool)
    collector[:] = [a_master()]
    services.pool_refresh(pool=pool)
    startd = Daemon.objects.get(pool=pool, kind="startd")
    master = Daemon.objects.get(pool=pool, kind="master")
    assert startd.state == Daemon.State.MISSING
    assert startd.last_seen_at < master.last_seen_at


def test_a_child_its_master_reports_stopped_is_down_not_missing(pool: Pool, collector: list) -> None:
    collector[:] = [a_master(), info("schedd", "node1")]
    services.pool_refresh(pool=pool)
    collector[:] = [a_master(SCHEDD="down", STARTD="up")]
    services.pool_refresh(pool=pool)
    assert Daemon.objects.get(pool=pool, kind="schedd").state == Daemon.State.DOWN


def test_a_missing_daemon_that_comes_back_is_up_again(pool: Pool, collector: list) -> None:
    collector[:] = [a_master(), info("schedd", "node1")]
    services.pool_refresh(pool=pool)
    collector[:] = [a_master()]
    services.pool_refresh(pool=pool)
    collector[:] = [a_master(), info("schedd", "node1")]
    services.pool_refresh(pool=pool)
    assert Daemon.objects.get(pool=pool, kind="schedd").state == Daemon.State.UP


def changes(pool: Pool) -> list[tuple[str, str, str]]:
    return list(
        DaemonStateChange.objects.filter(pool=pool).order_by("id").values_list("daemon__kind", "old_state", "new_state")
    )


def test_a_refresh_records_each_state_change_for_the_timeline(pool: Pool, collector: list) -> None:
    collector[:] = [a_master(), info("schedd", "node1"), info("startd", "slot1@node1")]
    services.pool_refresh(pool=pool)
    collector[:] = [a_master(SCHEDD="down", STARTD="up"), info("startd", "slot1@node1")]
    services.pool_refresh(pool=pool)
    collector[:] = [a_master(), info("schedd", "node1"), info("startd", "slot1@node1")]
    services.pool_refresh(pool=pool)
    assert changes(pool) == [("schedd", "up", "down"), ("schedd", "down", "up")]


def test_a_refresh_forgets_state_changes_older_than_the_timeline_keeps(pool: Pool, collector: list, settings) -> None:
    settings.CONDORWEB_TIMELINE_DAYS = 30
    collector[:] = [a_master(), info("schedd", "node1")]
    services.pool_refresh(pool=pool)
    collector[:] = [a_master(SCHEDD="down")]
    services.pool_refresh(pool=pool)
    DaemonStateChange.objects.filter(pool=pool).update(at=timezone.now() - timedelta(days=31))
    collector[:] = [a_master(), info("schedd", "node1")]

    services.pool_refresh(pool=pool)

    assert changes(pool) == [("schedd", "down", "up")]


def test_a_refresh_that_changes_no_state_records_nothing(pool: Pool, collector: list) -> None:
    collector[:] = [a_master(), info("schedd", "node1")]
    services.pool_refresh(pool=pool)
    services.pool_refresh(pool=pool)
    assert changes(pool) == []


def test_a_daemon_gone_from_the_collector_is_recorded_as_going_missing(pool: Pool, collector: list) -> None:
    collector[:] = [a_master(), info("startd", "slot1@node1")]
    services.pool_refresh(pool=pool)
    collector[:] = [a_master()]
    services.pool_refresh(pool=pool)
    services.pool_refresh(pool=pool)
    assert changes(pool) == [("startd", "up", "missing")]


def test_a_failed_refresh_records_the_error_and_changes_no_daemon(pool: Pool, collector: list, monkeypatch) -> None:
    collector[:] = [a_master()]
    services.pool_refresh(pool=pool)

    def unreachable(collector: str, credentials: Credentials) -> list:
        raise DaemonUnreachable("Cannot connect to the collector at cm.example.org:9618.")

    monkeypatch.setattr(condor.client, "discover", unreachable)
    refreshed = services.pool_refresh(pool=pool)
    assert "Cannot connect" in refreshed.last_refresh_error
    assert states(pool) == {"master": "up"}


def test_a_real_unreachable_collector_is_recorded_as_the_pools_error(db: None) -> None:
    pool = services.pool_save(name="gone", collector="127.0.0.1:9")
    refreshed = services.pool_refresh(pool=pool)
    assert "Cannot connect to the collector at 127.0.0.1:9" in refreshed.last_refresh_error


def test_a_refresh_asked_for_reaches_the_queue_only_once_its_transaction_commits(
    pool: Pool, background_jobs, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.pool_refresh_start(pool=pool)
        assert background_jobs.kinds() == []
    assert background_jobs.kinds() == ["pool_refresh"]


def test_a_refresh_asked_for_while_one_waits_is_queued_once_and_reads_the_collector(
    pool: Pool, collector: list, background_jobs, django_capture_on_commit_callbacks
) -> None:
    collector[:] = [a_master()]
    with django_capture_on_commit_callbacks(execute=True):
        services.pool_refresh_start(pool=pool)
        services.pool_refresh_start(pool=pool)
    assert background_jobs.kinds() == ["pool_refresh"]
    assert Daemon.objects.filter(pool=pool).count() == 0
    assert background_jobs.run("pool_refresh") == 1
    assert states(pool) == {"master": "up"}


def test_a_saved_pool_queues_its_first_refresh(db: None, background_jobs, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.pool_save(name="new", collector="cm.example.org:9618")
    assert background_jobs.kinds() == ["pool_refresh"]


def test_a_queued_refresh_of_a_deleted_pool_does_nothing(
    pool: Pool, collector: list, background_jobs, django_capture_on_commit_callbacks
) -> None:
    collector[:] = [a_master()]
    with django_capture_on_commit_callbacks(execute=True):
        services.pool_refresh_start(pool=pool)
    Pool.objects.filter(pk=pool.pk).delete()
    assert background_jobs.run() == 1
    assert not Daemon.objects.exists()


def test_a_queued_refresh_while_the_pool_is_refreshed_elsewhere_is_busy(pool: Pool, collector: list) -> None:
    with queue.exclusive(pool_id=pool.pk, lock="refresh", ttl=60), pytest.raises(queue.Busy):
        services.pool_refresh_queued(pool_id=pool.pk, reason="asked")
    assert pool.last_refreshed_at is None


@pytest.mark.parametrize("reason", ["asked", "command"])
def test_a_refresh_task_that_finds_the_pool_busy_tries_again_later(pool: Pool, collector: list, reason: str) -> None:
    with queue.exclusive(pool_id=pool.pk, lock="refresh", ttl=60), pytest.raises(RetryTask):
        tasks.pool_refresh.call_local(pool.pk, reason)


def test_a_watch_refresh_that_finds_the_pool_busy_is_dropped(pool: Pool, collector: list) -> None:
    with queue.exclusive(pool_id=pool.pk, lock="refresh", ttl=60):
        tasks.pool_refresh.call_local(pool.pk, "watch")
    pool.refresh_from_db()
    assert pool.last_refreshed_at is None


def test_a_command_schedules_a_refresh_at_each_delay_and_none_now(
    pool: Pool, background_jobs, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.pool_refresh_after_command(pool=pool)
    held = huey.pending() + huey.scheduled()
    assert len(held) == len(services.COMMAND_REFRESH_DELAYS)
    assert all(task.eta is not None and task.eta > datetime.now(UTC).replace(tzinfo=None) for task in held)
    assert {task.args for task in held} == {(pool.pk, "command")}


def test_the_watch_queues_each_pool_once_a_minute_whatever_number_of_workers_run_it(
    pool: Pool, background_jobs, settings, django_capture_on_commit_callbacks
) -> None:
    settings.CONDORWEB_WATCH_INTERVAL = 60
    other = services.pool_save(name="other", collector="cm2.example.org:9618")
    minute = timezone.now().replace(second=0, microsecond=0)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.pools_watch(minute=minute) == 2
        assert services.pools_watch(minute=minute) == 0
    assert sorted(task.args for task in huey.pending()) == sorted([(pool.pk, "watch"), (other.pk, "watch")])


def test_the_watch_leaves_out_a_pool_read_within_its_interval(pool: Pool, background_jobs, settings) -> None:
    settings.CONDORWEB_WATCH_INTERVAL = 300
    Pool.objects.filter(pk=pool.pk).update(last_refreshed_at=timezone.now())
    assert services.pools_watch(minute=timezone.now().replace(second=0, microsecond=0)) == 0
    assert background_jobs.kinds() == []


def test_a_short_watch_interval_spreads_a_pools_refreshes_over_the_minute(
    pool: Pool, background_jobs, settings, django_capture_on_commit_callbacks
) -> None:
    settings.CONDORWEB_WATCH_INTERVAL = 20
    with django_capture_on_commit_callbacks(execute=True):
        assert services.pools_watch(minute=timezone.now().replace(second=0, microsecond=0)) == 3
    held = huey.pending() + huey.scheduled()
    assert sorted(task.eta is None for task in held) == [False, False, True]


# --------------------------------------------------------------------------
# Against the real pool.
# --------------------------------------------------------------------------


@pytest.fixture
def real(db: None, healthy_pool: devpool.DevPool) -> Pool:
    return register(healthy_pool)


def kinds_up(pool: Pool) -> set[str]:
    return set(Daemon.objects.filter(pool=pool, state=Daemon.State.UP).values_list("kind", flat=True))


@pytest.mark.integration
def test_a_refresh_of_the_real_pool_finds_its_five_daemons(real: Pool) -> None:
    wait_for(
        lambda: {"master", "schedd", "startd", "collector", "negotiator"} <= kinds_up(services.pool_refresh(pool=real)),
        what="all five daemons up in the inventory",
    )
    master = Daemon.objects.get(pool=real, kind="master")
    assert master.children.get("SCHEDD") == "up"
    assert master.address.startswith("<127.0.0.1:")


@pytest.mark.integration
def test_a_schedd_turned_off_shows_down_then_up_after_daemon_on(real: Pool, credentials) -> None:
    services.pool_refresh(pool=real)
    master = Daemon.objects.get(pool=real, kind="master")

    def schedd_state() -> str:
        services.pool_refresh(pool=real)
        return Daemon.objects.get(pool=real, kind="schedd").state

    with schedd_turned_off(master.target, credentials):
        wait_for(lambda: schedd_state() == Daemon.State.DOWN, interval=1, what="the schedd to show down")
    wait_for(lambda: schedd_state() == Daemon.State.UP, interval=1, what="the schedd to show up again")
    schedd_changes = [(old, new) for kind, old, new in changes(real) if kind == "schedd"]
    # Between the two it may pass through missing, as the collector drops its ad before the master reports it.
    assert schedd_changes[0][0] == "up"
    assert any(new == "down" for _, new in schedd_changes)
    assert schedd_changes[-1][1] == "up"
