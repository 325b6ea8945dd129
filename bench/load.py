"""Load on daphne processes over one PostgreSQL and one Redis, as docs/deployment.md runs them.

The load run: 200 websocket viewers of the bench pool's MasterLog plus 50 page
requests a second for a minute against one daphne process, counting every
error and timing each page and each log line from its write to each viewer.

Then scale-out: logged-in clients fetch the pools page for a fixed time through
one process, then spread over two (as nginx would).

All on real PostgreSQL and Redis servers (tests/servers.py). The load
generator shares the machine's two cores with the servers, so the figures are
a floor for a real proxy and client fleet.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from itertools import cycle
from pathlib import Path

import websockets

from bench import Row, percentile
from bench.context import BenchContext
from tests import servers

CLIENTS = 8
SECONDS = 8.0
POOLS = 20
BROADCASTS = 200
ADMIN_PASSWORD = secrets.token_urlsafe(16)

VIEWERS = 200
PAGES_PER_SECOND = 50
LOAD_SECONDS = 60.0
LINES_PER_SECOND = 5
VIEWER_RAMP_SECONDS = 2.0
MARK = f"condorweb-load-run-{secrets.token_hex(4)}"  # lines of earlier runs are in the backlog


def run(context: BenchContext) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="condorweb-bench-load-") as tmp, servers.Servers() as started:
        assert started.postgres and started.redis
        directory = Path(tmp)
        environment = servers.production_environment(
            directory,
            database_url=started.postgres.url(),
            redis_url=started.redis.url(),
            admin_password=ADMIN_PASSWORD,
            secret_key=secrets.token_urlsafe(64),
        )
        consoles = [servers.Console(environment, log=directory / f"daphne-{n}.log") for n in range(2)]
        try:
            consoles[0].prepare()
            consoles[0].manage("shell", "-c", _CREATE_POOLS)
            consoles[0].manage("devpool", "up", "--name", context.pool.name, "--port", str(context.pool.port))
            consoles[0].start()
            run = asyncio.run(_load_run(consoles[0], context))
            consoles[1].start()
            one = _load([consoles[0].url])
            two = _load([c.url for c in consoles])
        finally:
            for console in consoles:
                console.stop()
        broadcast = asyncio.run(_broadcast_latencies(started.redis.url()))
    one_rate = len(one) / SECONDS
    two_rate = len(two) / SECONDS
    return run.rows() + [
        Row(
            figure=f"pools page, {CLIENTS} clients, 1 process",
            value=one_rate,
            unit="req/s",
            target="",
            met=None,
            note=f"p95 {percentile(one, 95) * 1000:.0f} ms",
        ),
        Row(
            figure=f"pools page, {CLIENTS} clients, 2 processes",
            value=two_rate,
            unit="req/s",
            # Two cores run both servers and the clients here: more processes
            # must not cost throughput; gains need more cores or hosts.
            target=">= 90% of 1 process",
            met=two_rate >= one_rate * 0.9,
            anchor="1 process",
            anchor_value=one_rate,
            note=f"p95 {percentile(two, 95) * 1000:.0f} ms; 2 cores shared with the clients",
        ),
        Row(
            figure=f"pools page p95, {CLIENTS} clients, 2 processes",
            value=percentile(two, 95) * 1000,
            unit="ms",
            target="<= 500 ms",
            met=percentile(two, 95) <= 0.5,
            anchor="1 process",
            anchor_value=percentile(one, 95) * 1000,
        ),
        Row(
            figure="group message through Redis, send to receive, p95",
            value=percentile(broadcast, 95) * 1000,
            unit="ms",
            target="<= 20 ms",
            met=percentile(broadcast, 95) <= 0.02,
            note=f"p50 {percentile(broadcast, 50) * 1000:.2f} ms over {BROADCASTS}",
        ),
    ]


_CREATE_POOLS = (
    "from daemons.models import Pool; "
    f"Pool.objects.bulk_create([Pool(name=f'pool-{{n:03}}', collector=f'cm{{n}}.example.org:9618') for n in range({POOLS})])"
)


def _load(urls: list[str]) -> list[float]:
    """Seconds per request of every request that answered 200 within the run."""
    browsers = []
    for n in range(CLIENTS):
        browser = servers.Browser(urls[n % len(urls)], client_address=f"192.0.2.{n + 1}")
        browser.log_in("admin", ADMIN_PASSWORD)
        browsers.append(browser)
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()
    deadline = time.monotonic() + SECONDS

    def client(browser: servers.Browser, start: int) -> None:
        # Each request may land on any process, as behind the proxy.
        targets = cycle([browser.at(url) for url in urls[start:] + urls[:start]])
        while time.monotonic() < deadline:
            began = time.monotonic()
            status = next(targets).get("/").status
            with lock:
                (latencies.append(time.monotonic() - began) if status == 200 else failures.append(status))

    threads = [threading.Thread(target=client, args=(b, n % len(urls))) for n, b in enumerate(browsers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"{len(failures)} requests failed, e.g. HTTP {failures[0]}")
    return latencies


async def _broadcast_latencies(redis_url: str) -> list[float]:
    from channels_redis.core import RedisChannelLayer

    sender, listener = RedisChannelLayer(hosts=[redis_url]), RedisChannelLayer(hosts=[redis_url])
    channel = await listener.new_channel()
    await listener.group_add("bench", channel)
    latencies = []
    for n in range(BROADCASTS):
        began = time.monotonic()
        await sender.group_send("bench", {"type": "bench.ping", "n": n})
        await listener.receive(channel)
        latencies.append(time.monotonic() - began)
    await listener.flush()
    return latencies


class LoadRun:
    """What the load run saw: every page's time, every line's delay to every viewer, every error."""

    def __init__(self) -> None:
        self.pages: list[float] = []
        self.line_delays: list[float] = []
        self.errors: list[str] = []
        self.lines_written = 0
        self.viewers = 0

    def rows(self) -> list[Row]:
        expected = self.lines_written * self.viewers
        errors = len(self.errors)
        first = f"; first: {self.errors[0]}" if self.errors else ""
        return [
            Row(
                figure=f"load run: errors ({VIEWERS} log viewers + {PAGES_PER_SECOND} pages/s for {LOAD_SECONDS:.0f} s)",
                value=errors,
                unit="errors",
                target="0",
                met=errors == 0,
                note=f"{len(self.pages)} pages, {len(self.line_delays)} of {expected} line deliveries{first}",
            ),
            Row(
                figure="load run: page time p50",
                value=percentile(self.pages, 50) * 1000,
                unit="ms",
                target="-",
                met=None,
                note=f"p99 {percentile(self.pages, 99) * 1000:.0f} ms; pools list, pool and daemon pages",
            ),
            Row(
                figure=f"load run: log line, write to each of {VIEWERS} viewers, p50",
                value=percentile(self.line_delays, 50) * 1000,
                unit="ms",
                target="-",
                met=None,
                note=f"p99 {percentile(self.line_delays, 99) * 1000:.0f} ms",
            ),
        ]


async def _load_run(console: servers.Console, context: BenchContext) -> LoadRun:
    browser = servers.Browser(console.url, client_address="192.0.2.250")
    browser.log_in("admin", ADMIN_PASSWORD)
    ids = console.manage("shell", "--no-imports", "-c", _MASTER_IDS.format(name=context.pool.name)).stdout
    pool_id, master_id = json.loads(ids.splitlines()[-1])
    result = LoadRun()
    deadline = time.monotonic() + LOAD_SECONDS
    viewers = []
    for _ in range(VIEWERS):
        viewers.append(asyncio.create_task(_viewer(browser, master_id, deadline, result)))
        # Viewers arrive over two seconds rather than all in one instant.
        await asyncio.sleep(VIEWER_RAMP_SECONDS / VIEWERS)
    result.viewers = VIEWERS
    log_file = Path(context.pool.host_root + context.pool.log_dir) / "MasterLog"
    pages = ["/", f"/pool/{pool_id}/", f"/daemon/{master_id}/"]
    await asyncio.gather(
        _write_lines(log_file, deadline, result),
        asyncio.to_thread(_pages, browser, pages, deadline, result),
        *viewers,
    )
    return result


_MASTER_IDS = (
    "import json; from daemons.models import Daemon; "
    "m = Daemon.objects.get(pool__name='{name}', kind='master'); print(json.dumps([m.pool_id, m.pk]))"
)


async def _viewer(browser: servers.Browser, daemon_id: int, deadline: float, result: LoadRun) -> None:
    try:
        async with browser.websocket(f"/ws/daemon/{daemon_id}/log/MASTER_LOG/", max_size=None) as socket:
            # Lines written after the run's end may still be on their way.
            while (remaining := deadline + 2 - time.monotonic()) > 0:
                try:
                    message = json.loads(await asyncio.wait_for(socket.recv(), timeout=remaining))
                except TimeoutError:
                    break
                now = time.time()
                for line in message.get("lines", []):
                    if MARK in line:
                        result.line_delays.append(now - float(line.rsplit(" ", 1)[1]))
    except (OSError, websockets.WebSocketException) as exc:
        result.errors.append(f"viewer: {exc!r}")


async def _write_lines(log_file: Path, deadline: float, result: LoadRun) -> None:
    # Written once every viewer had time to connect, so each should get every line.
    await asyncio.sleep(5)
    with log_file.open("a") as log:
        while time.monotonic() < deadline - 1:
            log.write(f"{MARK} {result.lines_written} {time.time():.6f}\n")
            log.flush()
            result.lines_written += 1
            await asyncio.sleep(1 / LINES_PER_SECOND)


def _pages(browser: servers.Browser, pages: list[str], deadline: float, result: LoadRun) -> None:
    """Requests at a fixed rate, each on its own thread, whatever the previous ones are doing."""

    def get(path: str) -> None:
        began = time.monotonic()
        try:
            status = browser.get(path).status
        except OSError as exc:
            result.errors.append(f"page {path}: {exc!r}")
            return
        if status == 200:
            result.pages.append(time.monotonic() - began)
        else:
            result.errors.append(f"page {path}: HTTP {status}")

    with ThreadPoolExecutor(max_workers=32, thread_name_prefix="bench-pages") as pool:
        next_at = time.monotonic()
        for path in cycle(pages):
            if next_at >= deadline:
                break
            time.sleep(max(0.0, next_at - time.monotonic()))
            pool.submit(get, path)
            next_at += 1 / PAGES_PER_SECOND
