"""Live logs: from a line appended to the file to its arrival in a websocket client.

One daphne process (in-memory channel layer, as a single-process site runs),
a logged-in administrator's websocket clients on the client-log route (the
same reader and consumer as a daemon's log, without asking a daemon for the
path), and ``tail -F`` reading the same file in the same run as the floor.
The writer, the clients and ``tail`` share the machine's cores with daphne.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench import Row, cpu_seconds, percentile
from tests import servers

LATENCY_LINES = 400
LATENCY_SPACING = 0.005
THROUGHPUT_LINES = 200_000
FAN_OUT_CLIENTS = 200
# A busy daemon log writes a few lines a second; 10/s to 200 viewers is the
# figure with a target, 50/s the same setup pushed until it shows the limit.
FAN_OUT_LINES = 100
FAN_OUT_SPACING = 0.1
STRESS_SPACING = 0.02
PASSWORD = secrets.token_urlsafe(16)


def run(context: Any) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="condorweb-bench-logs-") as tmp:
        directory = Path(tmp)
        log = directory / "client.log"
        log.touch()
        environment = {
            "DJANGO_SETTINGS_MODULE": "condorweb.settings",
            "CONDORWEB_SECRET_KEY": secrets.token_urlsafe(64),
            "CONDORWEB_ALLOWED_HOSTS": "127.0.0.1",
            "CONDORWEB_DATA_DIR": str(directory / "data"),
            "CONDORWEB_STATIC_ROOT": str(directory / "static"),
            "CONDORWEB_ADMIN_PASSWORD": PASSWORD,
            "CONDORWEB_TOOL_LOG": str(log),
            "CONDORWEB_LOG_LEVEL": "WARNING",
            "CONDORWEB_LOG_BACKLOG_LINES": "0",
        }
        console = servers.Console(environment, log=directory / "daphne.log")
        try:
            console.prepare()
            console.start()
            browser = servers.Browser(console.url)
            browser.log_in("admin", PASSWORD)
            return asyncio.run(_measure(browser, log, console.process.pid))
        finally:
            console.stop()


async def _measure(browser: servers.Browser, log: Path, server_pid: int) -> list[Row]:
    one = await _latency(browser, log, clients=1, lines=LATENCY_LINES, spacing=LATENCY_SPACING)
    rate, tail_rate = await _throughput(browser, log)
    server_cpu, client_cpu, wall = cpu_seconds(server_pid), time.process_time(), time.monotonic()
    many = await _latency(browser, log, clients=FAN_OUT_CLIENTS, lines=FAN_OUT_LINES, spacing=FAN_OUT_SPACING)
    server_cpu, client_cpu, wall = (
        cpu_seconds(server_pid) - server_cpu,
        time.process_time() - client_cpu,
        time.monotonic() - wall,
    )
    stress, stress_tail = await _latency(
        browser, log, clients=FAN_OUT_CLIENTS, lines=FAN_OUT_LINES, spacing=STRESS_SPACING
    )
    ws, tail = one
    ws_many, tail_many = many
    load = f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    return [
        Row(
            figure=f"log line append → websocket client, p50 ({LATENCY_LINES} lines)",
            value=percentile(ws, 50) * 1000,
            unit="ms",
            target="<= 20 ms",
            met=percentile(ws, 50) <= 0.020,
            anchor="tail -F, same lines",
            anchor_value=percentile(tail, 50) * 1000,
        ),
        Row(
            figure=f"log line append → websocket client, p99 ({LATENCY_LINES} lines)",
            value=percentile(ws, 99) * 1000,
            unit="ms",
            target="<= 100 ms",
            met=percentile(ws, 99) <= 0.100,
            anchor="tail -F, same lines",
            anchor_value=percentile(tail, 99) * 1000,
            note=load,
        ),
        Row(
            figure=f"log lines/s to one websocket client ({THROUGHPUT_LINES:,} lines)",
            value=rate,
            unit="lines/s",
            target=">= 20,000 lines/s",
            met=rate >= 20_000,
            anchor="tail -F, same lines",
            anchor_value=tail_rate,
        ),
        Row(
            figure=f"log line append → websocket client, p99 with {FAN_OUT_CLIENTS} clients on one process, "
            f"{1 / FAN_OUT_SPACING:.0f} lines/s",
            value=percentile(ws_many, 99) * 1000,
            unit="ms",
            target="<= 250 ms",
            met=percentile(ws_many, 99) <= 0.250,
            anchor="tail -F, same lines",
            anchor_value=percentile(tail_many, 99) * 1000,
            note=f"p50 {percentile(ws_many, 50) * 1000:.1f} ms over {len(ws_many):,} deliveries; CPU over {wall:.1f} s: "
            f"daphne {server_cpu:.1f} s, the 200 clients {client_cpu:.1f} s; {load}",
        ),
        Row(
            figure=f"the same at {1 / STRESS_SPACING:.0f} lines/s ({FAN_OUT_CLIENTS / STRESS_SPACING:,.0f} messages/s)",
            value=percentile(stress, 99) * 1000,
            unit="ms",
            target="-",
            met=None,
            anchor="tail -F, same lines",
            anchor_value=percentile(stress_tail, 99) * 1000,
            note=f"p50 {percentile(stress, 50) * 1000:.1f} ms; one daphne process is one core",
        ),
    ]


async def _connect(browser: servers.Browser):
    socket = await browser.websocket("/ws/diagnostics/client-log/", max_size=None)
    first = json.loads(await socket.recv())
    if first.get("state") != "following":
        raise RuntimeError(f"the log stream did not start: {first}")
    return socket


class _Tail:
    """``tail -F`` on the file, its lines timed as they arrive."""

    def __init__(self, log: Path) -> None:
        self.arrivals: dict[str, float] = {}
        self.count = 0
        self.last = 0.0
        self._process = subprocess.Popen(["tail", "-F", "-n", "0", str(log)], stdout=subprocess.PIPE)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        time.sleep(0.3)  # tail opens the file and seeks to its end

    def _read(self) -> None:
        assert self._process.stdout is not None
        for raw in self._process.stdout:
            now = time.monotonic()
            line = raw.decode(errors="replace").rstrip("\n")
            self.count += 1
            self.last = now
            if line.startswith("bench "):
                self.arrivals.setdefault(line, now)

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=5)


async def _latency(
    browser: servers.Browser, log: Path, *, clients: int, lines: int, spacing: float
) -> tuple[list[float], list[float]]:
    sockets = [await _connect(browser) for _ in range(clients)]
    tail = _Tail(log)
    tag = secrets.token_hex(4)
    written: dict[str, float] = {}
    arrivals: list[dict[str, float]] = [{} for _ in sockets]

    async def receive(socket: Any, seen: dict[str, float]) -> None:
        while len(seen) < lines:
            message = json.loads(await socket.recv())
            now = time.monotonic()
            for line in message.get("lines", []):
                seen.setdefault(line, now)

    def write() -> None:
        with log.open("a", buffering=1) as handle:
            for n in range(lines):
                line = f"bench {tag} {n}"
                written[line] = time.monotonic()
                handle.write(line + "\n")
                time.sleep(spacing)

    receivers = [asyncio.create_task(receive(s, seen)) for s, seen in zip(sockets, arrivals, strict=True)]
    await asyncio.to_thread(write)
    await asyncio.wait_for(asyncio.gather(*receivers), timeout=120)
    await asyncio.sleep(0.2)
    tail.stop()
    for socket in sockets:
        await socket.close()
    ws = [seen[line] - at for seen in arrivals for line, at in written.items()]
    floor = [tail.arrivals[line] - at for line, at in written.items() if line in tail.arrivals]
    return ws, floor


async def _throughput(browser: servers.Browser, log: Path) -> tuple[float, float]:
    socket = await _connect(browser)
    tail = _Tail(log)
    tag = secrets.token_hex(4)
    block = "".join(
        f"bench {tag} {n} some typical log text of about eighty characters, padded out\n" for n in range(1000)
    )
    last = f"bench {tag} done"
    started = time.monotonic()
    with log.open("a") as handle:
        for _ in range(THROUGHPUT_LINES // 1000):
            handle.write(block)
        handle.write(last + "\n")
    received = 0
    while True:
        message = json.loads(await asyncio.wait_for(socket.recv(), timeout=60))
        received += len(message.get("lines", []))
        if message.get("lines") and message["lines"][-1] == last:
            break
    finished = time.monotonic()
    await socket.close()
    deadline = time.monotonic() + 30
    while tail.count < THROUGHPUT_LINES + 1 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    tail.stop()
    return received / (finished - started), tail.count / max(tail.last - started, 1e-9)
