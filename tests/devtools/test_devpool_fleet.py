"""The dev pool's fleet, for real: execute nodes with partitionable slots, sleep jobs on them, the console's tools."""

from __future__ import annotations

import subprocess

import pytest

from devtools import devpool
from tests.helpers import wait_for

pytestmark = pytest.mark.integration


def _slots(pool: devpool.DevPool, *attributes: str) -> list[list[str]]:
    """Every slot ad's ``Name`` and ``attributes``, through the console's own condor_status."""
    done = subprocess.run(
        [*pool.tool("condor_status"), "-pool", pool.collector, "-af", "Name", *attributes],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return [line.split() for line in done.stdout.splitlines()]


def test_each_of_the_fleets_four_execute_nodes_advertises_a_partitionable_slot(
    healthy_fleet: devpool.DevPool,
) -> None:
    host = healthy_fleet.execute_nodes[0].partition("@")[2]
    slots = {name: rest for name, *rest in _slots(healthy_fleet, "PartitionableSlot", "Cpus", "Memory")}

    assert healthy_fleet.execute_nodes == tuple(f"exec0{n}@{host}" for n in range(1, 5))
    for node in healthy_fleet.execute_nodes:
        assert slots[f"slot1@{node}"] == ["true", "4", "2048"]


def test_a_sleep_job_runs_on_a_dynamic_slot_of_the_node_it_asks_for_until_remove_jobs_removes_it(
    healthy_fleet: devpool.DevPool,
) -> None:
    node = healthy_fleet.execute_nodes[2]
    cluster = devpool.submit_sleep(healthy_fleet.name, seconds=300, requirements='CONDORWEB_NODE == "exec03"')
    try:
        # About 10 s here: the schedd asks every 5 s, the negotiator matches every 2 s.
        (slot,) = wait_for(
            lambda: [s for s in _slots(healthy_fleet, "JobId", "State", "Activity") if s[1] == f"{cluster}.0"],
            timeout=60,
            what=f"job {cluster}.0 on a slot",
        )
        assert slot[0].startswith("slot1_") and slot[0].endswith(f"@{node}")
        assert slot[2:] == ["Claimed", "Busy"]
    finally:
        devpool.remove_jobs(healthy_fleet.name, cluster)

    wait_for(
        lambda: all(s[1] != f"{cluster}.0" for s in _slots(healthy_fleet, "JobId")),
        timeout=30,
        what="the removed job's slot to go",
    )


def test_the_consoles_condor_drain_drains_an_execute_node_and_cancels_the_drain(
    healthy_fleet: devpool.DevPool,
) -> None:
    # condor_drain finds a startd of several on one host by a slot's name, not the startd's.
    slot = f"slot1@{healthy_fleet.execute_nodes[3]}"

    def drain(*options: str) -> None:
        done = subprocess.run(
            [*healthy_fleet.tool("condor_drain"), "-pool", healthy_fleet.collector, *options, slot],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr

    def state() -> str:
        return next(s[1] for s in _slots(healthy_fleet, "State") if s[0] == slot)

    drain("-graceful")
    try:
        wait_for(lambda: state() == "Drained", timeout=30, what=f"{slot} drained")
    finally:
        drain("-cancel")
    wait_for(lambda: state() == "Unclaimed", timeout=30, what=f"{slot} back to Unclaimed")
