"""Inventory pages at scale: a pool of 10,000 daemons against the same pages with 100.

Server time is measured through Django's test client (middleware, session,
queries and template rendering; no network), logged in as a viewer.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable

from bench import Row, percentile
from bench.context import BenchContext

BIG = 10_000
SMALL = 100
REQUESTS = 60
TARGET_MS = 100.0


def run(context: BenchContext) -> list[Row]:
    from django.utils import timezone

    from daemons.inventory import services
    from daemons.models import Pool
    from tests.helpers import add_daemons

    client = viewer_client()

    small = services.pool_save(name="bench-100", collector="127.0.0.1:9")
    add_daemons(small, SMALL, machines=4)
    Pool.objects.update(last_refreshed_at=timezone.now())
    # The pools list's anchor: the same list before the big pool exists.
    list_anchor_ms, list_anchor_queries = _timed(client, "/"), _queries(client, "/")

    big = services.pool_save(name="bench-10k", collector="127.0.0.1:9")
    add_daemons(big, BIG - 20, machines=BIG // 25)
    add_daemons(big, 10, state="down", prefix="down", kind="schedd")
    add_daemons(big, 10, state="missing", prefix="gone", kind="master")
    Pool.objects.update(last_refreshed_at=timezone.now())

    rows: list[Row] = []
    for per_page in (50, 200):
        big_url, small_url = (f"/pool/{p.pk}/?per_page={per_page}" for p in (big, small))
        rows += page_rows(client, f"pool page, {per_page} a page", big_url, small_url)
    rows += page_rows(client, "pool page, last of 200 pages", f"/pool/{big.pk}/?page=200", f"/pool/{small.pk}/?page=2")
    rows += page_rows(client, "pool page, name search", f"/pool/{big.pk}/?q=slot4242", f"/pool/{small.pk}/?q=slot42")
    rows += _list_rows(client, list_anchor_ms, list_anchor_queries)
    rows += _refresh_rows(context, big)
    return rows


def viewer_client() -> object:
    """Django's test client, logged in as a viewer: how the page rows measure server time."""
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from daemons.permissions import VIEWERS

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    viewer, _ = User.objects.get_or_create(username="bench-viewer")
    viewer.groups.add(Group.objects.get(name=VIEWERS))
    client = Client()
    client.force_login(viewer)
    return client


def page_rows(
    client: object,
    what: str,
    big_url: str,
    small_url: str,
    *,
    big: int = BIG,
    small: int = SMALL,
    noun: str = "daemons",
) -> list[Row]:
    """p50, p99 and SQL queries of a page of a pool of ``big`` ``noun``, beside the same page with ``small``."""
    big_ms = _timed(client, big_url)
    small_ms = _timed(client, small_url)
    big_queries, small_queries = _queries(client, big_url), _queries(client, small_url)
    anchor = f"same page, {small} {noun}"
    return [
        Row(
            f"{what} p50 ({big:,} {noun})",
            percentile(big_ms, 50),
            "ms",
            f"<= {TARGET_MS:g} ms",
            percentile(big_ms, 50) <= TARGET_MS,
            anchor,
            percentile(small_ms, 50),
        ),
        Row(
            f"{what} p99 ({big:,} {noun})",
            percentile(big_ms, 99),
            "ms",
            "-",
            None,
            anchor,
            percentile(small_ms, 99),
            note=f"{REQUESTS} requests",
        ),
        Row(
            f"{what} SQL queries ({big:,} {noun})",
            big_queries,
            "queries",
            "constant",
            big_queries == small_queries,
            anchor,
            small_queries,
        ),
    ]


def _list_rows(client: object, anchor_ms: list[float], anchor_queries: int) -> list[Row]:
    url = "/"
    ms, queries = _timed(client, url), _queries(client, url)
    anchor = f"pools list, {SMALL} daemons"
    return [
        Row(
            f"pools list p50 ({BIG + SMALL:,} daemons)",
            percentile(ms, 50),
            "ms",
            f"<= {TARGET_MS:g} ms",
            percentile(ms, 50) <= TARGET_MS,
            anchor,
            percentile(anchor_ms, 50),
        ),
        Row(
            f"pools list SQL queries ({BIG + SMALL:,} daemons)",
            queries,
            "queries",
            "constant",
            queries == anchor_queries,
            anchor,
            anchor_queries,
        ),
    ]


def _refresh_rows(context: BenchContext, big: object) -> list[Row]:
    """What a refresh costs: the real bench pool, and the database side of a 10,000-daemon one."""
    import condor.client
    from daemons.inventory import services

    real = services.pool_save(
        name="bench-real",
        collector=context.pool.collector,
        token_file=context.pool.token_file,
        config_val=shlex.join(context.pool.config_val),
    )
    services.pool_refresh(pool=real)
    refresh_ms = repeat(lambda: services.pool_refresh(pool=real), 10)
    discover_ms = repeat(lambda: condor.client.discover(context.pool.collector, context.credentials), 10)

    answer = collector_answer(big)
    real_discover, real_slots = condor.client.discover, condor.client.slots
    condor.client.discover = lambda collector, credentials: answer
    condor.client.slots = lambda collector, credentials: []
    try:
        write_ms = repeat(lambda: services.pool_refresh(pool=big), 3)
    finally:
        condor.client.discover, condor.client.slots = real_discover, real_slots
    return [
        Row(
            "refresh of the real bench pool p50",
            percentile(refresh_ms, 50),
            "ms",
            "-",
            None,
            "condor.client.discover alone",
            percentile(discover_ms, 50),
            note="runs in a worker's job (the watch, Refresh, after commands), never in a request",
        ),
        Row(
            f"refresh write of {BIG:,} daemons p50",
            percentile(write_ms, 50),
            "ms",
            "-",
            None,
            note="collector answer simulated; a worker's job",
        ),
    ]


def collector_answer(pool: object) -> list[object]:
    """What ``condor.client.discover`` would answer for ``pool``: its daemons as the collector lists them."""
    from condor.types import DaemonInfo

    return [
        DaemonInfo(
            kind=d.kind,
            name=d.name,
            machine=d.machine,
            address=d.address,
            version=d.version,
            platform=d.platform,
            start_time=d.start_time,
            subsystem=d.subsystem,
        )
        for d in pool.daemons.all()  # type: ignore[attr-defined]
    ]


def _timed(client: object, url: str) -> list[float]:
    def get() -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    get()
    return repeat(get, REQUESTS)


def repeat(action: Callable[[], object], times: int) -> list[float]:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _queries(client: object, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return len(captured)
