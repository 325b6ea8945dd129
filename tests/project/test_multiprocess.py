"""Two daphne processes on one PostgreSQL and one Redis behave as one console.

This is how a site scales out (docs/deployment.md): any process may get any
request of a user, and a broadcast from one reaches listeners of the others.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import websockets
from channels_redis.core import RedisChannelLayer

from daemons import events
from devtools import devpool
from tests import servers
from tests.conftest import PASSWORD

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def consoles(
    real_services: servers.Endpoints, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[servers.Console]]:
    directory: Path = tmp_path_factory.mktemp("multiprocess")
    database = f"condorweb_mp_{secrets.token_hex(4)}"
    environment = servers.production_environment(
        directory,
        database_url=real_services.new_database(database),
        redis_url=real_services.redis_db(1),
        admin_password=PASSWORD,
        secret_key=secrets.token_urlsafe(64),
    )
    processes = [servers.Console(environment, log=directory / f"daphne-{name}.log") for name in "ab"]
    # The refreshes after a command run in the site's worker, on a queue of its own in the Redis server.
    worker = servers.Worker(
        {**environment, "CONDORWEB_QUEUE_URL": real_services.redis_db(2)}, log=directory / "worker.log"
    )
    for console in processes:
        console.environment["CONDORWEB_QUEUE_URL"] = real_services.redis_db(2)
    try:
        processes[0].prepare()
        started = [console.start() for console in processes]
        worker.start()
        yield started
    finally:
        worker.stop()
        for console in processes:
            console.stop()
        real_services.drop_database(database)


def test_a_user_logged_in_through_one_process_is_logged_in_on_the_other(consoles: list[servers.Console]) -> None:
    a, b = consoles
    browser = servers.Browser(a.url)
    browser.log_in("admin", PASSWORD)

    page = browser.at(b.url).get("/")

    assert page.status == 200
    assert '<span class="who">admin</span>' in page.text


def test_a_share_created_through_one_process_opens_through_the_other(consoles: list[servers.Console]) -> None:
    a, b = consoles
    on_a = servers.Browser(a.url)
    on_a.log_in("admin", PASSWORD)
    created = on_a.post(
        "/config/shares/new/", {"left": "local", "right": "local", "subsystem": "SCHEDD", "title": "Night shift"}
    )
    link = re.search(r"/config/s/[A-Za-z0-9_-]+/", created.text)
    assert created.status == 200 and link, "the share page shows the new link"

    on_b = servers.Browser(b.url)
    on_b.log_in("admin", PASSWORD)
    opened = on_b.get(link.group(0))

    assert opened.status == 200 and "Night shift" in opened.text


def test_a_client_locked_out_through_one_process_is_locked_out_on_the_other(consoles: list[servers.Console]) -> None:
    a, b = consoles
    guesser = servers.Browser(a.url, client_address="203.0.113.7")
    for attempt in range(5):
        guesser.try_log_in("admin", f"wrong-{attempt}")

    locked = guesser.at(b.url).try_log_in("admin", PASSWORD)
    elsewhere = servers.Browser(b.url, client_address="203.0.113.8").try_log_in("admin", PASSWORD)

    assert locked.status == 429 and "Too many failed log-ins" in locked.text
    assert elsewhere.status == 200 and '<span class="who">admin</span>' in elsewhere.text


async def test_a_broadcast_from_one_process_reaches_a_listener_in_another(
    consoles: list[servers.Console], real_services: servers.Endpoints
) -> None:
    layer = RedisChannelLayer(hosts=[real_services.redis_db(1)])
    channel = await layer.new_channel()
    await layer.group_add(events.pool_group(7), channel)
    try:
        await asyncio.to_thread(consoles[0].manage, "shell", "-c", "from daemons import events; events.pool_changed(7)")
        message = await asyncio.wait_for(layer.receive(channel), timeout=10)
    finally:
        await layer.group_discard(events.pool_group(7), channel)
        await layer.flush()

    assert message == {"type": "pool.changed", "pool_id": 7}


@pytest.mark.integration
async def test_a_viewer_on_one_process_sees_what_a_command_through_the_other_does_to_the_schedd_and_who_sent_it(
    consoles: list[servers.Console], real_pool: devpool.DevPool
) -> None:
    a, b = consoles
    await asyncio.to_thread(a.manage, "devpool", "up", "--name", real_pool.name, "--port", str(real_pool.port))
    found = await asyncio.to_thread(a.manage, "shell", "--no-imports", "-c", _DAEMON_IDS.format(name=real_pool.name))
    daemons = json.loads(found.stdout.splitlines()[-1])
    browser = servers.Browser(a.url)
    browser.log_in("admin", PASSWORD)
    command_url = f"/daemon/{daemons['master']['id']}/command/"

    seen: list[dict] = []

    async def until(socket: websockets.ClientConnection, wanted: Callable[[dict], bool]) -> dict:
        while True:
            seen.append(message := json.loads(await asyncio.wait_for(socket.recv(), timeout=30)))
            if wanted(message):
                return message

    async with browser.websocket(f"/ws/daemon/{daemons['schedd']['id']}/log/SCHEDD_LOG/", at=b.url) as on_b:
        await until(on_b, lambda m: m.get("state") == "following")
        try:
            off = await asyncio.to_thread(
                browser.post,
                command_url,
                {"command": "DaemonOff", "subsystem": "SCHEDD", "confirm": daemons["master"]["name"]},
            )
            assert off.status == 200 and "DaemonOff SCHEDD sent" in off.text
            exiting = await until(on_b, lambda m: any("EXITING WITH STATUS" in line for line in m.get("lines", [])))
            down = await until(on_b, lambda m: m.get("type") == "daemon" and m["state"] == "down")
        finally:
            await asyncio.to_thread(browser.post, command_url, {"command": "DaemonOn", "subsystem": "SCHEDD"})
        up = await until(on_b, lambda m: m.get("type") == "daemon" and m["state"] == "up")

    assert exiting["type"] == "lines"
    assert down["message"] == f"schedd {daemons['schedd']['name']} is down"
    assert up["message"] == f"schedd {daemons['schedd']['name']} is up"
    notices = [message["message"] for message in seen if message.get("type") == "command"]
    assert f"DaemonOff SCHEDD by admin to master {daemons['master']['name']}: Sent" in notices


_DAEMON_IDS = (
    "import json; from daemons.models import Daemon; "
    "print(json.dumps({{d.kind: {{'id': d.pk, 'name': d.name}} for d in Daemon.objects.filter(pool__name='{name}')}}))"
)


async def test_a_log_line_reaches_live_log_viewers_on_both_processes(consoles: list[servers.Console]) -> None:
    a, b = consoles
    browser = servers.Browser(a.url)
    browser.log_in("admin", PASSWORD)
    client_log = Path(a.environment["CONDORWEB_DATA_DIR"]) / "htcondor-client.log"
    client_log.touch()

    async def watch(console: servers.Console) -> websockets.ClientConnection:
        socket = await browser.websocket("/ws/diagnostics/client-log/", at=console.url)
        assert json.loads(await asyncio.wait_for(socket.recv(), timeout=10))["state"] == "following"
        return socket

    async def lines_until(socket: websockets.ClientConnection, last: str) -> list[str]:
        lines: list[str] = []
        while last not in lines:
            message = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
            lines += message.get("lines", [])
        return lines

    on_a, on_b = await watch(a), await watch(b)
    try:
        with client_log.open("a") as handle:
            handle.write("written once, seen by both\n")
        seen = [
            await lines_until(on_a, "written once, seen by both"),
            await lines_until(on_b, "written once, seen by both"),
        ]
    finally:
        await on_a.close()
        await on_b.close()

    assert seen == [["written once, seen by both"]] * 2


async def test_a_stranger_gets_the_log_in_close_code_from_a_real_server(consoles: list[servers.Console]) -> None:
    b = consoles[1]
    async with websockets.connect(
        b.url.replace("http://", "ws://") + "/ws/diagnostics/client-log/", origin=b.url
    ) as socket:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), timeout=10)

    assert closed.value.rcvd.code == 4401


def test_static_files_come_from_collectstatic_with_hashed_names(consoles: list[servers.Console]) -> None:
    login = servers.Browser(consoles[1].url).get("/login/")
    stylesheet = re.search(r'href="(/static/css/condorweb\.[0-9a-f]{12}\.css)"', login.text)
    assert stylesheet, "the login page links a hashed stylesheet"

    served = servers.Browser(consoles[1].url).get(stylesheet.group(1))

    assert served.status == 200
    assert "max-age=315360000" in served.headers.get("Cache-Control", "")
