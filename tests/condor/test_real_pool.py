"""The condor package against real HTCondor daemons (the test dev pool)."""

from __future__ import annotations

import re

import pytest

import condor.client
from condor.commands import Command
from condor.errors import InvalidInput, NotAuthorized, Refused
from condor.types import Credentials
from devtools import devpool
from tests.helpers import LogWatch, master_log, master_of, target, wait_for

pytestmark = pytest.mark.integration


def test_the_collector_lists_every_daemon_of_a_personal_pool(healthy_pool: devpool.DevPool, credentials) -> None:
    kinds = wait_for(
        lambda: (
            (k := {d.kind for d in condor.client.discover(healthy_pool.collector, credentials)})
            >= {"master", "schedd", "startd", "collector", "negotiator"}
            and k
        ),
        what="all five daemon kinds",
    )
    assert {"master", "schedd", "startd", "collector", "negotiator"} <= kinds


def test_every_daemon_of_the_pool_has_a_start_time_the_collector_included(
    healthy_pool: devpool.DevPool, credentials
) -> None:
    # A collector advertises its age from its first self-monitoring, a few seconds after it starts.
    daemons = wait_for(
        lambda: (
            (found := condor.client.discover(healthy_pool.collector, credentials))
            and all(d.start_time is not None for d in found)
            and found
        ),
        what="a start time for every daemon",
    )
    assert {d.kind for d in daemons} >= {"master", "collector"}


def test_a_master_ad_carries_identity_and_child_states(healthy_pool: devpool.DevPool, credentials) -> None:
    master = master_of(healthy_pool, credentials)
    assert master.address.startswith("<127.0.0.1:")
    assert re.fullmatch(r"\$CondorVersion: \d+\.\d+\.\d+ .+ \$", master.version), master.version
    assert master.start_time is not None
    assert master.children.get("SCHEDD") == "up"


def test_it_reads_the_masters_update_interval_as_a_string(healthy_pool: devpool.DevPool, credentials) -> None:
    master = master_of(healthy_pool, credentials)
    assert condor.client.remote_config_value(target(master), "UPDATE_INTERVAL", credentials) == "5"


def test_an_undefined_knob_reads_as_none(healthy_pool: devpool.DevPool, credentials) -> None:
    master = master_of(healthy_pool, credentials)
    assert condor.client.remote_config_value(target(master), "CONDORWEB_NEVER_DEFINED", credentials) is None


def test_it_fetches_every_knob_of_the_master(healthy_pool: devpool.DevPool, credentials) -> None:
    master = master_of(healthy_pool, credentials)
    progress: list[tuple[int, int]] = []
    values = condor.client.remote_config_all(
        target(master), credentials, on_progress=lambda d, t: progress.append((d, t))
    )
    assert len(values) > 1000
    assert values["UPDATE_INTERVAL"] == "5"
    assert progress[-1] == (len(values), len(values))


def test_a_runtime_set_then_reconfig_changes_the_value_and_unset_removes_it(
    healthy_pool: devpool.DevPool, credentials
) -> None:
    master = target(master_of(healthy_pool, credentials))
    condor.client.remote_config_set(master, "CONDORWEB_TEST_KNOB", "from-the-console", credentials)
    condor.client.send_command(master, Command.Reconfig, credentials)
    wait_for(
        lambda: condor.client.remote_config_value(master, "CONDORWEB_TEST_KNOB", credentials) == "from-the-console",
        what="the runtime value",
    )
    condor.client.remote_config_unset(master, "CONDORWEB_TEST_KNOB", credentials)
    condor.client.send_command(master, Command.Reconfig, credentials)
    wait_for(
        lambda: condor.client.remote_config_value(master, "CONDORWEB_TEST_KNOB", credentials) is None,
        what="the runtime value to be gone",
    )


def test_a_knob_outside_settable_attrs_is_refused_with_the_knobs_that_allow_it(
    healthy_pool: devpool.DevPool, credentials
) -> None:
    master = target(master_of(healthy_pool, credentials))
    with pytest.raises(Refused) as refused:
        condor.client.remote_config_set(master, "NOT_SETTABLE_KNOB", "x", credentials)
    assert "SETTABLE_ATTRS_CONFIG" in str(refused.value)
    assert "ENABLE_RUNTIME_CONFIG" in str(refused.value)


def test_the_runtime_config_check_reads_the_masters_list_and_finds_the_console_at_config(
    healthy_pool: devpool.DevPool, credentials
) -> None:
    master = target(master_of(healthy_pool, credentials))
    check = condor.client.runtime_config_check(master, "TEST_FOO", credentials)
    assert (check.enabled, check.lists["CONFIG"]) == (True, list(devpool.SETTABLE_ATTRS_CONFIG))
    assert (check.listing, check.authorized, check.certain_refusal) == (("CONFIG",), {"CONFIG"}, None)
    assert "console" in check.identity
    refusal = condor.client.runtime_config_check(master, "UPDATE_INTERVAL", credentials).certain_refusal
    assert "UPDATE_INTERVAL is not in this daemon's SETTABLE_ATTRS_CONFIG (CONDORWEB_*, TEST_*" in str(refusal)


def test_sources_say_where_each_value_comes_from(healthy_pool: devpool.DevPool, credentials) -> None:
    master = target(master_of(healthy_pool, credentials))
    sources = condor.client.remote_config_sources(master, credentials)
    assert sources["ABORT_ON_EXCEPTION"] == "<Default>"
    assert "condorweb.config" in sources["UPDATE_INTERVAL"]


def test_reconfig_shows_in_the_master_log(healthy_pool: devpool.DevPool, credentials) -> None:
    master = target(master_of(healthy_pool, credentials))
    log = LogWatch(master_log(healthy_pool))
    condor.client.send_command(master, Command.Reconfig, credentials)
    assert "Sent SIGHUP to SCHEDD" in log.wait_for("Sent SIGHUP to SCHEDD")


def test_daemon_off_stops_the_schedd_and_daemon_on_brings_it_back(healthy_pool: devpool.DevPool, credentials) -> None:
    master = target(master_of(healthy_pool, credentials))
    log = LogWatch(master_log(healthy_pool))
    condor.client.send_command(master, Command.DaemonOff, credentials, subsystem="SCHEDD")
    log.wait_for("The SCHEDD (pid")
    wait_for(lambda: master_of(healthy_pool, credentials).children.get("SCHEDD") == "down", what="SCHEDD down")
    condor.client.send_command(master, Command.DaemonOn, credentials, subsystem="SCHEDD")
    wait_for(lambda: master_of(healthy_pool, credentials).children.get("SCHEDD") == "up", what="SCHEDD up")
    wait_for(
        lambda: any(d.kind == "schedd" for d in condor.client.discover(healthy_pool.collector, credentials)),
        what="the schedd back in the collector",
    )


def test_a_command_without_a_valid_token_is_refused_as_not_authorized(
    healthy_pool: devpool.DevPool, credentials, tmp_path
) -> None:
    master = target(master_of(healthy_pool, credentials))
    bogus = tmp_path / "bogus-token"
    bogus.write_text("eyJhbGciOiJIUzI1NiIsImtpZCI6IlBPT0wifQ.eyJzdWIiOiJjb25zb2xlIn0.c2lnbmF0dXJl\n")
    bogus.chmod(0o600)
    for creds in (Credentials(), Credentials(token_file=str(bogus))):
        with pytest.raises(NotAuthorized, match="ALLOW_ADMINISTRATOR"):
            condor.client.send_command(master, Command.Reconfig, creds)


def test_the_console_may_administer_and_configure_according_to_ping(healthy_pool: devpool.DevPool, credentials) -> None:
    master = target(master_of(healthy_pool, credentials))
    assert condor.client.check_authorization(master, "ADMINISTRATOR", credentials).authorized
    assert condor.client.check_authorization(master, "CONFIG", credentials).authorized
    denied = condor.client.check_authorization(master, "ADMINISTRATOR", Credentials())
    assert not denied.authorized


def test_a_knob_name_with_a_newline_is_rejected_before_anything_is_sent(
    healthy_pool: devpool.DevPool, credentials
) -> None:
    master = target(master_of(healthy_pool, credentials))
    log = LogWatch(master_log(healthy_pool))
    with pytest.raises(InvalidInput):
        condor.client.remote_config_set(master, "EVIL\nALLOW_WRITE", "*", credentials)
    assert "EVIL" not in log.new_text()


def test_the_first_query_after_the_pool_restarts_succeeds(healthy_pool: devpool.DevPool, credentials) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as both_workers:
        list(both_workers.map(lambda _: condor.client.discover(healthy_pool.collector, credentials), range(2)))
    devpool.restart_master(healthy_pool.name)

    # Each worker holds security sessions the restarted daemons no longer know.
    kinds = {daemon.kind for daemon in condor.client.discover(healthy_pool.collector, credentials)}

    assert "master" in kinds
