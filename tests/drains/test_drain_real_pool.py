"""Drains against the real fleet (four execute nodes, real sleep jobs): graceful lets the job finish, fast
evicts it, cancel restores, a bulk drain by constraint reaches exactly the previewed machines, a false check
expression is refused with HTCondor's reason, and the pool's timeline shows Draining → Drained → resumed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from condor.types import DrainRequest
from daemons.commands import services
from daemons.commands.services import ClientInfo
from daemons.inventory import services as inventory_services
from daemons.models import CommandRecord, Daemon, DaemonStateChange, Pool, Slot
from devtools import devpool
from tests.commands.helpers import client_for
from tests.helpers import register, wait_for

pytestmark = pytest.mark.integration

CLIENT = ClientInfo(address="127.0.0.1", user_agent="pytest")


@pytest.fixture
def fleet(healthy_fleet: devpool.DevPool, db: None) -> Iterator[Pool]:
    """The fleet as the console knows it, read once; every drain cancelled and every job removed after."""
    pool = register(healthy_fleet)
    inventory_services.pool_refresh(pool=pool)
    clusters: list[str] = []
    pool.clusters = clusters  # type: ignore[attr-defined]
    yield pool
    for cluster in clusters:
        devpool.remove_jobs(healthy_fleet.name, cluster)
    inventory_services.pool_refresh(pool=pool)
    for startd in Daemon.objects.filter(pool=pool, kind="startd").exclude(drain_state=""):
        services.drain_cancel(user=_anyone(), daemon=startd, client=CLIENT)


def _anyone() -> Any:
    from django.contrib.auth.models import User

    return User.objects.get_or_create(username="fleet-cleanup")[0]


def startd(pool: Pool, node: str) -> Daemon:
    return Daemon.objects.get(pool=pool, kind="startd", name__startswith=f"{node}@")


def refreshed_slots(pool: Pool, node: str) -> list[Slot]:
    inventory_services.pool_refresh(pool=pool)
    return list(Slot.objects.filter(startd=startd(pool, node)))


def busy_job_on(pool: Pool, fleet_pool: devpool.DevPool, node: str, seconds: int) -> None:
    pool.clusters.append(  # type: ignore[attr-defined]
        devpool.submit_sleep(fleet_pool.name, seconds=seconds, requirements=f'CONDORWEB_NODE == "{node}"')
    )
    # Busy for a few seconds: a graceful drain within about a second of a job's start evicted it at once
    # ("claim retirement ended/expired" in the StartLog, seen on 23.9.6), whatever MAXJOBRETIREMENTTIME says.
    settled = timedelta(seconds=3)
    wait_for(
        lambda: any(
            s.activity == "Busy" and s.entered_activity and timezone.now() - s.entered_activity > settled
            for s in refreshed_slots(pool, node)
        ),
        timeout=60,
        what=f"a job on {node}",
    )


def drain_state(pool: Pool, node: str) -> str:
    inventory_services.pool_refresh(pool=pool)
    return startd(pool, node).drain_state


def test_a_graceful_drain_lets_the_job_finish_then_cancel_resumes_and_the_timeline_says_so(
    fleet: Pool, healthy_fleet: devpool.DevPool, operator
) -> None:
    # exec01's first graceful drain of the session, on purpose: with a pool kept between runs
    # (CONDORWEB_KEEP_TEST_POOL=1), every second graceful drain of the same 23.9.6 startd evicted its job at
    # once ("claim retirement ended/expired", no "Coordinating retirement" in its StartLog): HTCondor gives a
    # job it counts as accepted while draining no retirement time (ResMgr::gracefulDrainingTimeRemaining).
    # Long enough to be seen retiring: the collector may show it Busy up to UPDATE_INTERVAL (5 s) late.
    busy_job_on(fleet, healthy_fleet, "exec01", seconds=25)
    node = startd(fleet, "exec01")
    record = services.drain_send(
        user=operator, daemon=node, request=DrainRequest(speed="graceful", reason="kernel update"), client=CLIENT
    )
    assert record.outcome == "sent" and record.request_id

    # Retiring (Claimed/Retiring): the job runs on; no new job starts.
    wait_for(lambda: drain_state(fleet, "exec01") == "draining", timeout=30, what="exec01 draining")
    assert any(s.job and s.board == "draining" for s in Slot.objects.filter(startd=node))
    wait_for(lambda: drain_state(fleet, "exec01") == "drained", timeout=60, what="exec01 drained after its job")
    assert {s.state for s in Slot.objects.filter(startd=node)} == {"Drained"}
    assert Slot.objects.filter(startd=node).first().drain_reason == "kernel update"

    services.drain_cancel(user=operator, daemon=node, request_id=record.request_id, client=CLIENT)
    wait_for(lambda: drain_state(fleet, "exec01") == "", timeout=30, what="exec01 resumed")
    assert {s.state for s in Slot.objects.filter(startd=node)} == {"Unclaimed"}
    changes = DaemonStateChange.objects.filter(daemon=node, aspect="drain").order_by("id")
    assert [(c.old_state, c.new_state) for c in changes] == [("", "draining"), ("draining", "drained"), ("drained", "")]


def test_a_fast_drain_evicts_the_running_job(fleet: Pool, healthy_fleet: devpool.DevPool, operator) -> None:
    busy_job_on(fleet, healthy_fleet, "exec02", seconds=600)
    record = services.drain_send(
        user=operator,
        daemon=startd(fleet, "exec02"),
        request=DrainRequest(speed="fast", reason="disk replacement"),
        client=CLIENT,
    )
    assert record.outcome == "sent"
    wait_for(lambda: drain_state(fleet, "exec02") == "drained", timeout=30, what="exec02 drained at once")
    assert not [s for s in Slot.objects.filter(startd=startd(fleet, "exec02")) if s.job]


def test_a_bulk_drain_by_constraint_reaches_exactly_the_previewed_machines(
    fleet: Pool, operator, background_jobs: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(operator)
    constraint = 'CONDORWEB_NODE == "exec03" || CONDORWEB_NODE == "exec04"'
    preview = client.get(reverse("daemons:pool_drain", args=[fleet.pk]), {"by": "constraint", "constraint": constraint})
    previewed = list(preview.context["preview"].startds)
    assert sorted(d.name.split("@")[0] for d in previewed) == ["exec03", "exec04"]

    data = {"daemons": [d.pk for d in previewed], "speed": "graceful", "reason": "rack 4", "confirm": fleet.name}
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            client.post(reverse("daemons:pool_drain", args=[fleet.pk]), data | {"on_completion": "nothing"}).status_code
            == 302
        )
    background_jobs.run("command_batch")
    rows = CommandRecord.objects.filter(command="Drain", batch__isnull=False)
    assert sorted((r.daemon_name.split("@")[0], r.outcome) for r in rows) == [("exec03", "sent"), ("exec04", "sent")]
    wait_for(
        lambda: (
            inventory_services.pool_refresh(pool=fleet)
            and sorted(
                d.name.split("@")[0] for d in Daemon.objects.filter(pool=fleet, kind="startd").exclude(drain_state="")
            )
            == ["exec03", "exec04"]
        ),
        timeout=30,
        what="exactly exec03 and exec04 draining",
    )


def test_a_false_check_expression_is_refused_with_htcondors_reason(fleet: Pool, operator) -> None:
    record = services.drain_send(
        user=operator,
        daemon=startd(fleet, "exec01"),
        request=DrainRequest(speed="graceful", reason="only big nodes", check="Cpus > 1000"),
        client=CLIENT,
    )
    assert record.outcome == "refused"
    assert "check expression is false" in record.error
    assert drain_state(fleet, "exec01") == ""


def test_a_viewers_forged_drain_is_forbidden_recorded_and_never_sent(fleet: Pool, viewer) -> None:
    node = startd(fleet, "exec01")
    data = {"speed": "fast", "reason": "x", "on_completion": "nothing", "confirm": node.name}
    assert client_for(viewer).post(reverse("daemons:daemon_drain", args=[node.pk]), data).status_code == 403
    assert CommandRecord.objects.get(daemon=node).outcome == "forbidden"
    assert drain_state(fleet, "exec01") == ""
