"""Slot ads from the real pool's collector, and the startds a constraint selects (a bulk drain's preview)."""

from __future__ import annotations

import pytest

import condor.client
from condor.errors import InvalidInput
from devtools import devpool
from tests.helpers import wait_for

pytestmark = pytest.mark.integration


def test_it_lists_the_startds_slots_with_sane_fields(healthy_pool: devpool.DevPool, credentials) -> None:
    slots = wait_for(lambda: condor.client.slots(healthy_pool.collector, credentials), what="the slot ads")
    startd = next(d for d in condor.client.discover(healthy_pool.collector, credentials) if d.kind == "startd")
    # minicondor's startd: one partitionable slot holding the whole machine.
    [pslot] = [s for s in slots if s.slot_type == "Partitionable"]
    assert pslot.name == f"slot1@{startd.name}"
    assert pslot.startd == startd.name
    assert pslot.address == startd.address
    assert pslot.state in ("Unclaimed", "Claimed", "Owner", "Drained")
    assert pslot.activity and pslot.entered_state is not None and pslot.entered_activity is not None
    assert pslot.total_cpus >= pslot.cpus >= 0 < pslot.total_memory_mb
    assert pslot.total_disk_kb > 0
    assert pslot.attributes["Start"]


def test_a_constraint_is_evaluated_by_the_collector(healthy_pool: devpool.DevPool, credentials) -> None:
    assert condor.client.slots(healthy_pool.collector, credentials, constraint='SlotType == "Partitionable"')
    assert condor.client.slots(healthy_pool.collector, credentials, constraint="Cpus < 0") == []


def test_startds_matching_names_each_startd_with_a_matching_slot_once(
    healthy_pool: devpool.DevPool, credentials
) -> None:
    startd = next(d for d in condor.client.discover(healthy_pool.collector, credentials) if d.kind == "startd")
    assert condor.client.startds_matching(healthy_pool.collector, "Cpus >= 0", credentials) == [startd.name]
    assert condor.client.startds_matching(healthy_pool.collector, 'Machine == "no-such-host"', credentials) == []


def test_an_unparsable_constraint_never_reaches_the_collector(healthy_pool: devpool.DevPool, credentials) -> None:
    with pytest.raises(InvalidInput, match="is never closed"):
        condor.client.startds_matching(healthy_pool.collector, '(Machine == "exec01"', credentials)
