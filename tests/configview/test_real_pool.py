"""Config views against the real HTCondor dev pool: fetch, diff, sources, runtime edits."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

import condor.client
from condor.types import Credentials
from configview.models import ConfigSnapshot
from daemons.models import CommandRecord, Daemon
from devtools import devpool
from tests.configview.helpers import client_for, committed, diff_rows, fetch_now
from tests.helpers import registered_master, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("inline_jobs")]

KNOB = "CONDORWEB_TEST_CONFIGVIEW"


@pytest.fixture
def master(healthy_pool: devpool.DevPool, credentials: Credentials) -> Daemon:
    return registered_master(healthy_pool)


def test_local_against_the_master_shows_update_interval_300_against_5_as_changed(operator, master) -> None:
    client = client_for(operator)
    snapshot = fetch_now(client, master)
    assert snapshot.knob_count > 1000
    row = diff_rows(client, "local", snapshot.pk)["UPDATE_INTERVAL"]
    assert (row.status, row.type, row.left.text, row.right.text) == ("changed", "int", "300", "5")


def test_local_against_the_23_master_leaves_out_what_only_one_version_defines(operator, master) -> None:
    client = client_for(operator)
    snapshot = fetch_now(client, master)
    default = client.get(reverse("configview:diff"), {"left": "local", "right": snapshot.pk})
    everything = diff_rows(client, "local", snapshot.pk, versions="all")
    version_only = {name.upper() for name in default.context["comparison"].version_only}
    assert "LIBRARIAN_UPDATE_INTERVAL" in version_only  # a 25.x client's knob the 23.9 master lacks
    assert "UPDATE_INTERVAL" not in version_only  # both define it; the dev pool sets it
    assert {row.name.upper() for row in default.context["rows"]} == set(everything) - version_only
    assert len(default.context["rows"]) < len(everything)


def test_a_snapshot_records_where_values_come_from(operator, master) -> None:
    snapshot = fetch_now(client_for(operator), master)
    assert "condorweb.config" in snapshot.sources["UPDATE_INTERVAL"]
    assert snapshot.sources["ABORT_ON_EXCEPTION"] == "<Default>"
    assert snapshot.sources_note == ""


def test_a_runtime_set_with_reconfig_shows_in_the_next_snapshots_diff_and_unset_removes_it(
    operator, master, credentials
) -> None:
    client = client_for(operator)
    target = master.target
    before = fetch_now(client, master)

    response = client.post(
        reverse("configview:runtime_edit", args=[master.pk]),
        {"knob": KNOB, "value": "from-the-diff-test", "action": "set", "reconfig": "on"},
    )
    assert "was accepted by the daemon" in response.content.decode()
    wait_for(
        lambda: condor.client.remote_config_value(target, KNOB, credentials) == "from-the-diff-test", what="the set"
    )
    after_set = fetch_now(client, master)
    row = diff_rows(client, before.pk, after_set.pk)[KNOB]
    assert (row.status, row.left.text, row.right.text) == ("added", None, "from-the-diff-test")
    assert "<runtime>" in row.right.source

    client.post(
        reverse("configview:runtime_edit", args=[master.pk]), {"knob": KNOB, "action": "unset", "reconfig": "on"}
    )
    wait_for(lambda: condor.client.remote_config_value(target, KNOB, credentials) is None, what="the unset")
    after_unset = fetch_now(client, master)
    assert diff_rows(client, after_set.pk, after_unset.pk)[KNOB].status == "removed"
    records = CommandRecord.objects.filter(knob=KNOB).order_by("created_at")
    assert [(r.command, r.outcome) for r in records] == [
        ("RuntimeSet+Reconfig", "sent"),
        ("RuntimeUnset+Reconfig", "sent"),
    ]


def test_update_interval_is_refused_unsent_naming_the_settable_list_while_test_foo_is_accepted(
    operator, master, credentials
) -> None:
    client = client_for(operator)
    edit = reverse("configview:runtime_edit", args=[master.pk])
    accepted = client.post(edit, {"knob": "TEST_FOO", "value": "from-the-refusal-test", "action": "set"})
    assert "was accepted by the daemon" in accepted.content.decode()

    refused = html.unescape(
        client.post(edit, {"knob": "UPDATE_INTERVAL", "value": "7", "action": "set"}).content.decode()
    )
    listed = ", ".join(devpool.SETTABLE_ATTRS_CONFIG)
    assert f"UPDATE_INTERVAL is not in this daemon's SETTABLE_ATTRS_CONFIG ({listed})" in refused
    record = CommandRecord.objects.get(knob="UPDATE_INTERVAL")
    assert (record.outcome, record.error.startswith("Not sent")) == (CommandRecord.Outcome.REFUSED, True)
    client.post(edit, {"knob": "TEST_FOO", "action": "unset"})


def test_a_fetch_from_an_unreachable_daemon_fails_with_the_reason(operator, master) -> None:
    Daemon.objects.filter(pk=master.pk).update(address="<127.0.0.1:9?sock=gone>")
    client = client_for(operator)
    with committed():
        client.post(reverse("configview:snapshot_fetch", args=[master.pk]))
    snapshot = ConfigSnapshot.objects.latest("created_at")
    assert snapshot.status == ConfigSnapshot.Status.FAILED
    assert "Cannot connect" in snapshot.error
    assert "Cannot connect" in client.get(reverse("configview:snapshot_detail", args=[snapshot.pk])).content.decode()
