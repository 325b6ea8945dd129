"""A pool that is down, refuses the console or never answers: its own clear error, in bounded time, and other pools unaffected.

The waits are bounded by CONDORWEB_HTCONDOR_TIMEOUT (``condor.workers.configure(timeout=...)``).
"""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.urls import reverse
from huey.contrib.djhuey import HUEY as huey

import condor.client
import condor.workers
from condor.errors import (
    READ_HINT,
    DaemonUnreachable,
    NotAuthorized,
    ProtocolError,
    ProtocolTimeout,
)
from condor.types import Credentials
from daemons.inventory import services
from daemons.models import Daemon, Pool
from devtools import devpool
from engine import queue
from tests.helpers import Queued, fresh_pool, register, wait_for
from tests.logs.test_log_consumer import append, connect, lines_until, url
from tests.servers import child_processes

BOGUS_TOKEN = "eyJhbGciOiJIUzI1NiIsImtpZCI6IlBPT0wifQ.eyJzdWIiOiJjb25zb2xlIn0.c2lnbmF0dXJl\n"


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _pool_page(user: User, pool: Pool) -> str:
    response = _client(user).get(reverse("daemons:pool_detail", args=[pool.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_collector_that_is_down_is_reported_as_unreachable(viewer: User, closed_port: int) -> None:
    pool = services.pool_save(name="down", collector=f"127.0.0.1:{closed_port}")

    refreshed = services.pool_refresh(pool=pool)

    assert refreshed.last_refresh_error.startswith("Cannot connect")
    assert "The last refresh failed:" in _pool_page(viewer, refreshed)


def test_a_black_holed_collector_times_out_within_the_configured_bound(
    viewer: User, black_hole: int, short_timeout: None
) -> None:
    pool = services.pool_save(name="silent", collector=f"127.0.0.1:{black_hole}")

    refreshed = services.pool_refresh(pool=pool)

    assert "No answer from HTCondor within 1.5 s" in refreshed.last_refresh_error
    assert "CONDORWEB_HTCONDOR_TIMEOUT" in refreshed.last_refresh_error
    assert "No answer from HTCondor within 1.5 s" in _pool_page(viewer, refreshed)


def test_a_collector_that_refuses_the_console_says_so(viewer: User, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(collector: str, credentials: Credentials) -> list:
        raise NotAuthorized(f"The collector at {collector} refused the query: DENIED", hint=READ_HINT)

    monkeypatch.setattr(condor.client, "discover", refuse)
    pool = services.pool_save(name="strict", collector="127.0.0.1:9618")

    refreshed = services.pool_refresh(pool=pool)

    assert refreshed.last_refresh_error.startswith("The collector at 127.0.0.1:9618 refused the query")
    assert "refused the query" in _pool_page(viewer, refreshed)


def test_the_three_faults_read_differently(closed_port: int, black_hole: int, short_timeout: None) -> None:
    errors = {}
    for name, collector in (("down", f"127.0.0.1:{closed_port}"), ("silent", f"127.0.0.1:{black_hole}")):
        with pytest.raises(ProtocolError) as caught:
            condor.client.discover(collector, Credentials())
        errors[name] = caught.value
    assert isinstance(errors["down"], DaemonUnreachable)
    assert isinstance(errors["silent"], ProtocolTimeout)
    assert str(errors["down"]) != str(errors["silent"])


@pytest.fixture
def patient_timeout() -> Iterator[None]:
    # Long enough that the requests below surely fall inside it; nothing waits for it to pass but the last check.
    condor.workers.configure(timeout=5.0)
    yield
    condor.workers.configure(timeout=10.0)
    condor.workers.shutdown_workers()


@contextmanager
def refresh_in_a_worker(background_jobs: Queued, pool: Pool) -> Iterator[Callable[[], bool]]:
    """The queued refresh of ``pool`` run in a thread of its own, as a worker would; yields "is it running?".

    On the way out, even after a failure, it waits for the refresh to give up, so none
    outlives the test's database and worker processes.
    """

    # Only this pool's: the other pools' first refreshes (their collectors are made up) stay out of the way.
    mine = [task for task in huey.pending() if task.args == (pool.pk, "asked")]
    assert mine, "the pool's refresh is not queued"
    huey.storage.flush_queue()
    for task in mine:
        huey.storage.enqueue(huey.serialize_task(task))

    def work() -> None:
        try:
            background_jobs.run("pool_refresh")
        finally:
            connection.close()

    worker = threading.Thread(target=work, name="test-worker")
    worker.start()

    def running() -> bool:
        return worker.is_alive() and queue.is_locked(pool_id=pool.pk, lock="refresh")

    try:
        wait_for(running, timeout=5, what="the refresh to start in the worker")
        yield running
    finally:
        worker.join(timeout=20)
        assert not worker.is_alive(), "the black-holed refresh did not give up"


@pytest.mark.django_db(transaction=True)
def test_other_pools_pages_answer_while_a_refresh_of_a_black_holed_pool_runs(
    viewer: User, black_hole: int, patient_timeout: None, background_jobs: Queued
) -> None:
    silent = services.pool_save(name="silent", collector=f"127.0.0.1:{black_hole}")
    other = fresh_pool("healthy")
    Daemon.objects.create(pool=other, kind="master", name="master@ok", machine="ok", address="<127.0.0.1:9>")
    client = _client(viewer)

    with refresh_in_a_worker(background_jobs, silent) as running:
        other_page = client.get(reverse("daemons:pool_detail", args=[other.pk]))
        own_page = client.get(reverse("daemons:pool_detail", args=[silent.pk]))
        pool_list = client.get(reverse("daemons:pool_list"))
        still_waiting = running()

    assert other_page.status_code == 200 and "master@ok" in other_page.content.decode()
    assert own_page.status_code == 200 and "refreshing…" in own_page.content.decode()
    assert pool_list.status_code == 200
    assert still_waiting, "the pages must have been served while the refresh was stuck"
    silent.refresh_from_db()
    assert "No answer from HTCondor within 5 s" in silent.last_refresh_error


@pytest.mark.django_db(transaction=True)
async def test_another_pools_live_log_follows_while_a_refresh_of_a_black_holed_pool_runs(
    viewer: User, master: Daemon, log_dir: Path, black_hole: int, patient_timeout: None, background_jobs: Queued
) -> None:
    silent = await database_sync_to_async(services.pool_save)(name="silent", collector=f"127.0.0.1:{black_hole}")
    log = log_dir / "MasterLog"
    append(log, "before the refresh")

    with refresh_in_a_worker(background_jobs, silent) as running:
        # Well inside patient_timeout: a stream the refresh held up fails here, not after the refresh gave up.
        async with asyncio.timeout(2):
            communicator = await connect(viewer, url(master))
            await lines_until(communicator, "before the refresh")
            append(log, "while the refresh waits")
            followed, _, _ = await lines_until(communicator, "while the refresh waits")
        still_waiting = running()
        await communicator.disconnect()

    assert followed == ["while the refresh waits"]
    assert still_waiting, "the line must have arrived while the refresh was stuck"
    await database_sync_to_async(silent.refresh_from_db)()
    assert "No answer from HTCondor within 5 s" in silent.last_refresh_error


@pytest.mark.integration
def test_a_wrong_token_saves_the_pool_with_a_warning_that_commands_will_be_refused(
    admin: User, healthy_pool: devpool.DevPool, tmp_path: Path
) -> None:
    bogus = tmp_path / "bogus.token"
    bogus.write_text(BOGUS_TOKEN)
    bogus.chmod(0o600)

    response = _client(admin).post(
        reverse("daemons:pool_add"),
        {
            "name": "wrong-token",
            "collector": healthy_pool.collector,
            "token_file": str(bogus),
            "config_val": shlex.join(healthy_pool.config_val),
            "log_path_from": "/",
            "log_path_to": healthy_pool.host_root + "/",
        },
    )

    assert response.status_code == 302, response.context["form"].errors if response.context else response
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(t.startswith("ADMINISTRATOR: not allowed on") for t in texts), texts


def _child_pid(parent: int, program: str) -> int | None:
    return next((pid for pid, name in child_processes(parent).items() if name == program), None)


@pytest.mark.integration
def test_a_schedd_killed_with_sigkill_shows_down_or_missing_and_no_error_page(
    viewer: User, healthy_pool: devpool.DevPool
) -> None:
    master_pid = devpool.master_pid(healthy_pool.name)
    assert master_pid is not None
    schedd_pid = _child_pid(master_pid, "condor_schedd")
    pool = register(healthy_pool)
    services.pool_refresh(pool=pool)
    schedd = Daemon.objects.get(pool=pool, kind="schedd")
    assert schedd.state == Daemon.State.UP

    os.kill(schedd_pid, signal.SIGKILL)
    try:
        wait_for(
            lambda: (
                services.pool_refresh(pool=pool)
                and Daemon.objects.get(pk=schedd.pk).state in (Daemon.State.DOWN, Daemon.State.MISSING)
            ),
            timeout=60,
            interval=0.5,
            what="the killed schedd to show down or missing",
        )
        client = _client(viewer)
        pool_page = client.get(reverse("daemons:pool_detail", args=[pool.pk]))
        daemon_page = client.get(reverse("daemons:daemon_detail", args=[schedd.pk]))
        assert pool_page.status_code == 200 and daemon_page.status_code == 200
        assert Pool.objects.get(pk=pool.pk).last_refresh_error == ""
    finally:
        # The master starts it again; later tests want the whole pool.
        wait_for(
            lambda: _child_pid(master_pid, "condor_schedd") not in (None, schedd_pid),
            timeout=90,
            what="the master to restart the schedd",
        )


@pytest.mark.integration
def test_the_real_pool_stopped_is_reported_unreachable_and_recovers_when_started(
    viewer: User, healthy_pool: devpool.DevPool
) -> None:
    pool = register(healthy_pool)
    devpool.down(healthy_pool.name)
    try:
        stopped = services.pool_refresh(pool=pool)
        assert stopped.last_refresh_error.startswith("Cannot connect")
        assert "The last refresh failed:" in _pool_page(viewer, stopped)
    finally:
        devpool.up(healthy_pool.name, healthy_pool.port)
    recovered = wait_for(
        lambda: (p := services.pool_refresh(pool=pool)).last_refresh_error == "" and p,
        timeout=60,
        interval=1.0,
        what="the restarted pool to answer",
    )
    assert "The last refresh failed:" not in _pool_page(viewer, recovered)
