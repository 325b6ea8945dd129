"""The live log websocket: backlog, follow, rotation, truncation, resume, refusals.

The daemon's answer to "where is MASTER_LOG" is faked (``knobs`` in tests/conftest.py; the real pool's is in
test_log_real_pool.py); the file, the mapping and the reader are real.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

import condor.client
from condor.errors import DaemonUnreachable
from daemons import events
from daemons.logs import logstream, readers
from daemons.logs.routing import websocket_urlpatterns
from daemons.models import CommandRecord, Daemon

pytestmark = pytest.mark.django_db(transaction=True)


def append(path: Path, *lines: str) -> None:
    with path.open("a") as handle:
        handle.write("".join(line + "\n" for line in lines))


async def connect(user: object, path: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), path)
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def receive(communicator: WebsocketCommunicator) -> dict:
    return await communicator.receive_json_from(timeout=5)


async def lines_until(communicator: WebsocketCommunicator, last: str) -> tuple[list[str], list[str], int]:
    """Lines and states received until the line ``last``; and the offset after it."""
    lines: list[str] = []
    states: list[str] = []
    while True:
        message = await receive(communicator)
        if message["type"] == "state":
            states.append(message["state"])
            continue
        assert message["type"] == "lines", message
        lines += message["lines"]
        if last in message["lines"]:
            return lines, states, message["end"]


async def refused_with(user: object, path: str) -> int:
    communicator = await connect(user, path)
    while True:
        output = await communicator.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            await communicator.disconnect()
            return output["code"]


def url(daemon: Daemon, key: str = "MASTER_LOG") -> str:
    return f"/ws/daemon/{daemon.pk}/log/{key}/"


async def test_it_sends_the_last_lines_first_then_follows(
    master: Daemon, log_dir: Path, viewer: object, settings
) -> None:
    settings.CONDORWEB_LOG_BACKLOG_LINES = 500
    log = log_dir / "MasterLog"
    append(log, *(f"line {i}" for i in range(600)))
    communicator = await connect(viewer, url(master))

    backlog, states, _ = await lines_until(communicator, "line 599")
    append(log, "a new line")
    followed, _, _ = await lines_until(communicator, "a new line")

    assert states == ["following"]
    assert backlog == [f"line {i}" for i in range(100, 600)]
    assert followed == ["a new line"]
    await communicator.disconnect()


async def test_an_unfinished_line_is_sent_once_it_is_complete(master: Daemon, log_dir: Path, viewer: object) -> None:
    log = log_dir / "MasterLog"
    append(log, "first")
    communicator = await connect(viewer, url(master))
    await lines_until(communicator, "first")

    with log.open("a") as handle:
        handle.write("half a")
    with log.open("a") as handle:
        handle.write(" line\n")
    lines, _, _ = await lines_until(communicator, "half a line")

    assert lines == ["half a line"]
    await communicator.disconnect()


@pytest.mark.parametrize("rotated_name", ["MasterLog.old", "MasterLog.20261130T120000"])
async def test_it_finishes_a_rotated_log_then_continues_in_the_new_one(
    master: Daemon, log_dir: Path, viewer: object, rotated_name: str
) -> None:
    log = log_dir / "MasterLog"
    append(log, "before")
    communicator = await connect(viewer, url(master))
    await lines_until(communicator, "before")

    append(log, "last in old", "Saving log file to ...")
    os.rename(log, log_dir / rotated_name)
    append(log, "Now in new log file", "first in new")
    lines, states, _ = await lines_until(communicator, "first in new")

    assert lines == ["last in old", "Saving log file to ...", "Now in new log file", "first in new"]
    assert "rotated" in states
    await communicator.disconnect()


async def test_it_says_when_the_log_was_truncated_and_reads_it_from_the_start(
    master: Daemon, log_dir: Path, viewer: object
) -> None:
    log = log_dir / "MasterLog"
    append(log, "a long line before truncation")
    communicator = await connect(viewer, url(master))
    await lines_until(communicator, "a long line before truncation")

    log.write_text("")
    append(log, "after")
    lines, states, _ = await lines_until(communicator, "after")

    assert lines == ["after"]
    assert "truncated" in states
    await communicator.disconnect()


async def test_a_missing_log_is_reported_then_followed_once_it_appears(
    master: Daemon, log_dir: Path, viewer: object
) -> None:
    communicator = await connect(viewer, url(master))
    first = await receive(communicator)

    append(log_dir / "MasterLog", "the daemon started")
    lines, _, _ = await lines_until(communicator, "the daemon started")

    assert first["type"] == "state" and first["state"] == "missing"
    assert "does not exist yet" in first["message"]
    assert lines == ["the daemon started"]
    await communicator.disconnect()


async def test_a_reconnecting_viewer_resumes_after_the_last_byte_it_showed(
    master: Daemon, log_dir: Path, viewer: object
) -> None:
    log = log_dir / "MasterLog"
    append(log, "one", "two")
    first = await connect(viewer, url(master))
    message = await receive(first)
    _, _, end = await lines_until(first, "two")
    file = message["file"]
    await first.disconnect()

    append(log, "three", "four")
    again = await connect(viewer, f"{url(master)}?file={file}&offset={end}")
    lines, _, _ = await lines_until(again, "four")

    assert lines == ["three", "four"]
    await again.disconnect()


async def test_a_viewer_resuming_in_a_rotated_file_gets_its_rest_then_the_new_file(
    master: Daemon, log_dir: Path, viewer: object
) -> None:
    log = log_dir / "MasterLog"
    append(log, "one")
    first = await connect(viewer, url(master))
    file = (await receive(first))["file"]
    _, _, end = await lines_until(first, "one")
    await first.disconnect()

    append(log, "missed in old")
    os.rename(log, log_dir / "MasterLog.old")
    append(log, "in new")
    again = await connect(viewer, f"{url(master)}?file={file}&offset={end}")
    lines, states, _ = await lines_until(again, "in new")

    assert lines == ["missed in old", "in new"]
    assert "rotated" in states
    await again.disconnect()


async def test_a_resume_message_restarts_the_stream_at_that_offset(
    master: Daemon, log_dir: Path, viewer: object
) -> None:
    log = log_dir / "MasterLog"
    append(log, "one", "two", "three")
    communicator = await connect(viewer, url(master))
    file = (await receive(communicator))["file"]
    await lines_until(communicator, "three")

    await communicator.send_to(text_data=json.dumps({"resume_from": len("one\n"), "file": file}))
    lines, _, _ = await lines_until(communicator, "three")

    assert lines == ["two", "three"]
    await communicator.disconnect()


async def test_viewers_of_one_file_share_one_reader_which_stops_when_the_last_leaves(
    master: Daemon, log_dir: Path, viewer: object, operator: object
) -> None:
    log = log_dir / "MasterLog"
    append(log, "one")
    first = await connect(viewer, url(master))
    second = await connect(operator, url(master))
    await lines_until(first, "one")
    await lines_until(second, "one")
    running_with_two = readers.readers_running()

    append(log, "two")
    assert (await lines_until(first, "two"))[0] == ["two"]
    assert (await lines_until(second, "two"))[0] == ["two"]
    await first.disconnect()
    running_with_one = readers.readers_running()
    await second.disconnect()

    assert (running_with_two, running_with_one, readers.readers_running()) == (1, 1, 0)


async def test_an_anonymous_visitor_is_told_to_log_in(master: Daemon) -> None:
    from django.contrib.auth.models import AnonymousUser

    assert await refused_with(AnonymousUser(), url(master)) == 4401


async def test_a_user_without_the_log_permission_is_refused(master: Daemon, nobody: object) -> None:
    assert await refused_with(nobody, url(master)) == 4403


async def test_an_unknown_daemon_is_not_found(master: Daemon, viewer: object) -> None:
    assert await refused_with(viewer, f"/ws/daemon/{master.pk + 1000}/log/MASTER_LOG/") == 4404


@pytest.mark.parametrize("key", ["STARTD_LOG", "master_log", "MASTER_LOG_X", "SCHED LOG", "TOKEN"])
async def test_a_log_the_daemon_does_not_name_is_not_found(master: Daemon, viewer: object, key: str) -> None:
    assert await refused_with(viewer, url(master, key)) == 4404


async def test_another_log_the_daemon_names_is_streamed_from_its_own_path(
    master: Daemon, log_dir: Path, viewer: object
) -> None:
    append(log_dir / "SchedLog", "from the schedd")
    communicator = await connect(viewer, url(master, "SCHEDD_LOG"))

    lines, _, _ = await lines_until(communicator, "from the schedd")

    assert lines == ["from the schedd"]
    await communicator.disconnect()


async def test_a_log_outside_the_mapping_is_explained_and_closed(
    master: Daemon, viewer: object, knobs: dict[str, str]
) -> None:
    knobs.update(LOG="/elsewhere", MASTER_LOG="/elsewhere/MasterLog")
    communicator = await connect(viewer, url(master))

    message = await receive(communicator)
    closed = await communicator.receive_output(timeout=5)

    assert message["state"] == "unavailable"
    assert "outside the pool's log-path mapping" in message["message"]
    assert closed == {"type": "websocket.close", "code": 4503}


async def closing_message(communicator: WebsocketCommunicator) -> tuple[list[dict], int]:
    """Every message until the close, and its code."""
    messages = []
    while (output := await communicator.receive_output(timeout=5))["type"] != "websocket.close":
        messages.append(json.loads(output["text"]))
    return messages, output["code"]


async def test_a_log_that_is_a_symlink_out_of_the_log_directory_is_refused_with_the_rule(
    master: Daemon, log_dir: Path, viewer: object, tmp_path: Path
) -> None:
    (tmp_path / "secret_key").write_text("the console's secret key\n")
    (log_dir / "MasterLog").symlink_to(tmp_path / "secret_key")
    communicator = await connect(viewer, url(master))

    messages, code = await closing_message(communicator)

    assert code == 4503
    assert [m["type"] for m in messages] == ["state"]
    assert messages[0]["message"].startswith(f"The console will not read {log_dir}/MasterLog: its real path")
    assert logstream.CONFINEMENT_RULE in messages[0]["message"]


async def test_a_followed_log_swapped_for_a_symlink_out_closes_the_stream_with_the_rule(
    master: Daemon, log_dir: Path, viewer: object, tmp_path: Path
) -> None:
    (tmp_path / "secret_key").write_text("the console's secret key\n")
    append(log_dir / "MasterLog", "before")
    communicator = await connect(viewer, url(master))
    await lines_until(communicator, "before")

    (log_dir / "MasterLog").unlink()
    (log_dir / "MasterLog").symlink_to(tmp_path / "secret_key")
    messages, code = await closing_message(communicator)

    assert code == 4503
    assert not any("secret" in line for m in messages for line in m.get("lines", []))
    assert logstream.CONFINEMENT_RULE in messages[-1]["message"]
    # The client's half of the close: without it this viewer keeps the file's shared reader for later tests.
    await communicator.disconnect()


async def test_an_unreachable_daemon_is_explained_and_closed(
    master: Daemon, viewer: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(target: object, key: str, credentials: object) -> str:
        raise DaemonUnreachable("Cannot connect to the daemon at <127.0.0.1:9618>.")

    monkeypatch.setattr(condor.client, "remote_config_value", unreachable)
    communicator = await connect(viewer, url(master))

    message = await receive(communicator)

    assert "Cannot connect to the daemon" in message["message"]
    assert (await communicator.receive_output(timeout=5))["code"] == 4503
    # As a browser does after a close: the consumer then leaves its groups before the test's loop ends.
    await communicator.disconnect()


async def test_the_client_log_streams_to_an_administrator_only(
    admin: object, viewer: object, tmp_path: Path, settings
) -> None:
    settings.CONDORWEB_TOOL_LOG = str(tmp_path / "client.log")
    append(tmp_path / "client.log", "client says hello")
    communicator = await connect(admin, "/ws/diagnostics/client-log/")

    lines, _, _ = await lines_until(communicator, "client says hello")

    assert lines == ["client says hello"]
    assert await refused_with(viewer, "/ws/diagnostics/client-log/") == 4403
    await communicator.disconnect()


async def test_the_real_application_refuses_a_foreign_origin_and_asks_strangers_to_log_in(master: Daemon) -> None:
    from condorweb.asgi import application

    foreign = WebsocketCommunicator(
        application, url(master), headers=[(b"origin", b"http://evil.example"), (b"host", b"127.0.0.1")]
    )
    refused, _ = await foreign.connect()
    own = WebsocketCommunicator(
        application, url(master), headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    )
    accepted, _ = await own.connect()
    closed = await own.receive_output(timeout=5)

    assert refused is False
    assert accepted is True and closed == {"type": "websocket.close", "code": 4401}


def test_a_fetched_log_is_followed_by_offset_and_a_new_header_reads_as_rotation() -> None:
    from daemons.logs.logtail import Chunk, FetchedLogFollower

    content = [b"header one\nline a\n"]
    follower = FetchedLogFollower(lambda: content[0], interval=0)

    started = follower.start_at_end(1)
    content[0] += b"line b\nhalf"
    grown = follower.poll()
    content[0] = b"header two\n"
    rotated = follower.poll()

    assert [e.lines() for e in started if isinstance(e, Chunk)] == [["line a"]]
    assert [e.lines() for e in grown if isinstance(e, Chunk)] == [["line b"]]
    assert [getattr(e, "state", None) for e in rotated] == ["rotated", None]
    assert rotated[-1].lines() == ["header two"] and rotated[-1].start == 0


def test_an_unreachable_daemon_stops_a_fetched_log_with_its_reason() -> None:
    from daemons.logs.logtail import FetchedLogFollower, Unreadable

    def unreachable() -> bytes:
        raise DaemonUnreachable("Cannot connect to the daemon at <127.0.0.1:9618>.")

    with pytest.raises(Unreadable, match="Cannot connect"):
        FetchedLogFollower(unreachable, interval=0).start_at_end(10)


async def watching_the_master_log(viewer: object, master: Daemon, log_dir: Path) -> WebsocketCommunicator:
    """A viewer of the master's log, past its backlog."""
    append(log_dir / "MasterLog", "last words")
    communicator = await connect(viewer, url(master))
    await lines_until(communicator, "last words")
    return communicator


async def test_a_viewer_is_told_when_the_inventory_sees_the_daemon_go_down_and_not_while_it_stays_up(
    master: Daemon, log_dir: Path, viewer: object
) -> None:
    communicator = await watching_the_master_log(viewer, master, log_dir)

    await database_sync_to_async(events.pool_changed)(master.pool_id)  # the state is still up: nothing to say
    await database_sync_to_async(Daemon.objects.filter(pk=master.pk).update)(state=Daemon.State.DOWN)
    await database_sync_to_async(events.pool_changed)(master.pool_id)

    assert await receive(communicator) == {"type": "daemon", "state": "down", "message": "master master@node1 is down"}
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


def finished_command(
    daemon: Daemon, command: str, *, target: str = "", outcome: str = "sent", error: str = ""
) -> CommandRecord:
    return CommandRecord.objects.create(
        username="alice",
        pool=daemon.pool,
        daemon=daemon,
        daemon_kind=daemon.kind,
        daemon_name=daemon.name,
        command=command,
        target=target,
        outcome=outcome,
        error=error,
    )


async def test_a_viewer_is_told_who_sent_a_command_to_the_daemon_and_how_it_went(
    master: Daemon, log_dir: Path, viewer: object
) -> None:
    communicator = await watching_the_master_log(viewer, master, log_dir)
    sent = await database_sync_to_async(finished_command)(master, "Reconfig")
    refused = await database_sync_to_async(finished_command)(
        master, "DaemonsOff", outcome="unauthorized", error="The daemon refused the console"
    )

    await database_sync_to_async(events.command_recorded)(sent)
    await database_sync_to_async(events.command_recorded)(refused)

    assert await receive(communicator) == {
        "type": "command",
        "message": "Reconfig by alice to master master@node1: Sent",
    }
    assert await receive(communicator) == {
        "type": "command",
        "message": "DaemonsOff by alice to master master@node1: Not authorized by HTCondor (The daemon refused the console)",
    }
    await communicator.disconnect()


async def test_a_schedd_log_viewer_is_told_of_a_command_naming_its_subsystem_on_its_machine_only(
    master: Daemon, log_dir: Path, viewer: object
) -> None:
    master.machine = "node1"
    await database_sync_to_async(master.save)()
    schedd = await database_sync_to_async(Daemon.objects.create)(
        pool=master.pool, kind="schedd", name="node1", machine="node1", address="<127.0.0.1:9618>", subsystem="SCHEDD"
    )
    other_master = await database_sync_to_async(Daemon.objects.create)(
        pool=master.pool,
        kind="master",
        name="master@node2",
        machine="node2",
        address="<127.0.0.2:9618>",
        subsystem="MASTER",
    )
    append(log_dir / "SchedLog", "last words")
    communicator = await connect(viewer, f"/ws/daemon/{schedd.pk}/log/SCHEDD_LOG/")
    await lines_until(communicator, "last words")
    reconfig = await database_sync_to_async(finished_command)(master, "Reconfig")
    off_elsewhere = await database_sync_to_async(finished_command)(other_master, "DaemonOff", target="SCHEDD")
    off_here = await database_sync_to_async(finished_command)(master, "DaemonOff", target="SCHEDD")

    for record in (reconfig, off_elsewhere, off_here):
        await database_sync_to_async(events.command_recorded)(record)

    assert await receive(communicator) == {
        "type": "command",
        "message": "DaemonOff SCHEDD by alice to master master@node1: Sent",
    }
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_a_state_change_found_by_a_background_refresh_reaches_the_viewer(
    master: Daemon, log_dir: Path, viewer: object
) -> None:
    # The refreshes after a command run on a thread of their own, outside any
    # request: on the in-memory layer their news must still wake the viewer.
    communicator = await watching_the_master_log(viewer, master, log_dir)
    await database_sync_to_async(Daemon.objects.filter(pk=master.pk).update)(state=Daemon.State.DOWN)

    # In debug mode the loop refuses to be touched from another thread, as
    # the layer's queues were when a thread sent on a loop of its own.
    asyncio.get_running_loop().set_debug(True)
    threading.Thread(target=events.pool_changed, args=(master.pool_id,)).start()

    assert await receive(communicator) == {"type": "daemon", "state": "down", "message": "master master@node1 is down"}
    await communicator.disconnect()
