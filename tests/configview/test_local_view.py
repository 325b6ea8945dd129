"""The console host's own configuration: typed knobs, seen as a subsystem, reload and capture."""

from __future__ import annotations

from django.urls import reverse

import condor.client
from condor.errors import ProtocolTimeout
from condor.types import LocalKnob
from configview.models import ConfigSnapshot
from tests.configview.helpers import client_for

URL = reverse("configview:local")


def test_it_lists_every_knob_with_its_type_and_value(viewer, htcondor) -> None:
    response = client_for(viewer).get(URL, {"view": "all"})
    assert response.status_code == 200
    rows = {row.name: (row.type, row.cell.text) for row in response.context["knobs"].rows}
    assert rows == {"UPDATE_INTERVAL": ("int", "300"), "ENABLE_RUNTIME_CONFIG": ("bool", "false")}


def test_it_opens_on_the_knobs_its_files_set_not_the_clients_defaults(viewer, htcondor) -> None:
    htcondor.defaults = {"UPDATE_INTERVAL": 60}  # the files set 300
    htcondor.local.append(LocalKnob("SITE_KNOB", "x", "str"))
    htcondor.set_only = {"SITE_KNOB"}  # a knob the client does not define at all
    response = client_for(viewer).get(URL)
    assert [row.name for row in response.context["knobs"].rows] == ["SITE_KNOB", "UPDATE_INTERVAL"]
    body = response.content.decode()
    assert "2 knobs set in its files (not this client's default), as <strong>TOOL</strong>, of 3" in body


def test_every_knob_comes_a_page_of_200_at_a_time(viewer, htcondor) -> None:
    htcondor.local += [LocalKnob(f"TEST_KNOB_{n:03d}", n, "int") for n in range(250)]
    first = client_for(viewer).get(URL, {"view": "all"})
    second = client_for(viewer).get(URL, {"view": "all", "page": "2"})
    assert len(first.context["knobs"].rows) == 200 and len(second.context["knobs"].rows) == 52
    assert "Page 1 of 2 (252 knobs)" in first.content.decode()


def test_it_reads_the_configuration_as_the_chosen_subsystem(viewer, htcondor, monkeypatch) -> None:
    asked: list[str] = []
    monkeypatch.setattr(condor.client, "local_config", lambda subsystem="TOOL": asked.append(subsystem) or [])
    response = client_for(viewer).get(URL, {"subsystem": "SCHEDD"})
    assert asked == ["SCHEDD"]
    assert "as <strong>SCHEDD</strong>" in response.content.decode()


def test_an_unknown_subsystem_falls_back_to_tool(viewer, htcondor, monkeypatch) -> None:
    asked: list[str] = []
    monkeypatch.setattr(condor.client, "local_config", lambda subsystem="TOOL": asked.append(subsystem) or [])
    client_for(viewer).get(URL, {"subsystem": "EVIL\nX"})
    assert asked == ["TOOL"]


def test_a_search_returns_only_the_table_to_htmx_with_the_capture_for_that_subsystem(operator, htcondor) -> None:
    response = client_for(operator).get(
        URL, {"q": "interval", "subsystem": "STARTD", "view": "all"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="knobs">')
    assert '<input type="hidden" name="subsystem" value="STARTD">' in body
    assert "UPDATE_INTERVAL" in body and "ENABLE_RUNTIME_CONFIG" not in body


def test_secret_local_values_are_hidden(viewer, htcondor) -> None:
    htcondor.local.append(LocalKnob("SEC_TOKEN_POOL_SIGNING_KEY", "s3cr3t", "str"))
    htcondor.set_only = {"SEC_TOKEN_POOL_SIGNING_KEY"}  # set in the files, so in the summary too
    body = client_for(viewer).get(URL).content.decode()
    assert "s3cr3t" not in body and "‹hidden›" in body


def test_an_error_reading_the_configuration_is_shown(viewer, monkeypatch) -> None:
    def broken(subsystem: str = "TOOL") -> list:
        raise ProtocolTimeout("No answer from HTCondor within 10 s.")

    monkeypatch.setattr(condor.client, "local_config", broken)
    response = client_for(viewer).get(URL)
    assert response.status_code == 200
    assert "No answer from HTCondor" in response.content.decode()


def test_an_operator_makes_the_console_reread_its_configuration(operator, htcondor) -> None:
    response = client_for(operator).post(reverse("configview:local_reload"))
    assert response.status_code == 302
    assert htcondor.sent == [("reload",)]


def test_a_viewer_may_not_reload(viewer, htcondor) -> None:
    assert client_for(viewer).post(reverse("configview:local_reload")).status_code == 403
    assert htcondor.sent == []


def test_an_operator_stores_the_local_configuration_as_a_snapshot(operator, htcondor) -> None:
    response = client_for(operator).post(reverse("configview:local_capture"), {"subsystem": "MASTER"})
    snapshot = ConfigSnapshot.objects.get()
    assert response["Location"] == reverse("configview:snapshot_detail", args=[snapshot.pk])
    assert (snapshot.source, snapshot.subsystem, snapshot.values["UPDATE_INTERVAL"]) == ("local", "MASTER", 300)


def test_a_viewer_may_not_store_snapshots(viewer, htcondor) -> None:
    assert client_for(viewer).post(reverse("configview:local_capture")).status_code == 403
    assert not ConfigSnapshot.objects.exists()


def test_seen_as_a_subsystem_a_value_from_a_prefixed_entry_says_so_and_what_it_overrides(viewer, htcondor) -> None:
    htcondor.local += [
        LocalKnob("SCHEDD.TEST_FOO", "bar", "str"),
        LocalKnob("TEST_FOO", "bar", "str", prefixed="SCHEDD.TEST_FOO", overrides="foo"),
        LocalKnob("TEST_NO_BARE", "x", "str", prefixed="SCHEDD.TEST_NO_BARE"),
    ]
    body = client_for(viewer).get(URL, {"subsystem": "SCHEDD", "view": "all"}).content.decode()
    assert "from SCHEDD.TEST_FOO, over TEST_FOO = foo" in body
    assert "from SCHEDD.TEST_NO_BARE; TEST_NO_BARE alone is not set" in body


def test_what_a_prefixed_secret_overrides_stays_hidden(viewer, htcondor) -> None:
    htcondor.local.append(
        LocalKnob("SITE_DB_PASSWORD", "new", "str", prefixed="SCHEDD.SITE_DB_PASSWORD", overrides="old-s3cr3t")
    )
    htcondor.set_only = {"SITE_DB_PASSWORD"}
    body = client_for(viewer).get(URL, {"subsystem": "SCHEDD"}).content.decode()
    assert "old-s3cr3t" not in body


def test_a_credential_in_the_value_a_prefixed_entry_overrides_stays_hidden(viewer, htcondor) -> None:
    # The prefixed value carries none, so it is shown; the bare entry's URL password must not be.
    htcondor.local.append(
        LocalKnob(
            "HA_LOCK_URL",
            "file:/var/lock/condor",
            "str",
            prefixed="SCHEDD.HA_LOCK_URL",
            overrides="https://lock:old-s3cr3t@ha.example.org/",
        )
    )
    htcondor.set_only = {"HA_LOCK_URL"}
    body = client_for(viewer).get(URL, {"subsystem": "SCHEDD"}).content.decode()
    assert "file:/var/lock/condor" in body
    assert "old-s3cr3t" not in body and "over HA_LOCK_URL (hidden)" in body
