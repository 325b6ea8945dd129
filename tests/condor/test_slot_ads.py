"""A slot ad is untrusted input: SlotInfo is read from it defensively, whatever it holds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from condor import child
from condor.types import SLOT_ATTRIBUTES, SLOT_FIELDS, SlotInfo


def slot(**values: Any) -> SlotInfo:
    """A SlotInfo from an ad's values as the worker reads them (``printJson``: expressions as "/Expr(...)/")."""
    return SlotInfo(**child._slot_row(values))


def test_a_dynamic_slot_names_its_startd_and_partitionable_parent() -> None:
    info = slot(
        Name="slot1_3@exec02@node7",
        Machine="node7",
        SlotType="Dynamic",
        ParentSlotId=1,
        State="Claimed",
        Activity="Busy",
        EnteredCurrentState=1_700_000_000,
        Cpus=4,
        Memory=8192,
        Disk=1_000_000,
        GPUs=1,
        GlobalJobId="submit#12.0#1700000000",
        RemoteUser="alice@example.org",
    )
    assert (info.startd, info.parent, info.slot_type) == ("exec02@node7", "slot1@exec02@node7", "Dynamic")
    assert info.entered_state == datetime.fromtimestamp(1_700_000_000, tz=UTC)
    assert (info.cpus, info.total_cpus, info.gpus) == (4, 4, 1)
    assert (info.job, info.user) == ("submit#12.0#1700000000", "alice@example.org")


def test_a_partitionable_slot_holds_what_is_left_and_its_totals() -> None:
    info = slot(Name="slot1@node7", PartitionableSlot=True, Cpus=2, TotalSlotCpus=16, TotalSlotDisk=8.1825588e7)
    assert info.slot_type == "Partitionable"
    assert (info.cpus, info.total_cpus, info.total_disk_kb) == (2, 16, 81_825_588)


def test_drain_fields_are_read_only_while_the_startd_drains() -> None:
    draining = slot(Name="slot1@n", Draining=True, DrainingRequestId="3", DrainReason="bios", LastDrainStartTime=10)
    assert (draining.draining, draining.drain_request_id, draining.drain_reason) == (True, "3", "bios")
    assert draining.drain_started == datetime.fromtimestamp(10, tz=UTC)
    # LastDrainStartTime stays in the ad after a drain ends.
    ended = slot(Name="slot1@n", LastDrainStartTime=10)
    assert (ended.draining, ended.drain_started, ended.drain_request_id) == (False, None, "")


def test_an_empty_ad_gives_empty_fields() -> None:
    info = slot()
    assert (info.name, info.startd, info.slot_type, info.state, info.parent) == ("", "", "Static", "", "")
    assert (info.cpus, info.total_memory_mb, info.entered_state, info.draining) == (0, 0, None, False)
    assert info.attributes == {}


def test_odd_types_huge_numbers_and_long_strings_never_raise() -> None:
    info = slot(
        Name="slot1@" + "h" * 10_000,
        Machine=42,
        SlotType="Gigantic",
        Cpus=float("nan"),
        Memory=float("inf"),
        Disk=-5,
        GPUs=True,
        TotalSlotCpus="16",
        EnteredCurrentState=10**30,
        EnteredCurrentActivity="yesterday",
        Draining="yes",
        Start="x" * 5000,
        ParentSlotId={"nested": [1]},
    )
    assert len(info.name) == 255 and info.machine == ""
    assert info.slot_type == "Static"
    assert (info.cpus, info.memory_mb, info.disk_kb, info.gpus, info.total_cpus) == (0, 0, 0, 0, 0)
    assert (info.entered_state, info.entered_activity, info.draining) == (None, None, False)
    assert len(info.attributes["Start"]) == 1024


def test_the_collector_is_asked_for_each_attribute_once() -> None:
    asked = [*SLOT_FIELDS, *SLOT_ATTRIBUTES]
    assert len(set(asked)) == len(asked)


def test_a_single_slot_of_an_old_startd_is_named_after_the_startd_itself() -> None:
    # Before HTCondor 9.7.0 a one-slot startd left the "slotN@" prefix out.
    assert slot(Name="exec01@node7", Machine="node7").startd == "exec01@node7"
    assert slot(Name="slot2@exec01@node7").startd == "exec01@node7"
    assert slot(Machine="node7").startd == "node7"


def test_attributes_are_shown_as_the_ad_writes_them() -> None:
    info = slot(Start='/Expr(Owner == "nobody")/', AcceptedWhileDraining=False, MachineMaxVacateTime="/Expr(10 * 60)/")
    assert info.attributes == {
        "Start": 'Owner == "nobody"',
        "AcceptedWhileDraining": "false",
        "MachineMaxVacateTime": "10 * 60",
    }


def test_an_ad_the_bindings_cannot_print_reads_as_empty() -> None:
    class Broken:
        def printJson(self) -> str:
            raise RuntimeError("no")

    assert child._ad_values(Broken()) == {}
    assert slot(**child._ad_values(Broken())).name == ""
