"""Commands through the console's forms against the real dev pool: the MasterLog and the collector show each effect.

OffFast runs last (file order) and brings the pool back itself, as later tests need it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client, TestCase
from django.urls import reverse

from condor.commands import Command
from daemons.inventory import services
from daemons.models import CommandRecord, Daemon, Pool
from devtools import devpool
from tests.commands.helpers import client_for
from tests.helpers import LogWatch, master_log, register, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("background_jobs")]

KINDS = {"master", "collector", "negotiator", "schedd", "startd"}


@dataclass
class Console:
    dev: devpool.DevPool
    pool: Pool
    client: Client
    log: LogWatch

    @property
    def master(self) -> Daemon:
        return Daemon.objects.get(pool=self.pool, kind="master")

    def send(self, command: str, **data: str) -> CommandRecord:
        """POST the command form of the pool's master, as a browser would, and return its audit row."""
        master = self.master
        if Command[command].destructive:
            data.setdefault("confirm", master.name)
        # Committed as a request's would be: the refreshes it queues reach the (held) queue.
        with TestCase.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                reverse("daemons:daemon_command", args=[master.pk]), {"command": command, **data}
            )
        assert response.status_code == 302
        record = CommandRecord.objects.latest("id")
        assert (record.command, record.outcome, record.daemon) == (command, "sent", master), record.error
        return record

    def refreshed(self) -> Pool:
        return services.pool_refresh(pool=self.pool)

    def state(self, kind: str) -> str:
        self.refreshed()
        return Daemon.objects.get(pool=self.pool, kind=kind).state

    def all_up(self) -> bool:
        pool = self.refreshed()
        up = set(Daemon.objects.filter(pool=pool, state=Daemon.State.UP).values_list("kind", flat=True))
        return not pool.last_refresh_error and up >= KINDS

    def collector_unreachable(self) -> bool:
        return bool(self.refreshed().last_refresh_error)


@pytest.fixture
def console(healthy_pool: devpool.DevPool, admin, background_jobs) -> Console:
    pool = register(healthy_pool)
    found = Console(dev=healthy_pool, pool=pool, client=client_for(admin), log=LogWatch(master_log(healthy_pool)))
    wait_for(found.all_up, what="every daemon up in the inventory")
    found.log = LogWatch(master_log(healthy_pool))
    return found


def test_reconfig_from_the_form_reaches_every_child_and_leaves_them_all_running(console, background_jobs) -> None:
    console.send("Reconfig")
    text = console.log.wait_for("Sent SIGHUP to SCHEDD")
    assert "Sent SIGHUP to NEGOTIATOR" in text
    assert ("pool_refresh", (console.pool.pk, "command")) in [(t.name, t.args) for t in background_jobs.pending()]
    assert console.all_up()


def test_bulk_reconfig_of_every_daemon_reaches_each_one(console, bulk_post) -> None:
    daemons = list(Daemon.objects.filter(pool=console.pool, kind__in=["master", "schedd"]))
    response = bulk_post(console.client, console.pool, {"command": "Reconfig", "daemons": [d.pk for d in daemons]})
    outcomes = {r.daemon_kind: (r.outcome, r.error) for r in CommandRecord.objects.all()}
    page = console.client.get(response["Location"]).content.decode()
    assert f"{len(daemons)} of {len(daemons)} sent." in page, outcomes
    console.log.wait_for("Sent SIGHUP to SCHEDD")


def test_daemon_off_schedd_shows_it_down_and_daemon_on_brings_it_back(console) -> None:
    record = console.send("DaemonOff", subsystem="SCHEDD")
    assert record.target == "SCHEDD"
    console.log.wait_for("The SCHEDD (pid")
    wait_for(lambda: console.state("schedd") == Daemon.State.DOWN, what="the schedd down in the inventory")
    assert console.master.children["SCHEDD"] == "down"
    assert console.state("startd") == Daemon.State.UP

    console.send("DaemonOn", subsystem="SCHEDD")
    console.log.wait_for('Started DaemonCore process "/usr/sbin/condor_schedd"')
    wait_for(lambda: console.state("schedd") == Daemon.State.UP, what="the schedd up again in the inventory")
    assert console.master.children["SCHEDD"] == "up"


def test_daemons_off_stops_every_child_and_daemons_on_starts_them_again(console) -> None:
    console.send("DaemonsOff")
    text = console.log.wait_for("All daemons are gone.")
    assert "The COLLECTOR (pid" in text and "The SCHEDD (pid" in text
    # The collector went with them: the inventory keeps the last state and says why it is stale.
    wait_for(console.collector_unreachable, what="the collector gone")

    console.send("DaemonsOn")
    console.log.wait_for("all daemons were started")
    wait_for(console.all_up, what="every daemon back in the collector")


def test_restart_restarts_the_master_and_its_daemons(console) -> None:
    before = console.master.start_time
    console.send("Restart")
    text = console.log.wait_for("condor_master (CONDOR_MASTER) STARTING UP")
    assert "Handling admin command RESTART." in text
    wait_for(lambda: console.all_up() and console.master.start_time > before, what="a newer master in the collector")


def test_off_fast_stops_the_master_itself_and_the_pool_is_brought_back(console) -> None:
    try:
        console.send("OffFast")
        console.log.wait_for("EXITING WITH STATUS 0")
        wait_for(console.collector_unreachable, what="the collector gone with its master")
        # Nothing in the console can start a stopped master: a command to it now fails and is recorded so.
        master = console.master
        console.client.post(reverse("daemons:daemon_command", args=[master.pk]), {"command": "Reconfig"})
        assert CommandRecord.objects.latest("id").outcome in ("unreachable", "timeout", "unauthorized")
    finally:
        devpool.up(console.dev.name, console.dev.port)
    wait_for(console.all_up, what="the pool back after OffFast", timeout=90)
