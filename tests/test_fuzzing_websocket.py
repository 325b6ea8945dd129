"""Arbitrary messages from a log viewer's browser: the stream answers or ignores them, never breaks, never opens a path.

Property-based (hypothesis), on the real consumer and a real file; only the
daemon's answer to "where is MASTER_LOG" is faked (see test_log_consumer).
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daemons.models import Daemon
from tests.test_log_consumer import append, connect, lines_until, log_dir, master, receive, url  # noqa: F401 - fixtures

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


@FUZZ
@given(sent=st.lists(messages, min_size=1, max_size=5))
def test_any_client_message_leaves_the_stream_working(master: Daemon, log_dir: Path, viewer: object, sent: list[str]) -> None:
    before, after = f"before {secrets.token_hex(4)}", f"after {secrets.token_hex(4)}"

    async def scenario() -> set[str]:
        append(log_dir / "MasterLog", before)
        communicator = await connect(viewer, url(master))
        await lines_until(communicator, before)
        for text in sent:
            await communicator.send_to(text_data=text)
        append(log_dir / "MasterLog", after)
        # Replies (errors, states, lines resent from a valid offset) may come first; the new line must come.
        kinds: set[str] = set()
        while True:
            message = await receive(communicator)
            kinds.add(message["type"])
            if after in message.get("lines", []):
                await communicator.disconnect()
                return kinds

    kinds = async_to_sync(scenario)()

    assert kinds <= {"lines", "state", "error"}
