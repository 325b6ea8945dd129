"""Arbitrary input from a log viewer's client: the stream follows a resume request, closes anything else with 4400, never breaks, never opens a path.

Property-based (hypothesis) and the shapes that once raised, on the real
consumer and a real file; only the daemon's answer to "where is MASTER_LOG"
is faked (see test_log_consumer). Another viewer of the same file watches
throughout: whatever one client sends, the others keep their lines.
"""

from __future__ import annotations

import json
import logging
import secrets
from pathlib import Path
from urllib.parse import quote

import pytest
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from condorweb.asgi import (
    application,  # here: its first import reconfigures logging, which would unhook caplog
)
from daemons.logs import readers
from daemons.logs.consumers import CLOSE_BAD_REQUEST
from daemons.logs.routing import websocket_urlpatterns
from daemons.models import Daemon
from tests.logs.test_log_consumer import append, connect, lines_until, url

pytestmark = pytest.mark.django_db(transaction=True)

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=10,
)
resume_like = st.fixed_dictionaries(
    {}, optional={"resume_from": json_values | st.integers(min_value=-(2**70), max_value=2**70), "file": json_values}
)
messages = st.text(min_size=1, max_size=200) | json_values.map(json.dumps) | resume_like.map(json.dumps)
queries = st.binary(max_size=60) | st.dictionaries(st.sampled_from(["file", "offset", "x"]), st.text(max_size=30)).map(
    lambda fields: "&".join(f"{quote(k)}={quote(v)}" for k, v in fields.items()).encode()
)

NESTED = "[" * 100_000
BAD_MESSAGES = [
    '{"resume_from": "²"}',  # "²".isdigit(), and int() refuses it
    '{"resume_from": "٣"}',  # a decimal digit of another script
    NESTED,  # json.loads would exhaust its recursion
    NESTED + "]" * 100_000,
    "not json",
    "[1, 2]",
    "{}",
    '{"resume_from": -1}',
    '{"resume_from": true}',
    '{"resume_from": 99999999999999999999}',
    '{"resume_from": 1, "file": "../etc"}',
    '{"resume_from": 1, "file": "٣-٣"}',
]
BAD_QUERIES = [
    "file=&offset=%C2%B2",
    "offset=%D9%A3",
    "offset=-1",
    "offset=abc",
    "offset=99999999999999999999",
    "file=..%2Fetc&offset=1",
]


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]


async def until_closed(communicator: WebsocketCommunicator) -> tuple[list[dict], int]:
    """Every message until the close, and its code."""
    received: list[dict] = []
    while True:
        output = await communicator.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            return received, output["code"]
        received.append(json.loads(output["text"]))


async def watching(user: object, master: Daemon, log_dir: Path) -> WebsocketCommunicator:
    line = f"seen {secrets.token_hex(4)}"
    append(log_dir / "MasterLog", line)
    communicator = await connect(user, url(master))
    await lines_until(communicator, line)
    return communicator


async def still_following(communicator: WebsocketCommunicator, log_dir: Path) -> bool:
    line = f"still {secrets.token_hex(4)}"
    append(log_dir / "MasterLog", line)
    return line in (await lines_until(communicator, line))[0]


@pytest.mark.parametrize("sent", BAD_MESSAGES, ids=lambda text: text[:24])
async def test_a_message_that_is_not_a_resume_request_is_answered_logged_once_and_closed_while_others_watch_on(
    master: Daemon, log_dir: Path, viewer: object, operator: object, sent: str, caplog: pytest.LogCaptureFixture
) -> None:
    other = await watching(operator, master, log_dir)
    client = await watching(viewer, master, log_dir)

    await client.send_to(text_data=sent)
    received, code = await until_closed(client)

    assert code == CLOSE_BAD_REQUEST
    assert received[-1]["type"] == "error" and "resume_from" in received[-1]["message"]
    assert len(warnings(caplog)) == 1 and f"closed with {CLOSE_BAD_REQUEST}" in warnings(caplog)[0]
    assert sent not in warnings(caplog)[0]
    assert await still_following(other, log_dir)
    await other.disconnect()


async def test_a_refused_viewer_leaves_the_shared_reader_before_its_client_finishes_closing(
    master: Daemon, log_dir: Path, viewer: object
) -> None:
    client = await watching(viewer, master, log_dir)

    await client.send_to(text_data="nonsense")
    _, code = await until_closed(client)

    # No disconnect from the client: a broken one may never send it.
    assert (code, readers.readers_running()) == (CLOSE_BAD_REQUEST, 0)


async def test_a_binary_message_is_closed_like_any_other_nonsense(
    master: Daemon, log_dir: Path, viewer: object, caplog: pytest.LogCaptureFixture
) -> None:
    client = await watching(viewer, master, log_dir)

    await client.send_to(bytes_data=b'{"resume_from": 0}')
    received, code = await until_closed(client)

    assert (code, received[-1]["type"], len(warnings(caplog))) == (CLOSE_BAD_REQUEST, "error", 1)


async def test_messages_after_the_refusal_are_ignored(
    master: Daemon, log_dir: Path, viewer: object, caplog: pytest.LogCaptureFixture
) -> None:
    client = await watching(viewer, master, log_dir)

    for _ in range(3):
        await client.send_to(text_data=NESTED)
    _, code = await until_closed(client)

    assert code == CLOSE_BAD_REQUEST
    assert await client.receive_nothing(timeout=0.3)
    assert len(warnings(caplog)) == 1


@pytest.mark.parametrize("query", BAD_QUERIES)
async def test_a_resume_query_that_is_not_valid_is_answered_logged_once_and_closed_while_others_watch_on(
    master: Daemon, log_dir: Path, viewer: object, operator: object, query: str, caplog: pytest.LogCaptureFixture
) -> None:
    other = await watching(operator, master, log_dir)

    client = await connect(viewer, f"{url(master)}?{query}")
    received, code = await until_closed(client)

    assert (code, [message["type"] for message in received]) == (CLOSE_BAD_REQUEST, ["error"])
    assert len(warnings(caplog)) == 1 and f"closed with {CLOSE_BAD_REQUEST}" in warnings(caplog)[0]
    assert await still_following(other, log_dir)
    await other.disconnect()


@FUZZ
@given(sent=st.lists(messages, min_size=1, max_size=5))
def test_any_client_message_is_followed_or_closed_and_other_viewers_keep_their_lines(
    master: Daemon, log_dir: Path, viewer: object, operator: object, caplog: pytest.LogCaptureFixture, sent: list[str]
) -> None:
    caplog.clear()
    after = f"after {secrets.token_hex(4)}"

    async def scenario() -> tuple[str, bool]:
        other = await watching(operator, master, log_dir)
        client = await watching(viewer, master, log_dir)
        for text in sent:
            await client.send_to(text_data=text)
        append(log_dir / "MasterLog", after)
        # Replies (lines resent from a valid offset, states) may come first, and
        # the new line may overtake a refusal: followed means nothing came after it.
        outcome, followed, last = "", False, {"type": "nothing"}
        while not outcome and not (followed and await client.receive_nothing(timeout=0.1)):
            output = await client.receive_output(timeout=5)
            if output["type"] == "websocket.close":
                outcome = f"closed {output['code']} after {last['type']}"
            else:
                last = json.loads(output["text"])
                followed = followed or after in last.get("lines", [])
        if not outcome:
            outcome = "followed"
            await client.disconnect()
        seen_by_other = after in (await lines_until(other, after))[0]
        await other.disconnect()
        return outcome, seen_by_other

    outcome, seen_by_other = async_to_sync(scenario)()

    assert outcome in {"followed", f"closed {CLOSE_BAD_REQUEST} after error"}
    assert seen_by_other
    assert len(warnings(caplog)) == (0 if outcome == "followed" else 1)


@FUZZ
@given(query=queries)
def test_any_connect_query_streams_or_is_closed_with_4400(
    master: Daemon, log_dir: Path, viewer: object, query: bytes
) -> None:
    async def scenario() -> str:
        communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), url(master))
        communicator.scope["user"] = viewer
        communicator.scope["query_string"] = query
        await communicator.connect()
        first = json.loads((await communicator.receive_output(timeout=5))["text"])
        if first["type"] == "error":
            return f"closed {(await communicator.receive_output(timeout=5))['code']}"
        await communicator.disconnect()
        return "streaming"

    append(log_dir / "MasterLog", "a line")
    assert async_to_sync(scenario)() in {"streaming", f"closed {CLOSE_BAD_REQUEST}"}


@pytest.mark.parametrize(
    "path",
    ["/ws/nothing/", "/", "/ws/daemon/x/log/MASTER_LOG/", "/ws/daemon/1/log/", "/ws/diagnostics/client-log/more/"],
)
async def test_a_path_no_route_matches_closes_with_4404_and_one_log_line(
    path: str, caplog: pytest.LogCaptureFixture
) -> None:
    communicator = WebsocketCommunicator(
        application, path, headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    )
    accepted, _ = await communicator.connect()
    closed = await communicator.receive_output(timeout=5)

    assert accepted and closed == {"type": "websocket.close", "code": 4404}
    assert len(warnings(caplog)) == 1 and "no such route" in warnings(caplog)[0]


@FUZZ
@given(path=st.text(max_size=60))
def test_any_path_closes_with_a_documented_code(path: str) -> None:
    async def scenario() -> int:
        communicator = WebsocketCommunicator(
            application, "/" + path, headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
        )
        await communicator.connect()
        return (await communicator.receive_output(timeout=5))["code"]

    assert async_to_sync(scenario)() in {4401, 4404}
