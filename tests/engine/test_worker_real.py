"""The task queue's guarantees, with real `manage.py worker` processes, SIGKILL and silent daemons.

Silent daemons are loopback ports that accept and never answer, so each send
lasts the HTCondor timeout (1 s here) and a worker can be killed mid-batch.
Each port notes when it was connected to: a command sent twice would show.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from condor.commands import Command
from configview import services as config_services
from configview.models import ConfigSnapshot
from daemons.commands import services as command_services
from daemons.models import CommandRecord, Daemon, Pool
from engine.models import Worker
from tests.helpers import wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

CLIENT = command_services.ClientInfo(address="192.0.2.7", user_agent="test")


class SilentDaemons:
    """``count`` loopback ports that accept connections and never answer; when each was connected to."""

    def __init__(self, count: int) -> None:
        self.selector = selectors.DefaultSelector()
        self.ports: list[int] = []
        self.connections: dict[int, list[float]] = {}
        self.kept: list[socket.socket] = []
        for _ in range(count):
            listener = socket.socket()
            listener.bind(("127.0.0.1", 0))
            listener.listen(64)
            listener.setblocking(False)
            port = listener.getsockname()[1]
            self.ports.append(port)
            self.connections[port] = []
            self.selector.register(listener, selectors.EVENT_READ, port)
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while self.running:
            for key, _ in self.selector.select(timeout=0.1):
                try:
                    conn, _ = key.fileobj.accept()  # type: ignore[union-attr]
                except BlockingIOError:
                    continue
                self.kept.append(conn)  # open and silent: the sender waits for its timeout
                self.connections[key.data].append(time.monotonic())

    def connected_after(self, moment: float) -> set[int]:
        return {port for port, times in self.connections.items() if any(t > moment for t in times)}

    def close(self) -> None:
        self.running = False
        self.thread.join()
        for conn in self.kept:
            conn.close()
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]


@pytest.fixture
def silent() -> Iterator[SilentDaemons]:
    daemons = SilentDaemons(20)
    yield daemons
    daemons.close()


def _silent_masters(pool: Pool, ports: list[int]) -> list[Daemon]:
    return [
        Daemon.objects.create(
            pool=pool,
            kind="master",
            name=f"master@silent{i}",
            machine=f"silent{i}",
            address=f"<127.0.0.1:{port}>",
            subsystem="MASTER",
        )
        for i, port in enumerate(ports)
    ]


def _outcomes(batch) -> dict[str, str]:
    return dict(CommandRecord.objects.filter(batch=batch).values_list("daemon_address", "outcome"))


def test_a_worker_killed_mid_batch_leaves_the_rest_to_the_next_and_nothing_is_sent_twice(
    operator: User, sqlite_queue: str, start_worker, silent: SilentDaemons
) -> None:
    pool = Pool.objects.create(name="silent", collector="127.0.0.1:1")
    masters = _silent_masters(pool, silent.ports)
    batch = command_services.command_batch_start(
        user=operator, daemons=masters, command=Command.Reconfig, client=CLIENT
    )
    first = start_worker(sqlite_queue, CONDORWEB_WORKERS_PER_POOL="1")
    wait_for(
        lambda: list(_outcomes(batch).values()).count("timeout") >= 3,
        timeout=60,
        what="three sends to time out",
    )
    first.kill()
    killed_at = time.monotonic()
    at_kill = _outcomes(batch)
    in_flight = [address for address, outcome in at_kill.items() if outcome == "sending"]
    done = [address for address, outcome in at_kill.items() if outcome not in ("pending", "sending")]
    assert len(in_flight) <= 1 and 3 <= len(done) < 20

    start_worker(sqlite_queue, CONDORWEB_WORKERS_PER_POOL="4")
    wait_for(
        lambda: not {"pending", "sending"} & set(_outcomes(batch).values()),
        timeout=120,
        what="the second worker to finish the batch",
    )
    final = _outcomes(batch)
    for address in in_flight:
        assert final[address] == "unknown"
        record = CommandRecord.objects.get(batch=batch, daemon_address=address)
        assert record.error == command_services.WORKER_STOPPED and record.completed_at is not None
    assert {address for address, outcome in final.items() if outcome == "timeout"} == set(final) - set(in_flight)
    # Sent at most once: nothing the first worker sent or held was sent again by the second.
    port_of = {f"<127.0.0.1:{port}>": port for port in silent.ports}
    resent = silent.connected_after(killed_at) & {port_of[address] for address in done + in_flight}
    assert resent == set()


def test_a_fetch_killed_mid_way_is_failed_with_that_reason_when_the_next_worker_starts(
    operator: User, sqlite_queue: str, start_worker, silent: SilentDaemons
) -> None:
    pool = Pool.objects.create(name="silent", collector="127.0.0.1:1")
    (master,) = _silent_masters(pool, silent.ports[:1])
    snapshot = config_services.config_snapshot_fetch(user=operator, daemon=master)
    first = start_worker(sqlite_queue, CONDORWEB_HTCONDOR_TIMEOUT="5")
    wait_for(
        lambda: ConfigSnapshot.objects.get(pk=snapshot.pk).status == ConfigSnapshot.Status.RUNNING,
        timeout=60,
        what="the fetch to start",
    )
    first.kill()
    start_worker(sqlite_queue)
    wait_for(
        lambda: ConfigSnapshot.objects.get(pk=snapshot.pk).status == ConfigSnapshot.Status.FAILED,
        timeout=60,
        what="the fetch to be failed",
    )
    assert ConfigSnapshot.objects.get(pk=snapshot.pk).error == config_services.WORKER_STOPPED


def test_a_worker_says_who_it_is_while_it_runs_and_that_it_stopped(sqlite_queue: str, start_worker) -> None:
    worker = start_worker(sqlite_queue)
    row = Worker.objects.get()
    assert row.pid == worker.process.pid and row.stopped_at is None
    beat = row.beat_at
    wait_for(lambda: Worker.objects.get().beat_at > beat, timeout=10, what="a heartbeat")
    worker.stop()
    assert Worker.objects.get().stopped_at is not None


def test_a_second_worker_on_the_embedded_queue_is_refused_with_the_way_out(sqlite_queue: str, start_worker) -> None:
    start_worker(sqlite_queue)
    with pytest.raises(pytest.fail.Exception) as refused:
        start_worker(sqlite_queue)
    assert "uses the embedded queue: it serves one worker process" in str(refused.value)
    assert "CONDORWEB_QUEUE_URL to a Redis URL" in str(refused.value)


def test_the_watch_refreshes_every_pool_with_no_page_open(sqlite_queue: str, start_worker) -> None:
    pools = [Pool.objects.create(name=f"watched-{i}", collector="127.0.0.1:1") for i in range(3)]
    started = timezone.now()
    start_worker(sqlite_queue, CONDORWEB_WATCH_INTERVAL="2")
    wait_for(
        lambda: Pool.objects.filter(pk__in=[p.pk for p in pools], last_refreshed_at__gt=started).count() == 3,
        timeout=60,
        what="every pool to be read",
    )
    first = {p.pk: p.last_refreshed_at for p in Pool.objects.filter(pk__in=[p.pk for p in pools])}
    wait_for(
        lambda: all(p.last_refreshed_at > first[p.pk] for p in Pool.objects.filter(pk__in=first)),
        timeout=30,
        what="every pool to be read again",
    )
    assert all("Cannot" in p.last_refresh_error or p.last_refresh_error for p in Pool.objects.filter(pk__in=first))
