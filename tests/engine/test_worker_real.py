"""The task queue's guarantees, with real `manage.py worker` processes, SIGKILL and silent daemons.

Silent daemons are loopback ports that accept and never answer, so each send
lasts the HTCondor timeout and a worker can be killed mid-batch. Each port
notes when it was connected to: a command sent twice would show. HTCondor's
client connects about 4.4 s into a call to a silent daemon here, so the sends
whose connections are counted get a 6 s timeout.
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
from huey.contrib.djhuey import HUEY as huey

from condor.commands import Command
from configview import services as config_services
from configview.models import ConfigSnapshot
from daemons.commands import services as command_services
from daemons.inventory import services as inventory_services
from daemons.models import CommandRecord, Daemon, DaemonStateChange, Pool
from engine.models import Worker
from tests.helpers import register, schedd_turned_off, wait_for

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
        # Per port, each connection's [opened, closed] (closed: None while open).
        self.intervals: dict[int, list[list[float | None]]] = {port: [] for port in self.ports}
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while self.running:
            for key, _ in self.selector.select(timeout=0.1):
                if isinstance(key.data, list):  # a connection: data, or the sender gave up (EOF)
                    try:
                        data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    except OSError:
                        data = b""
                    if not data:
                        key.data[1] = time.monotonic()
                        self.selector.unregister(key.fileobj)
                    continue
                try:
                    conn, _ = key.fileobj.accept()  # type: ignore[union-attr]
                except BlockingIOError:
                    continue
                now = time.monotonic()
                self.kept.append(conn)  # open and silent: the sender waits for its timeout
                self.connections[key.data].append(now)
                interval: list[float | None] = [now, None]
                self.intervals[key.data].append(interval)
                conn.setblocking(False)
                self.selector.register(conn, selectors.EVENT_READ, interval)

    def most_open_at_once(self, port: int) -> int:
        edges = sorted(
            [(opened, 1) for opened, _ in self.intervals[port]]
            + [(closed, -1) for _, closed in self.intervals[port] if closed is not None]
        )
        most = current = 0
        for _, step in edges:
            current += step
            most = max(most, current)
        return most

    def connected_after(self, moment: float) -> set[int]:
        return {port for port, times in self.connections.items() if any(t > moment for t in times)}

    def close(self) -> None:
        self.running = False
        self.thread.join()
        for conn in self.kept:
            if conn.fileno() != -1:
                try:
                    self.selector.unregister(conn)
                except (KeyError, ValueError):
                    pass
                conn.close()
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        self.selector.close()


@pytest.fixture
def silent() -> Iterator[SilentDaemons]:
    daemons = SilentDaemons(20)
    yield daemons
    daemons.close()


def _silent_masters(pool: Pool, ports: list[int], prefix: str = "silent") -> list[Daemon]:
    return [
        Daemon.objects.create(
            pool=pool,
            kind="master",
            name=f"master@{prefix}{i}",
            machine=f"{prefix}{i}",
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
    first = start_worker(sqlite_queue, CONDORWEB_WORKERS_PER_POOL="1", CONDORWEB_HTCONDOR_TIMEOUT="6")
    wait_for(
        lambda: list(_outcomes(batch).values()).count("timeout") >= 2,
        timeout=60,
        what="two sends to time out",
    )
    first.kill()
    killed_at = time.monotonic()
    at_kill = _outcomes(batch)
    in_flight = [address for address, outcome in at_kill.items() if outcome == "sending"]
    done = [address for address, outcome in at_kill.items() if outcome not in ("pending", "sending")]
    assert len(in_flight) <= 1 and 2 <= len(done) < 20
    port_of = {f"<127.0.0.1:{port}>": port for port in silent.ports}
    assert all(silent.connections[port_of[address]] for address in done)  # they did reach the daemons

    start_worker(sqlite_queue, CONDORWEB_WORKERS_PER_POOL="6", CONDORWEB_HTCONDOR_TIMEOUT="6")
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
    # Sent at most once: nothing the first worker sent or held was sent again by the second,
    # which did send the rest.
    assert silent.connected_after(killed_at) >= {port_of[a] for a in set(final) - set(done) - set(in_flight)}
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
    assert worker.process is not None and row.pid == worker.process.pid and row.stopped_at is None
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


def test_one_refresh_of_a_pool_runs_at_a_time_across_workers_and_one_asked_for_meanwhile_waits_once(
    redis_queue: str, start_worker, silent: SilentDaemons
) -> None:
    collector = silent.ports[0]
    pool = Pool.objects.create(name="slow", collector=f"127.0.0.1:{collector}")
    settings = {"CONDORWEB_HTCONDOR_TIMEOUT": "6", "CONDORWEB_WATCH_INTERVAL": "3600"}
    start_worker(redis_queue, **settings)
    start_worker(redis_queue, **settings)
    for _ in range(3):
        inventory_services.pool_refresh_after_command(pool=pool)  # 9 refreshes, 1-15 s from now
    wait_for(lambda: silent.intervals[collector], timeout=60, what="a refresh to reach the collector")

    def asked() -> int:
        # Queued, or waiting in the schedule for the running refresh's lock.
        return [task.args for task in huey.pending() + huey.scheduled()].count((pool.pk, "asked"))

    inventory_services.pool_refresh_start(pool=pool)
    wait_for(lambda: asked() == 1, timeout=10, what="the asked-for refresh to wait for the running one")
    for _ in range(4):
        inventory_services.pool_refresh_start(pool=pool)
    assert asked() == 1
    wait_for(
        lambda: len([i for i in silent.intervals[collector] if i[1] is not None]) >= 4,
        timeout=120,
        what="four refreshes to give up on the collector",
    )
    assert silent.most_open_at_once(collector) == 1


def test_silent_pools_never_hold_up_a_healthy_pools_refresh(
    operator: User, sqlite_queue: str, start_worker, silent: SilentDaemons, healthy_pool
) -> None:
    healthy = register(healthy_pool)
    for i in range(2):
        silent_pool = Pool.objects.create(name=f"silent-{i}", collector=f"127.0.0.1:{silent.ports[i]}")
        for half in (silent.ports[2 + i * 9 : 6 + i * 9], silent.ports[6 + i * 9 : 11 + i * 9]):
            command_services.command_batch_start(
                user=operator,
                daemons=_silent_masters(silent_pool, half, prefix=f"p{i}-{half[0]}"),
                command=Command.Reconfig,
                client=CLIENT,
            )
    start_worker(sqlite_queue, CONDORWEB_HTCONDOR_TIMEOUT="6", CONDORWEB_WATCH_INTERVAL="3600")
    # Every silent pool's slots busy: its refresh and batches wait on daemons that never answer.
    wait_for(
        lambda: CommandRecord.objects.filter(outcome="sending").count() >= 2,
        timeout=60,
        what="the silent batches to be sending",
    )
    before = Pool.objects.get(pk=healthy.pk).last_refreshed_at
    asked = time.monotonic()
    inventory_services.pool_refresh_start(pool=healthy)
    wait_for(
        lambda: Pool.objects.get(pk=healthy.pk).last_refreshed_at != before,
        timeout=30,
        what="the healthy pool's refresh",
    )
    took = time.monotonic() - asked
    assert Pool.objects.get(pk=healthy.pk).last_refresh_error == ""
    # A silent send lasts 6 s: the healthy refresh waited for none of them.
    assert took < 5, took
    assert CommandRecord.objects.filter(outcome__in=["pending", "sending"]).exists()


def test_the_watch_records_a_schedd_going_down_and_up_with_no_page_open(
    sqlite_queue: str, start_worker, healthy_pool, credentials
) -> None:
    pool = register(healthy_pool)
    start_worker(sqlite_queue, CONDORWEB_WATCH_INTERVAL="2")
    schedd = wait_for(
        lambda: Daemon.objects.filter(pool=pool, kind="schedd", state="up").first(),
        timeout=60,
        what="the watch to find the schedd up",
    )
    master = Daemon.objects.get(pool=pool, kind="master").target
    with schedd_turned_off(master, credentials):
        wait_for(
            lambda: DaemonStateChange.objects.filter(daemon=schedd, new_state="down").exists(),
            timeout=60,
            what="the watch to see the schedd down",
        )
    wait_for(
        lambda: DaemonStateChange.objects.filter(daemon=schedd, old_state="down", new_state="up").exists(),
        timeout=90,
        what="the watch to see the schedd up again",
    )
