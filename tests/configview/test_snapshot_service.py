"""configview.services: fetching and capturing configuration snapshots."""

from __future__ import annotations

import json

import pytest

from condor.errors import DaemonUnreachable, NotAuthorized, ToolsUnavailable
from configview import services
from configview.models import ConfigSnapshot
from configview.redaction import MARKER
from tests.configview.helpers import committed, make_daemon

pytestmark = pytest.mark.usefixtures("inline_jobs")


def fetch(**kwargs: object) -> ConfigSnapshot:
    """``config_snapshot_fetch`` committed, as a request's is; its job then runs inline."""
    with committed():
        return services.config_snapshot_fetch(**kwargs)


def test_a_fetch_stores_every_value_with_its_source_and_declared_type(operator, htcondor) -> None:
    daemon = make_daemon()
    snapshot = fetch(user=operator, daemon=daemon)
    snapshot.refresh_from_db()
    assert snapshot.status == ConfigSnapshot.Status.COMPLETE
    assert snapshot.values == {"SCHEDD_NAME": "sched", "UPDATE_INTERVAL": "5"}
    assert snapshot.types == {"UPDATE_INTERVAL": "int"}
    assert snapshot.sources["UPDATE_INTERVAL"] == "/etc/condor/condor_config.local, line 4"
    assert snapshot.sources_note == ""
    assert (snapshot.knob_count, snapshot.progress_done, snapshot.progress_total) == (2, 2, 2)
    assert snapshot.completed_at is not None


def test_a_fetch_keeps_who_asked_and_whose_configuration_it_is(operator, htcondor) -> None:
    daemon = make_daemon(pool_name="pool-b", name="master@b")
    snapshot = fetch(user=operator, daemon=daemon)
    daemon.pool.delete()
    snapshot.refresh_from_db()
    assert snapshot.daemon is None
    assert (snapshot.pool_name, snapshot.daemon_name, snapshot.daemon_kind) == ("pool-b", "master@b", "master")
    assert snapshot.requested_by_name == operator.username


def test_progress_is_written_as_chunks_arrive_at_most_every_interval(operator, htcondor, monkeypatch) -> None:
    seen: list[tuple[str, int, int]] = []
    original = services._advance

    def spy(snapshot_id: int, allowed: set[str], **fields) -> bool:
        written = original(snapshot_id, allowed, **fields)
        if "progress_done" in fields and fields.get("status") is None:
            row = ConfigSnapshot.objects.get(pk=snapshot_id)
            seen.append((row.status, row.progress_done, row.progress_total))
        return written

    monkeypatch.setattr(services, "_advance", spy)
    fetch(user=operator, daemon=make_daemon())
    # The fake reports 0, 1 and 2 of 2 within microseconds: the first and the last are written.
    assert seen == [("running", 0, 2), ("running", 2, 2)]


def test_an_undefined_knob_is_stored_as_none(operator, htcondor) -> None:
    htcondor.remote["CONDORWEB_UNSET"] = None
    snapshot = fetch(user=operator, daemon=make_daemon())
    snapshot.refresh_from_db()
    assert snapshot.values["CONDORWEB_UNSET"] is None


def test_a_failed_fetch_records_the_protocol_error_with_its_hint(operator, htcondor) -> None:
    htcondor.fetch_error = DaemonUnreachable("Cannot connect to the daemon.", hint="Check that it runs.")
    snapshot = fetch(user=operator, daemon=make_daemon())
    snapshot.refresh_from_db()
    assert snapshot.status == ConfigSnapshot.Status.FAILED
    assert snapshot.error == "Cannot connect to the daemon. Check that it runs."
    assert snapshot.values == {}


def test_without_htcondors_tools_the_snapshot_says_why_sources_are_missing(operator, htcondor) -> None:
    htcondor.sources = ToolsUnavailable(
        "HTCondor's command-line tools are not installed on the console host.", hint="Install condor_config_val."
    )
    snapshot = fetch(user=operator, daemon=make_daemon())
    snapshot.refresh_from_db()
    assert snapshot.status == ConfigSnapshot.Status.COMPLETE
    assert snapshot.sources == {}
    assert "not installed" in snapshot.sources_note


def test_a_refused_source_listing_does_not_fail_the_snapshot(operator, htcondor) -> None:
    htcondor.sources = NotAuthorized("condor_config_val failed: denied", hint="Add READ.")
    snapshot = fetch(user=operator, daemon=make_daemon())
    snapshot.refresh_from_db()
    assert snapshot.status == ConfigSnapshot.Status.COMPLETE
    assert "denied" in snapshot.sources_note


def test_secret_values_are_never_stored_in_clear(operator, htcondor) -> None:
    htcondor.remote["SITE_DB_PASSWORD"] = "hunter2-very-secret"
    htcondor.remote["MY_PRIVATE_KEY"] = "-----BEGIN KEY-----"
    snapshot = fetch(user=operator, daemon=make_daemon())
    stored = ConfigSnapshot.objects.filter(pk=snapshot.pk).values_list("values", "hashes", "types", "sources").get()
    dumped = json.dumps(stored)
    assert "hunter2" not in dumped and "BEGIN KEY" not in dumped
    values, hashes = stored[0], stored[1]
    assert values["SITE_DB_PASSWORD"] == MARKER
    assert set(hashes) == {"SITE_DB_PASSWORD", "MY_PRIVATE_KEY"}


def test_a_complete_snapshot_is_never_changed_by_a_late_update(operator, htcondor) -> None:
    snapshot = fetch(user=operator, daemon=make_daemon())
    services._progress_writer(snapshot.pk)(0, 99)
    services.config_snapshot_fill(snapshot_id=snapshot.pk)
    snapshot.refresh_from_db()
    assert (snapshot.status, snapshot.progress_total) == ("complete", 2)


def test_the_local_configuration_is_captured_typed_and_at_once(operator, htcondor) -> None:
    snapshot = services.config_snapshot_capture_local(user=operator, subsystem="SCHEDD")
    assert snapshot.source == ConfigSnapshot.Source.LOCAL
    assert snapshot.subsystem == "SCHEDD"
    assert snapshot.status == ConfigSnapshot.Status.COMPLETE
    assert snapshot.values == {"UPDATE_INTERVAL": 300, "ENABLE_RUNTIME_CONFIG": False}
    assert snapshot.types == {"UPDATE_INTERVAL": "int", "ENABLE_RUNTIME_CONFIG": "bool"}
    assert snapshot.sources_note


def test_reloading_the_local_configuration_asks_htcondor_to_reread_it(operator, htcondor) -> None:
    services.local_config_reload(user=operator)
    assert htcondor.sent == [("reload",)]


def test_a_runtime_knob_listed_in_lower_case_still_gets_its_declared_type(operator, htcondor) -> None:
    htcondor.remote["update_interval"] = htcondor.remote.pop("UPDATE_INTERVAL")
    snapshot = fetch(user=operator, daemon=make_daemon())
    snapshot.refresh_from_db()
    assert snapshot.types == {"update_interval": "int"}
