"""Runtime unsets against the real master, in every order: HTCondor must never be made to free twice.

HTCondor aborts the daemon when a runtime value that is not the last of its
list is removed (see ``daemons.commands.services._unset_from_the_end``); the console
must take values back in any order and leave the master running with exactly
the values that remain.
"""

from __future__ import annotations

import itertools
import os

import pytest

import condor.client
from configview import services as configview_services
from daemons.commands.services import ClientInfo
from daemons.models import CommandRecord, Daemon
from devtools import devpool
from tests.helpers import registered_master, wait_for

pytestmark = pytest.mark.integration

VALUES = {"TEST_RUNTIME_P1": "a", "TEST_RUNTIME_P2": "b", "TEST_RUNTIME_P3": "c"}


@pytest.fixture
def master(healthy_pool: devpool.DevPool) -> Daemon:
    return registered_master(healthy_pool)


def change(user, master: Daemon, knob: str, value: str | None) -> configview_services.RuntimeChange:
    done = configview_services.runtime_config_change(
        user=user, daemon=master, knob=knob, value=value, reconfig=True, client=ClientInfo()
    )
    assert done.record.outcome == CommandRecord.Outcome.SENT, done.record.error
    return done


def alive(pid: int) -> bool:
    # Not devpool.master_pid again: the master rewrites its pid file at each Reconfig.
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def values_on(master: Daemon) -> dict[str, str | None]:
    target, credentials = master.target, master.pool.credentials
    return {knob: condor.client.remote_config_value(target, knob, credentials) for knob in VALUES}


@pytest.mark.parametrize("order", list(itertools.permutations(VALUES)), ids="-".join)
def test_runtime_values_taken_back_in_any_order_leave_the_master_alive_with_the_rest(
    operator, healthy_pool: devpool.DevPool, master: Daemon, order: tuple[str, ...]
) -> None:
    pid = wait_for(lambda: devpool.master_pid(healthy_pool.name), what="the master's pid")
    for knob, value in VALUES.items():
        change(operator, master, knob, value)
    wait_for(lambda: values_on(master) == VALUES, what="the three runtime values")

    expected: dict[str, str | None] = dict(VALUES)
    for knob in order:
        change(operator, master, knob, None)
        expected[knob] = None
        assert alive(pid), f"the master died after unsetting {knob}"
        wait_for(lambda: values_on(master) == expected, what=f"the values left after unsetting {knob}")
    assert alive(pid)


def test_the_page_says_which_later_values_were_taken_back_and_set_again(operator, master: Daemon) -> None:
    for knob, value in VALUES.items():
        change(operator, master, knob, value)
    try:
        done = change(operator, master, "TEST_RUNTIME_P1", None)
        assert [knob.upper() for knob in done.moved] == ["TEST_RUNTIME_P2", "TEST_RUNTIME_P3"]
    finally:
        for knob in ("TEST_RUNTIME_P3", "TEST_RUNTIME_P2"):
            change(operator, master, knob, None)
