"""Console host against a daemon of another HTCondor version: both versions shown, and the knobs only one
version defines left out by default and counted (a 25.x client knows knobs a 23.x daemon lacks)."""

from __future__ import annotations

from django.urls import reverse

from condor.types import LocalKnob
from tests.configview.helpers import client_for, make_daemon, make_snapshot
from tests.helpers import CLIENT_VERSION

URL = reverse("configview:diff")


def a_master_of_another_version(htcondor):
    htcondor.local += [LocalKnob("LIBRARIAN_UPDATE_INTERVAL", 300, "int")]
    daemon = make_daemon()
    daemon.version = "$CondorVersion: 23.9.6 2024-08-08 BuildID: Debian $"
    daemon.save()
    return make_snapshot(
        daemon,
        {"UPDATE_INTERVAL": "5", "ENABLE_RUNTIME_CONFIG": "False", "OLD_ONLY_KNOB": "1", "SITE_KNOB": "x"},
        sources={
            "UPDATE_INTERVAL": "/etc/condor/condor_config.local, line 4",
            "OLD_ONLY_KNOB": "<Default>",
            "SITE_KNOB": "/etc/condor/config.d/99-site, line 2",
        },
    )


def test_by_default_the_knobs_only_one_version_defines_are_left_out_and_counted(viewer, htcondor) -> None:
    snapshot = a_master_of_another_version(htcondor)
    response = client_for(viewer).get(URL, {"left": "local", "right": snapshot.pk})
    rows = {row.name: row.status for row in response.context["rows"]}
    # The site's own knob is a real difference; the versions' own knobs are not.
    assert rows == {"UPDATE_INTERVAL": "changed", "SITE_KNOB": "added"}
    body = response.content.decode()
    assert "2 knobs only one side's HTCondor version defines left out" in body
    assert f"{CLIENT_VERSION} · $CondorVersion: 23.9.6 2024-08-08 BuildID: Debian $" in body


def test_they_can_be_included(viewer, htcondor) -> None:
    snapshot = a_master_of_another_version(htcondor)
    response = client_for(viewer).get(URL, {"left": "local", "right": snapshot.pk, "versions": "all"})
    rows = {row.name: row.status for row in response.context["rows"]}
    assert rows["LIBRARIAN_UPDATE_INTERVAL"] == "removed" and rows["OLD_ONLY_KNOB"] == "added"


def test_two_daemons_have_no_version_filter(viewer) -> None:
    daemon = make_daemon()
    a = make_snapshot(daemon, {"X": "1"}, sources={"X": "<Default>"})
    b = make_snapshot(daemon, {"Y": "1"}, sources={"Y": "<Default>"})
    response = client_for(viewer).get(URL, {"left": a.pk, "right": b.pk})
    assert {row.name for row in response.context["rows"]} == {"X", "Y"}
    assert "Version differences" not in response.content.decode()
