"""The diff page: local vs daemon, daemon vs daemon, a daemon over time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.configview.helpers import client_for, make_daemon, make_snapshot

URL = reverse("configview:diff")


def rows_of(response) -> dict[str, str]:
    """Knob -> status, from the rendered page's context."""
    return {row.name: row.status for row in response.context["rows"]}


def test_local_against_a_master_shows_the_local_default_300_against_5_as_changed(viewer, htcondor) -> None:
    snapshot = make_snapshot(make_daemon(), {"UPDATE_INTERVAL": "5", "ENABLE_RUNTIME_CONFIG": "FALSE"})
    response = client_for(viewer).get(URL, {"left": "local", "right": snapshot.pk})
    assert response.status_code == 200
    assert rows_of(response) == {"UPDATE_INTERVAL": "changed"}
    assert response.context["comparison"].left.subsystem == "MASTER"
    body = response.content.decode()
    assert "UPDATE_INTERVAL" in body and ">300<" in body and ">5<" in body
    assert "≠</span> changed" in body


def test_declared_types_make_300_equal_300_and_false_equal_false(viewer, htcondor) -> None:
    snapshot = make_snapshot(make_daemon(), {"UPDATE_INTERVAL": "300", "ENABLE_RUNTIME_CONFIG": "False"})
    response = client_for(viewer).get(URL, {"left": "local", "right": snapshot.pk, "show": "all"})
    assert rows_of(response) == {"UPDATE_INTERVAL": "same", "ENABLE_RUNTIME_CONFIG": "same"}
    assert response.context["comparison"].diff.counts == {"added": 0, "removed": 0, "changed": 0, "same": 2}


def test_daemon_against_daemon_across_pools(viewer) -> None:
    a = make_snapshot(
        make_daemon(pool_name="east", name="schedd@a", kind="schedd"), {"MAX_JOBS_RUNNING": "100", "X": "1"}
    )
    b = make_snapshot(
        make_daemon(pool_name="west", name="schedd@b", kind="schedd"), {"MAX_JOBS_RUNNING": "200", "Y": "2"}
    )
    response = client_for(viewer).get(URL, {"left": a.pk, "right": b.pk})
    assert rows_of(response) == {"MAX_JOBS_RUNNING": "changed", "X": "removed", "Y": "added"}
    assert response.context["comparison"].diff.counts == {"added": 1, "removed": 1, "changed": 1, "same": 0}
    body = response.content.decode()
    assert "schedd schedd@a in east" in body and "schedd schedd@b in west" in body


def test_what_changed_since_a_date_compares_the_snapshot_of_then_with_the_latest(viewer) -> None:
    daemon = make_daemon()
    now = timezone.now()
    make_snapshot(daemon, {"A": "monday"}, created_at=now - timedelta(days=3))
    tuesday = make_snapshot(daemon, {"A": "tuesday"}, created_at=now - timedelta(days=2))
    latest = make_snapshot(daemon, {"A": "today"}, created_at=now)
    since = (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client_for(viewer).get(URL, {"daemon": daemon.pk, "since": since})
    comparison = response.context["comparison"]
    assert (comparison.left.snapshot.pk, comparison.right.snapshot.pk) == (tuesday.pk, latest.pk)
    assert rows_of(response) == {"A": "changed"}


def test_a_date_before_any_snapshot_is_explained(viewer) -> None:
    daemon = make_daemon()
    make_snapshot(daemon, {"A": "1"})
    response = client_for(viewer).get(URL, {"daemon": daemon.pk, "since": "2001-01-01T00:00"})
    assert response.status_code == 400
    assert "no complete snapshot" in response.content.decode()


def test_only_differences_is_the_default_and_every_knob_can_be_shown(viewer) -> None:
    daemon = make_daemon()
    a = make_snapshot(daemon, {"A": "1", "B": "2"})
    b = make_snapshot(daemon, {"A": "1", "B": "3"})
    client = client_for(viewer)
    assert rows_of(client.get(URL, {"left": a.pk, "right": b.pk})) == {"B": "changed"}
    assert rows_of(client.get(URL, {"left": a.pk, "right": b.pk, "show": "all"})) == {"A": "same", "B": "changed"}


def test_a_name_search_narrows_the_rows(viewer) -> None:
    daemon = make_daemon()
    a = make_snapshot(daemon, {"SCHEDD_LOG": "1", "STARTD_LOG": "1"})
    b = make_snapshot(daemon, {"SCHEDD_LOG": "2", "STARTD_LOG": "2"})
    response = client_for(viewer).get(URL, {"left": a.pk, "right": b.pk, "q": "startd"})
    assert rows_of(response) == {"STARTD_LOG": "changed"}


def test_the_table_alone_is_returned_to_htmx(viewer) -> None:
    daemon = make_daemon()
    a, b = make_snapshot(daemon, {"A": "1"}), make_snapshot(daemon, {"A": "2"})
    response = client_for(viewer).get(URL, {"left": a.pk, "right": b.pk, "q": "A"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="diff-table">')
    assert "<html" not in body


def test_an_undefined_value_is_shown_as_undefined(viewer) -> None:
    daemon = make_daemon()
    a, b = make_snapshot(daemon, {"A": "1"}), make_snapshot(daemon, {"A": None})
    body = client_for(viewer).get(URL, {"left": a.pk, "right": b.pk}).content.decode()
    assert '<em class="muted">undefined</em>' in body
    assert "None" not in body


def test_a_value_with_markup_is_shown_as_text(viewer) -> None:
    daemon = make_daemon()
    a = make_snapshot(daemon, {"EVIL": "<script>alert(1)</script>"})
    b = make_snapshot(daemon, {"EVIL": "x"})
    body = client_for(viewer).get(URL, {"left": a.pk, "right": b.pk}).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_hidden_values_are_not_shown_but_their_difference_is(viewer) -> None:
    daemon = make_daemon()
    # Values with a hyphen: the page's CSRF token (letters and digits) can never contain them.
    a = make_snapshot(daemon, {"DB_PASSWORD": "hunter-2", "API_TOKEN": "token-1"})
    b = make_snapshot(daemon, {"DB_PASSWORD": "hunter-2", "API_TOKEN": "token-2"})
    response = client_for(viewer).get(URL, {"left": a.pk, "right": b.pk, "show": "all"})
    assert rows_of(response) == {"API_TOKEN": "changed", "DB_PASSWORD": "same"}
    body = response.content.decode()
    assert "hunter-2" not in body and "token-1" not in body and "token-2" not in body
    assert "‹hidden›" in body


def test_two_paths_under_token_knobs_show_how_they_differ(viewer) -> None:
    # Issue 19: "≠ changed" between two hidden values, where nothing secret was in them.
    daemon = make_daemon()
    a = make_snapshot(daemon, {"SEC_TOKEN_SYSTEM_DIRECTORY": "/etc/condor/tokens.d", "SEC_ENABLE_TOKEN_FETCH": "true"})
    b = make_snapshot(
        daemon,
        {"SEC_TOKEN_SYSTEM_DIRECTORY": "/srv/condor/tokens.d", "SEC_ENABLE_TOKEN_FETCH": "false"},
        types={"SEC_ENABLE_TOKEN_FETCH": "bool"},
    )
    response = client_for(viewer).get(URL, {"left": a.pk, "right": b.pk})
    assert rows_of(response) == {"SEC_TOKEN_SYSTEM_DIRECTORY": "changed", "SEC_ENABLE_TOKEN_FETCH": "changed"}
    body = response.content.decode()
    assert ">/etc/condor/tokens.d<" in body and ">/srv/condor/tokens.d<" in body and ">false<" in body
    assert "‹hidden›" not in body


def test_an_incomplete_snapshot_cannot_be_compared(viewer) -> None:
    daemon = make_daemon()
    done = make_snapshot(daemon, {"A": "1"})
    running = make_snapshot(daemon, {}, status="running")
    response = client_for(viewer).get(URL, {"left": done.pk, "right": running.pk})
    assert response.status_code == 400
    assert "not complete" in response.content.decode()


@pytest.mark.parametrize("query", [{"left": "1"}, {"left": "drop table", "right": "2"}, {}])
def test_a_request_that_does_not_name_two_configurations_is_a_clear_400(viewer, query) -> None:
    response = client_for(viewer).get(URL, query)
    assert response.status_code == 400
    assert 'class="errorbox"' in response.content.decode()


def test_an_unknown_snapshot_is_404(viewer) -> None:
    assert client_for(viewer).get(URL, {"left": "local", "right": 999}).status_code == 404


def test_the_local_side_failing_is_explained_not_a_500(viewer, monkeypatch) -> None:
    import condor.client
    from condor.errors import ProtocolError

    def broken(subsystem: str = "TOOL") -> list:
        raise ProtocolError("The console's HTCondor client process died during the call.")

    monkeypatch.setattr(condor.client, "local_config", broken)
    snapshot = make_snapshot(make_daemon(), {"A": "1"})
    response = client_for(viewer).get(URL, {"left": "local", "right": snapshot.pk})
    assert response.status_code == 400
    assert "client process died" in response.content.decode()


def test_a_user_in_no_group_may_not_compare(nobody) -> None:
    snapshot = make_snapshot(make_daemon(), {"A": "1"})
    assert client_for(nobody).get(URL, {"left": snapshot.pk, "right": snapshot.pk}).status_code == 403


def test_a_logged_out_visitor_is_sent_to_log_in(client) -> None:
    response = client.get(URL, {"left": "local", "right": "1"})
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_page_offers_sharing_to_those_who_may_share(viewer, nobody) -> None:
    daemon = make_daemon()
    a, b = make_snapshot(daemon, {"A": "1"}), make_snapshot(daemon, {"A": "2"})
    body = client_for(viewer).get(URL, {"left": a.pk, "right": b.pk}).content.decode()
    assert reverse("configview:share_create") in body


def test_an_htmx_filter_request_that_fails_loads_the_page_that_explains_why(viewer) -> None:
    response = client_for(viewer).get(URL, {"left": "local", "right": 999_999}, HTTP_HX_REQUEST="true")
    assert response.status_code == 404
    daemon = make_daemon()
    running = make_snapshot(daemon, {}, status="running")
    response = client_for(viewer).get(URL, {"left": running.pk, "right": running.pk}, HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == f"{URL}?left={running.pk}&right={running.pk}"


def test_a_knob_this_client_does_not_declare_reads_unknown_in_the_type_column(viewer) -> None:
    daemon = make_daemon()
    a = make_snapshot(
        daemon, {"UPDATE_INTERVAL": "5", "LOCAL_CREDMON_TOKEN_AUDIENCE": "a"}, types={"UPDATE_INTERVAL": "int"}
    )
    b = make_snapshot(
        daemon, {"UPDATE_INTERVAL": "6", "LOCAL_CREDMON_TOKEN_AUDIENCE": "b"}, types={"UPDATE_INTERVAL": "int"}
    )
    body = client_for(viewer).get(URL, {"left": a.pk, "right": b.pk}).content.decode()
    assert '<td class="mono nowrap">UPDATE_INTERVAL</td><td>int</td>' in body
    assert '<td class="mono nowrap">LOCAL_CREDMON_TOKEN_AUDIENCE</td><td><span class="muted"' in body
    assert "unknown to this client" in body
