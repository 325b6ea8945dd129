"""services.pool_refresh and the slots: each refresh replaces a pool's slots, puts each in its machine board
column, and notes a startd's drain (Draining → Drained → resumed) in the pool's timeline."""

from __future__ import annotations

import pytest

import condor.client
from condor.errors import ProtocolTimeout
from condor.types import DaemonInfo
from daemons.inventory import selectors, services
from daemons.models import Daemon, DaemonStateChange, Pool, Slot
from tests.helpers import daemon_info, slot_info


def startd(name: str) -> DaemonInfo:
    return daemon_info("startd", name, machine=name.rsplit("@", 1)[-1])


@pytest.fixture
def pool(db: None) -> Pool:
    return Pool.objects.create(name="cluster", collector="cm.example.org:9618")


@pytest.fixture
def ads(monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    """What the fake collector answers: its daemon ads and its slot ads; tests change them between refreshes."""
    answer: dict[str, list] = {"daemons": [startd("exec01@node1"), startd("exec02@node1")], "slots": []}
    monkeypatch.setattr(condor.client, "discover", lambda collector, credentials: list(answer["daemons"]))
    monkeypatch.setattr(condor.client, "slots", lambda collector, credentials: list(answer["slots"]))
    return answer


def draining(name: str, **fields: object) -> object:
    return slot_info(name, draining=True, drain_request_id="7", drain_reason="kernel update", **fields)


def test_each_slot_is_stored_under_the_startd_that_advertises_it(pool: Pool, ads: dict) -> None:
    ads["slots"] = [
        slot_info("slot1@exec01@node1", slot_type="Partitionable", cpus=2, total_cpus=4),
        slot_info(
            "slot1_1@exec01@node1",
            slot_type="Dynamic",
            parent="slot1@exec01@node1",
            state="Claimed",
            activity="Busy",
            job="node1#3.0#1",
            user="alice@example.org",
        ),
        slot_info("slot1@exec02@node1", state="Owner"),
    ]
    services.pool_refresh(pool=pool)
    rows = {s.name: (s.startd.name, s.board) for s in Slot.objects.select_related("startd")}
    assert rows == {
        "slot1@exec01@node1": ("exec01@node1", "unclaimed"),
        "slot1_1@exec01@node1": ("exec01@node1", "claimed"),
        "slot1@exec02@node1": ("exec02@node1", "owner"),
    }
    claimed = Slot.objects.get(name="slot1_1@exec01@node1")
    assert (claimed.job, claimed.user, claimed.parent) == ("node1#3.0#1", "alice@example.org", "slot1@exec01@node1")


def test_a_refresh_replaces_the_slots_so_a_finished_jobs_dynamic_slot_goes(pool: Pool, ads: dict) -> None:
    ads["slots"] = [slot_info("slot1@exec01@node1"), slot_info("slot1_1@exec01@node1", parent="slot1@exec01@node1")]
    services.pool_refresh(pool=pool)
    ads["slots"] = [slot_info("slot1@exec01@node1")]
    services.pool_refresh(pool=pool)
    assert list(Slot.objects.values_list("name", flat=True)) == ["slot1@exec01@node1"]


def test_a_draining_startds_slots_count_as_draining_until_htcondor_says_drained(pool: Pool, ads: dict) -> None:
    ads["slots"] = [
        draining("slot1@exec01@node1", state="Drained", activity="Retiring"),
        draining("slot1_1@exec01@node1", state="Claimed", activity="Retiring", parent="slot1@exec01@node1"),
    ]
    services.pool_refresh(pool=pool)
    assert dict(Slot.objects.values_list("name", "board")) == {
        "slot1@exec01@node1": "drained",
        "slot1_1@exec01@node1": "draining",
    }
    assert Daemon.objects.get(name="exec01@node1").drain_state == "draining"


def test_the_timeline_shows_draining_then_drained_then_resumed(pool: Pool, ads: dict) -> None:
    ads["slots"] = [slot_info("slot1@exec01@node1")]
    services.pool_refresh(pool=pool)
    ads["slots"] = [draining("slot1@exec01@node1", state="Claimed", activity="Retiring")]
    services.pool_refresh(pool=pool)
    ads["slots"] = [draining("slot1@exec01@node1", state="Drained", activity="Idle")]
    services.pool_refresh(pool=pool)
    ads["slots"] = [slot_info("slot1@exec01@node1")]
    services.pool_refresh(pool=pool)

    changes = DaemonStateChange.objects.filter(aspect="drain").order_by("id")
    assert [(c.old_state, c.new_state) for c in changes] == [("", "draining"), ("draining", "drained"), ("drained", "")]
    timeline = [(e.old_state, e.new_state) for e in selectors.pool_timeline(pool) if not e.is_command]
    assert timeline[:3] == [("drained", "resumed"), ("draining", "drained"), ("not-draining", "draining")]


def test_a_startd_first_seen_draining_records_no_change_but_shows_its_state(pool: Pool, ads: dict) -> None:
    ads["slots"] = [draining("slot1@exec01@node1", state="Drained")]
    services.pool_refresh(pool=pool)
    assert Daemon.objects.get(name="exec01@node1").drain_state == "drained"
    assert not DaemonStateChange.objects.exists()


def test_a_startd_gone_from_the_collector_keeps_its_last_drain_state(pool: Pool, ads: dict) -> None:
    ads["slots"] = [draining("slot1@exec01@node1", state="Drained")]
    services.pool_refresh(pool=pool)
    ads["daemons"], ads["slots"] = [startd("exec02@node1")], []
    services.pool_refresh(pool=pool)
    gone = Daemon.objects.get(name="exec01@node1")
    assert (gone.state, gone.drain_state) == ("missing", "drained")
    assert not DaemonStateChange.objects.filter(aspect="drain").exists()


def test_slots_that_cannot_be_read_fail_the_refresh_and_keep_what_was_known(
    pool: Pool, ads: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    ads["slots"] = [slot_info("slot1@exec01@node1")]
    services.pool_refresh(pool=pool)

    def slow(collector: str, credentials: object) -> list:
        raise ProtocolTimeout("The collector did not answer within 20 s.")

    monkeypatch.setattr(condor.client, "slots", slow)
    refreshed = services.pool_refresh(pool=pool)
    assert "did not answer" in refreshed.last_refresh_error
    assert list(Slot.objects.values_list("name", flat=True)) == ["slot1@exec01@node1"]


def test_an_odd_slot_state_lands_in_the_other_column(pool: Pool, ads: dict) -> None:
    ads["slots"] = [
        slot_info("slot1@exec01@node1", state="Preempting"),
        slot_info("slot2@exec01@node1", state="Matched"),
    ]
    services.pool_refresh(pool=pool)
    assert set(Slot.objects.values_list("board", flat=True)) == {"other"}


def test_a_refresh_rewrites_only_the_slots_that_changed(pool: Pool, ads: dict) -> None:
    ads["slots"] = [slot_info("slot1@exec01@node1"), slot_info("slot2@exec01@node1")]
    services.pool_refresh(pool=pool)
    before = dict(Slot.objects.values_list("name", "pk"))
    ads["slots"] = [slot_info("slot1@exec01@node1"), slot_info("slot2@exec01@node1", state="Claimed", job="1.0")]
    services.pool_refresh(pool=pool)
    after = dict(Slot.objects.values_list("name", "pk"))
    assert after["slot1@exec01@node1"] == before["slot1@exec01@node1"]
    assert after["slot2@exec01@node1"] != before["slot2@exec01@node1"]
    assert Slot.objects.get(name="slot2@exec01@node1").job == "1.0"


def test_a_slot_state_as_long_as_the_condor_package_lets_through_is_stored(pool: Pool, ads: dict) -> None:
    # condor.child cuts State and Activity at 64 characters; the columns hold that much (on PostgreSQL a
    # longer value failed the whole refresh).
    ads["slots"] = [slot_info("slot1@exec01@node1", state="S" * 64, activity="A" * 64)]
    refreshed = services.pool_refresh(pool=pool)
    assert refreshed.last_refresh_error == ""
    assert Slot.objects.get().state == "S" * 64
