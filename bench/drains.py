"""Bulk drain of a 20-node fleet: the console against a loop of HTCondor's own ``condor_drain``.

A fleet instance of the dev pool with 20 execute nodes (idle: what a drain
sends and how soon the collector shows it does not depend on jobs), read
into the console. Each round drains every node and cancels again, the two
ways in turn so load affects both alike:

* the console: ``drain_batch_start`` (the rows a bulk drain's POST commits)
  and the batch's job run in this process as a worker runs it
  (``CONDORWEB_WORKERS_PER_POOL`` requests at a time), until every row has
  HTCondor's answer;
* the anchor: ``condor_drain -graceful slot1@execNN@host`` for each node in
  turn, as an administrator's shell loop would (the console's own copy of
  the tool, with its token).

Both are then timed until the collector lists every node's slot as draining
or drained. The target: the console's send at most 1/3 of the loop's.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time

from bench import Row
from bench.context import BenchContext, run_queued
from devtools import devpool

NODES = 20
ROUNDS = 5
FLEET_NAME = os.environ.get("CONDORWEB_BENCH_FLEET_NAME", "bench-fleet")
FLEET_PORT = int(os.environ.get("CONDORWEB_BENCH_FLEET_PORT", "9820"))


def run(context: BenchContext) -> list[Row]:
    fleet = devpool.up(FLEET_NAME, FLEET_PORT, execute_nodes=NODES)
    try:
        return _rows(fleet)
    finally:
        devpool.down(FLEET_NAME)


def _rows(fleet: devpool.DevPool) -> list[Row]:
    from django.contrib.auth.models import User

    import condor.client
    from condor.types import DrainRequest
    from daemons.commands import services
    from daemons.commands.services import ClientInfo
    from daemons.inventory import services as inventory_services
    from daemons.models import CommandRecord, Daemon
    from tests.helpers import register, wait_for

    pool = register(fleet)

    def known() -> list[Daemon]:
        # up() waits for every node's slot ad; the startds' own ads may come a few seconds later.
        inventory_services.pool_refresh(pool=pool)
        found = Daemon.objects.filter(pool=pool, kind="startd", name__in=fleet.execute_nodes).select_related("pool")
        return list(found) if found.count() == NODES else []

    startds = wait_for(known, timeout=60, what=f"the {NODES} execute nodes in the inventory")
    user, _ = User.objects.get_or_create(username="bench-drain-operator")
    client = ClientInfo(address="127.0.0.1", user_agent="bench")
    request = DrainRequest(speed="graceful", reason="bench")

    def collector_shows(draining: bool) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            slots = [
                s for s in condor.client.slots(pool.collector, pool.credentials) if s.startd in fleet.execute_nodes
            ]
            if len(slots) >= NODES and all(s.draining == draining for s in slots):
                return
            time.sleep(0.05)
        raise TimeoutError(f"the collector did not show every node {'draining' if draining else 'resumed'}")

    def console() -> tuple[float, float]:
        started = time.perf_counter()
        batch = services.drain_batch_start(user=user, daemons=startds, request=request, client=client)
        run_queued()
        sent = time.perf_counter() - started
        outcomes = set(CommandRecord.objects.filter(batch=batch).values_list("outcome", flat=True))
        assert outcomes == {"sent"}, outcomes
        collector_shows(True)
        return sent, time.perf_counter() - started

    def loop(*options: str) -> tuple[float, float]:
        started = time.perf_counter()
        for node in fleet.execute_nodes:
            # condor_drain finds one of several startds on a host by a slot's name.
            subprocess.run(
                [*fleet.tool("condor_drain"), "-pool", fleet.collector, *options, f"slot1@{node}"],
                check=True,
                capture_output=True,
                stdin=subprocess.DEVNULL,
            )
        sent = time.perf_counter() - started
        if "-cancel" not in options:
            collector_shows(True)
        return sent, time.perf_counter() - started

    def cancel_all() -> None:
        loop("-cancel")
        collector_shows(False)

    console_sent, console_seen, loop_sent, loop_seen = [], [], [], []
    for _ in range(ROUNDS):
        sent, seen = console()
        console_sent.append(sent)
        console_seen.append(seen)
        cancel_all()
        sent, seen = loop("-graceful")
        loop_sent.append(sent)
        loop_seen.append(seen)
        cancel_all()

    ms = 1000
    send_ms, anchor_send_ms = statistics.median(console_sent) * ms, statistics.median(loop_sent) * ms
    anchor = f"condor_drain loop over {NODES} nodes"
    return [
        Row(
            f"bulk drain of {NODES} nodes: every request sent, median",
            send_ms,
            "ms",
            "<= 1/3 of the loop",
            send_ms <= anchor_send_ms / 3,
            anchor,
            anchor_send_ms,
            note=f"{ROUNDS} rounds each, interleaved; ratio {send_ms / anchor_send_ms:.2f}",
        ),
        Row(
            f"bulk drain of {NODES} nodes: until the collector shows every node draining, median",
            statistics.median(console_seen) * ms,
            "ms",
            "-",
            None,
            anchor,
            statistics.median(loop_seen) * ms,
        ),
    ]
