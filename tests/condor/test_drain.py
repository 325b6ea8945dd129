"""Draining the real pool's startd (minicondor's own, idle) and cancelling it; each refusal in an operator's words.

Every test leaves the startd undrained (the ``startd`` fixture cancels), so
the pool stays usable for the tests after it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

import condor.client
from condor.errors import DaemonUnreachable, NotAuthorized, ProtocolTimeout, Refused
from condor.types import Credentials, DrainCompletion, DrainRequest, DrainSpeed, SlotInfo, Target
from devtools import devpool
from tests.helpers import target, wait_for

pytestmark = pytest.mark.integration

# The dev pool's UPDATE_INTERVAL is 5 s: the collector shows a change within two updates.
UPDATES = 15.0


@pytest.fixture
def startd(healthy_pool: devpool.DevPool, credentials) -> Iterator[Target]:
    info = wait_for(
        lambda: next(
            (d for d in condor.client.discover(healthy_pool.collector, credentials) if d.kind == "startd"), None
        ),
        what="the startd in the collector",
    )
    startd = target(info)
    condor.client.cancel_drain(startd, credentials)
    yield startd
    condor.client.cancel_drain(startd, credentials)
    wait_for(
        lambda: not any(s.draining for s in slots_of(healthy_pool, credentials)), timeout=UPDATES, what="undrained"
    )


def slots_of(pool: devpool.DevPool, credentials) -> list[SlotInfo]:
    return condor.client.slots(pool.collector, credentials)


def test_a_graceful_drain_of_an_idle_startd_ends_drained_and_cancel_brings_it_back(
    healthy_pool: devpool.DevPool, credentials, startd: Target
) -> None:
    request_id = condor.client.drain(startd, DrainRequest(DrainSpeed.GRACEFUL, "condorweb test: drain"), credentials)

    assert request_id.isdigit()
    drained = wait_for(
        lambda: (s := slots_of(healthy_pool, credentials)) and all(x.state == "Drained" for x in s) and s,
        timeout=UPDATES,
        what="every slot Drained",
    )
    assert {(s.draining, s.drain_request_id, s.drain_reason) for s in drained} == {
        (True, request_id, "condorweb test: drain")
    }
    assert all(s.drain_started is not None for s in drained)
    # Without a start expression a draining slot drops Start (Requirements is False): no new jobs.
    assert all("Start" not in s.attributes for s in drained)

    condor.client.cancel_drain(startd, credentials, request_id=request_id)
    wait_for(
        lambda: all(s.state == "Unclaimed" and not s.draining for s in slots_of(healthy_pool, credentials)),
        timeout=UPDATES,
        what="every slot Unclaimed again",
    )


def test_the_start_expression_shows_in_the_slot_ads_while_draining(
    healthy_pool: devpool.DevPool, credentials, startd: Target
) -> None:
    request = DrainRequest(DrainSpeed.GRACEFUL, "condorweb test: start", start='Owner == "nobody"')
    condor.client.drain(startd, request, credentials)
    wait_for(
        lambda: all(s.attributes.get("Start") == 'Owner == "nobody"' for s in slots_of(healthy_pool, credentials)),
        timeout=UPDATES,
        what="the draining START in the slot ads",
    )


def test_a_false_check_expression_is_refused_with_htcondors_reason(
    healthy_pool: devpool.DevPool, credentials, startd: Target
) -> None:
    slot = slots_of(healthy_pool, credentials)[0]
    with pytest.raises(Refused, match=f"the check expression is false on {slot.name}"):
        condor.client.drain(startd, DrainRequest(DrainSpeed.FAST, "condorweb test: check", check="false"), credentials)
    with pytest.raises(Refused, match="not true or false"):
        condor.client.drain(
            startd, DrainRequest(DrainSpeed.FAST, "condorweb test: check", check="NoSuchAttr"), credentials
        )
    # A true check lets the drain through.
    assert condor.client.drain(startd, DrainRequest(DrainSpeed.FAST, "condorweb test", check="Cpus >= 0"), credentials)


def test_a_second_drain_is_refused_while_the_first_runs(
    healthy_pool: devpool.DevPool, credentials, startd: Target
) -> None:
    first = condor.client.drain(startd, DrainRequest(DrainSpeed.GRACEFUL, "condorweb test: first"), credentials)
    with pytest.raises(Refused, match=rf"already draining \(request {first}: 'condorweb test: first'\)"):
        condor.client.drain(startd, DrainRequest(DrainSpeed.FAST, "condorweb test: second"), credentials)


def test_cancelling_a_request_the_startd_does_not_run_is_refused(
    healthy_pool: devpool.DevPool, credentials, startd: Target
) -> None:
    with pytest.raises(Refused, match="no drain request 999999: it is not draining"):
        condor.client.cancel_drain(startd, credentials, request_id="999999")
    current = condor.client.drain(startd, DrainRequest(DrainSpeed.GRACEFUL, "condorweb test: cancel"), credentials)
    with pytest.raises(Refused, match=f"no drain request 999999: its drain is request {current}"):
        condor.client.cancel_drain(startd, credentials, request_id="999999")


def test_a_drain_without_administrator_access_is_not_authorized(healthy_pool: devpool.DevPool, startd: Target) -> None:
    with pytest.raises(NotAuthorized, match="needs ADMINISTRATOR") as refused:
        condor.client.drain(startd, DrainRequest(DrainSpeed.FAST, "condorweb test: nobody"), Credentials())
    assert "ALLOW_ADMINISTRATOR" in str(refused.value)
    with pytest.raises(NotAuthorized, match="needs ADMINISTRATOR"):
        condor.client.cancel_drain(startd, Credentials())


def test_a_drain_to_a_closed_port_is_unreachable_at_once() -> None:
    started = time.monotonic()
    with pytest.raises(DaemonUnreachable, match="Cannot connect to the startd"):
        condor.client.drain(
            Target(address="<127.0.0.1:9>", kind="startd"), DrainRequest(DrainSpeed.FAST, "r"), Credentials()
        )
    assert time.monotonic() - started < 5


def test_a_drain_to_a_black_holed_startd_times_out_within_the_bound(black_hole: int, short_timeout: None) -> None:
    started = time.monotonic()
    with pytest.raises(ProtocolTimeout, match=r"within 1\.5 s"):
        condor.client.drain(
            Target(address=f"<127.0.0.1:{black_hole}>", kind="startd"),
            DrainRequest(DrainSpeed.FAST, "r"),
            Credentials(),
        )
    assert time.monotonic() - started < 4


def test_the_startds_own_ad_shows_its_drain(healthy_pool: devpool.DevPool, credentials, startd: Target) -> None:
    request_id = condor.client.drain(
        startd, DrainRequest(DrainSpeed.GRACEFUL, "condorweb test: daemon ad"), credentials
    )
    info = wait_for(
        lambda: next(
            (
                d
                for d in condor.client.discover(healthy_pool.collector, credentials)
                if d.kind == "startd" and d.attributes.get("Draining") == "True"
            ),
            None,
        ),
        timeout=UPDATES,
        what="the startd's ad draining",
    )
    assert info.attributes["DrainingRequestId"] == request_id
    assert info.attributes["DrainReason"] == "condorweb test: daemon ad"


def test_a_drain_that_resumes_on_completion_leaves_an_idle_startd_undrained(
    healthy_pool: devpool.DevPool, credentials, startd: Target
) -> None:
    request = DrainRequest(DrainSpeed.GRACEFUL, "condorweb test: resume", on_completion=DrainCompletion.RESUME)
    before = time.time()
    condor.client.drain(startd, request, credentials)
    # An idle startd drains and resumes within one update: the collector may
    # never show it draining, only a newer LastDrainStopTime.
    wait_for(
        lambda: all(
            not s.draining and int(s.attributes.get("LastDrainStopTime", "0")) >= int(before)
            for s in slots_of(healthy_pool, credentials)
        ),
        timeout=UPDATES,
        what="the drain over",
    )
