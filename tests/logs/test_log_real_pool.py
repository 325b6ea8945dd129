"""Live logs against the real dev pool: the path comes from the master itself, through the pool's mapping."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import reverse
from django.utils.html import escape

from condor.commands import Command
from daemons.commands import services
from daemons.inventory import services as inventory_services
from daemons.logs import logstream, logtail
from daemons.logs.routing import websocket_urlpatterns
from daemons.models import Daemon, Pool
from devtools import devpool
from tests.helpers import downloaded, master_log, registered_master

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def master_with_no_cached_log_path(pool: devpool.DevPool) -> Daemon:
    """The shared ``registered_master``, its pool loaded (async code cannot load it later), with no log
    path cached from an earlier test (rows are flushed between tests, so an id may name another daemon)."""
    logstream.forget_cached_paths()
    return Daemon.objects.select_related("pool").get(pk=registered_master(pool).pk)


async def viewer_from_the_end(pool: devpool.DevPool, master: Daemon, user: object) -> WebsocketCommunicator:
    """A viewer of the master's log that starts at its current end, so only new lines arrive."""
    stat = master_log(pool).stat()
    communicator = WebsocketCommunicator(
        URLRouter(websocket_urlpatterns),
        f"/ws/daemon/{master.pk}/log/MASTER_LOG/?file={logtail.file_id(stat)}&offset={stat.st_size}",
    )
    communicator.scope["user"] = user
    assert (await communicator.connect())[0]
    assert (await communicator.receive_json_from(timeout=10))["state"] == "following"
    return communicator


async def test_a_viewer_of_the_masters_log_sees_the_sighup_a_reconfig_sends(
    healthy_pool: devpool.DevPool, operator, background_jobs
) -> None:
    master = await database_sync_to_async(master_with_no_cached_log_path)(healthy_pool)
    communicator = await viewer_from_the_end(healthy_pool, master, operator)

    record = await database_sync_to_async(services.command_send)(
        user=operator, daemon=master, command=Command.Reconfig, client=services.ClientInfo()
    )
    seen: list[str] = []
    while not any("Sent SIGHUP to SCHEDD" in line for line in seen):
        message = await communicator.receive_json_from(timeout=30)
        seen += message.get("lines", [])
    await communicator.disconnect()

    assert record.outcome == "sent"


def test_the_log_page_shows_the_masters_log_read_through_the_chroot_mapping(
    client, viewer, healthy_pool: devpool.DevPool
) -> None:
    master = master_with_no_cached_log_path(healthy_pool)
    client.force_login(viewer)

    last_line = master_log(healthy_pool).read_bytes().rstrip(b"\n").rsplit(b"\n", 1)[-1].decode(errors="replace")

    page = client.get(reverse("daemons:daemon_log", args=[master.pk]))

    text = page.content.decode()
    assert page.status_code == 200
    assert f"{healthy_pool.log_dir}/MasterLog" in text
    assert str(master_log(healthy_pool)) in text
    # From the tail the page renders without JavaScript. Not a fixed word:
    # after the suite's reconfigs and restarts the last 500 lines may hold
    # none of the master's start-up banner.
    assert escape(last_line) in text
    assert '<option value="SCHEDD_LOG">' in text


async def test_a_log_the_console_cannot_read_streams_through_condor_fetchlog(
    healthy_pool: devpool.DevPool, operator, settings, background_jobs
) -> None:
    settings.CONDORWEB_FETCHLOG_INTERVAL = 0.5

    def unmapped_master() -> Daemon:
        master = master_with_no_cached_log_path(healthy_pool)
        Pool.objects.filter(pk=master.pool_id).update(log_path_to="/nonexistent-mount/")
        return Daemon.objects.select_related("pool").get(pk=master.pk)

    master = await database_sync_to_async(unmapped_master)()
    size_before = master_log(healthy_pool).stat().st_size
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/daemon/{master.pk}/log/MASTER_LOG/")
    communicator.scope["user"] = operator
    assert (await communicator.connect())[0]
    first = await communicator.receive_json_from(timeout=30)
    while (await communicator.receive_json_from(timeout=30)).get("end", 0) < size_before:
        pass  # the backlog, which may hold the SIGHUPs of earlier tests

    record = await database_sync_to_async(services.command_send)(
        user=operator, daemon=master, command=Command.Reconfig, client=services.ClientInfo()
    )
    assert record.outcome == "sent", record.error
    seen: list[str] = []
    while not any("Sent SIGHUP to SCHEDD" in line for line in seen):
        seen += (await communicator.receive_json_from(timeout=30)).get("lines", [])
    await communicator.disconnect()

    assert first["message"] == "Following the log through condor_fetchlog."


def test_the_log_page_and_download_use_condor_fetchlog_where_the_file_is_out_of_reach(
    client, viewer, healthy_pool: devpool.DevPool
) -> None:
    master = master_with_no_cached_log_path(healthy_pool)
    Pool.objects.filter(pk=master.pool_id).update(log_path_to="/nonexistent-mount/")
    client.force_login(viewer)

    page = client.get(reverse("daemons:daemon_log", args=[master.pk])).content.decode()
    download = client.get(reverse("daemons:daemon_log_download", args=[master.pk]))

    assert "fetched whole with condor_fetchlog" in page
    assert "/nonexistent-mount" in page  # why the file itself could not be read
    assert b"condor_master" in downloaded(download)


async def test_viewers_see_the_master_exit_after_offfast_and_then_that_the_pool_cannot_be_read(
    healthy_pool: devpool.DevPool, admin
) -> None:
    master = await database_sync_to_async(master_with_no_cached_log_path)(healthy_pool)
    communicator = await viewer_from_the_end(healthy_pool, master, admin)
    lines: list[str] = []
    told: list[str] = []
    try:
        record = await database_sync_to_async(services.command_send)(
            user=admin, daemon=master, command=Command.OffFast, client=services.ClientInfo()
        )
        assert record.outcome == "sent", record.error
        while not any("EXITING WITH STATUS 0" in line for line in lines):
            lines += (await communicator.receive_json_from(timeout=30)).get("lines", [])
        # The console reads the pool again (as a page would); its collector went with the master.
        await database_sync_to_async(inventory_services.pool_refresh)(pool=master.pool)
        while not told:
            message = await communicator.receive_json_from(timeout=30)
            if message["type"] == "daemon":
                told.append(message["message"])
    finally:
        await communicator.disconnect()
        await asyncio.to_thread(devpool.start, healthy_pool.name)

    assert told[0].startswith("the pool cannot be read: ")
