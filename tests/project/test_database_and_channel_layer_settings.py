"""DATABASE_URL and REDIS_URL choose the database and channel layer the console really uses.

``make test`` runs this file twice: on SQLite and the in-memory layer, then
on the PostgreSQL and Redis servers ``python -m tests.servers`` starts.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
from channels.layers import get_channel_layer
from django.db import connection

from tests.servers import BASE_DIR

DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")


@pytest.mark.django_db
def test_the_tests_run_on_the_database_that_database_url_names() -> None:
    expected = "postgresql" if DATABASE_URL.startswith(("postgres://", "postgresql://")) else "sqlite"

    assert connection.vendor == expected
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


@pytest.mark.django_db
def test_postgresql_connections_come_from_a_pool() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the pool is PostgreSQL's; this run is on SQLite")

    assert connection.pool is not None
    assert connection.pool.max_size == 10


async def test_the_channel_layer_is_redis_exactly_when_redis_url_is_set() -> None:
    layer = get_channel_layer()

    assert type(layer).__name__ == ("RedisChannelLayer" if REDIS_URL else "SweepingInMemoryChannelLayer")


async def test_a_group_message_reaches_a_channel_in_the_group() -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("settings-check", channel)
    try:
        await layer.group_send("settings-check", {"type": "check.ping", "n": 1})
        assert await layer.receive(channel) == {"type": "check.ping", "n": 1}
    finally:
        await layer.group_discard("settings-check", channel)


async def test_a_consumer_waiting_through_a_quiet_spell_is_not_cut_off_by_redis_read_timeouts() -> None:
    # redis-py's read timeout once equalled channels_redis's blocking pop, so
    # a quiet channel on a busy process raised TimeoutError and closed its
    # websocket; the wait must outlast one blocking pop.
    layer = get_channel_layer()
    channel = await layer.new_channel()
    pop = getattr(layer, "brpop_timeout", 0)

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(layer.receive(channel), timeout=pop + 1)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "nosuchdb://somewhere/x"),
        ("REDIS_URL", "127.0.0.1:6379"),
        ("CONDORWEB_DB_POOL_SIZE", "0"),
    ],
)
def test_a_bad_url_stops_the_console_at_start_up_naming_the_variable(variable: str, value: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        env={**os.environ, variable: value},
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode != 0
    assert variable in result.stderr.splitlines()[-1]
