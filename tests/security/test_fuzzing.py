"""Arbitrary input to every page and form: never a server error, and nothing sent to HTCondor for input a form refuses.

Property-based (hypothesis). Example counts stay modest so the suite stays quick.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from django.contrib.auth.models import User
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from condor.errors import InvalidInput
from condor.validation import validate_knob, validate_value
from configview.forms import ShareForm
from daemons.inventory.forms import PoolForm
from tests.security.helpers import CutOff, World, make_world
from tests.security.test_csrf_and_safe_methods import CHANGING_CALLS
from tests.security.test_permission_matrix import MATRIX, Row

FUZZ = settings(
    max_examples=50,
    deadline=None,
    # The world and the client are made once per test; each example only sends a request.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Every query parameter some page reads, so the fuzzer hits the code behind each.
PARAMETERS = [
    "q",
    "kind",
    "state",
    "machine",
    "per_page",
    "page",
    "left",
    "right",
    "subsystem",
    "daemon",
    "since",
    "until",
    "show",
    "then",
    "knob",
    "next",
    "log",
    "command",
    "outcome",
    "user",
    "pool",
]
texts = st.text(max_size=80)
queries = st.dictionaries(st.sampled_from(PARAMETERS) | st.text(max_size=12), texts, max_size=6)
GETS = [row for row in MATRIX if row.method == "GET"]


@pytest.fixture
def world(admin: User) -> World:
    return make_world(admin)


@pytest.fixture
def as_admin(admin: User) -> Client:
    client = Client()
    client.force_login(admin)
    return client


def _no_change_sent(cut: CutOff) -> None:
    sent = [(f, a) for f, a in cut.calls if f in CHANGING_CALLS or (f == "config_val" and "-runset" in a[1])]
    assert sent == []


@pytest.mark.parametrize("row", GETS, ids=lambda row: row.id)
@FUZZ
@given(query=queries, htmx=st.booleans())
def test_no_query_string_makes_a_page_fail_or_change_a_daemon(
    row: Row, world: World, as_admin: Client, no_htcondor: CutOff, query: dict[str, str], htmx: bool
) -> None:
    headers = {"HX-Request": "true"} if htmx else {}
    response = as_admin.get(world.url(row.name), {**row.data(world), **query}, headers=headers)
    assert response.status_code < 500, (row.id, query, response.status_code)
    _no_change_sent(no_htcondor)


POOL_FIELDS = ["name", "collector", "token_file", "config_val", "log_path_from", "log_path_to", "description"]


@FUZZ
@given(data=st.fixed_dictionaries({}, optional={f: texts for f in POOL_FIELDS}))
@pytest.mark.parametrize("name", ["daemons:pool_add", "daemons:pool_edit"])
def test_the_pool_form_queries_no_collector_for_input_it_refuses(
    name: str, world: World, as_admin: Client, no_htcondor: CutOff, data: dict[str, str]
) -> None:
    no_htcondor.calls.clear()
    response = as_admin.post(world.url(name), data)
    assert response.status_code < 500
    if not PoolForm(data, instance=world.pool if name.endswith("edit") else None).is_valid():
        assert no_htcondor.calls == []


@FUZZ
@given(
    data=st.fixed_dictionaries({}, optional={f: texts for f in ["left", "right", "subsystem", "title", "expires_in"]})
)
def test_the_share_form_reads_nothing_for_input_it_refuses(
    world: World, as_admin: Client, no_htcondor: CutOff, data: dict[str, str]
) -> None:
    no_htcondor.calls.clear()
    response = as_admin.post(world.url("configview:share_create"), data)
    assert response.status_code < 500
    if not ShareForm(data).is_valid():
        assert no_htcondor.calls == []


def _protocol_accepts(knob: str, value: str | None) -> bool:
    try:
        validate_knob(knob)
        if value is not None:
            validate_value(value)
    except InvalidInput:
        return False
    return True


@FUZZ
@given(
    knob=st.one_of(texts, st.sampled_from(["UPDATE_INTERVAL", "EVIL\nALLOW_WRITE", "A B", ""])),
    value=st.one_of(texts, st.just("60")),
    action=st.one_of(st.sampled_from(["set", "unset"]), texts),
    reconfig=st.sampled_from(["", "on", "x"]),
)
def test_the_runtime_form_sends_nothing_the_protocol_would_refuse(
    world: World, as_admin: Client, no_htcondor: CutOff, knob: str, value: str, action: str, reconfig: str
) -> None:
    no_htcondor.calls.clear()
    response = as_admin.post(
        world.url("configview:runtime_edit"), {"knob": knob, "value": value, "action": action, "reconfig": reconfig}
    )
    assert response.status_code < 500
    sent = [(f, a) for f, a in no_htcondor.calls if f in ("set", "config_val", "send")]
    if not _protocol_accepts(knob, value if action == "set" else None) or action not in ("set", "unset"):
        assert sent == [], (knob, value, action)


@FUZZ
@given(
    data=st.dictionaries(st.sampled_from(["subsystem", "then", "next", "q"]) | st.text(max_size=12), texts, max_size=4)
)
@pytest.mark.parametrize(
    "name",
    [
        "configview:local_capture",
        "configview:snapshot_fetch",
        "daemons:pool_refresh",
        "configview:local_reload",
        "configview:share_revoke",
    ],
)
def test_the_one_button_actions_take_any_extra_input_without_failing(
    name: str, world: World, as_admin: Client, no_htcondor: CutOff, data: dict[str, str]
) -> None:
    response = as_admin.post(world.url(name), data)
    assert response.status_code < 500
    if response.status_code == 302:
        # A redirect taken from the input stays on this site.
        location = urlsplit(response["Location"])
        assert location.netloc in ("", "testserver") and location.scheme in ("", "http"), response["Location"]


@FUZZ
@given(username=texts, password=texts, extra=queries)
def test_the_login_form_takes_anything(username: str, password: str, extra: dict[str, Any], db: None) -> None:
    response = Client(REMOTE_ADDR="198.51.100.9").post("/login/", {**extra, "username": username, "password": password})
    # 429: the fuzzer's failures lock its address out, as they should.
    assert response.status_code in (200, 429)


@FUZZ
@given(token=st.text(min_size=1, max_size=120))
def test_any_share_token_is_a_404_never_an_error(world: World, as_admin: Client, token: str) -> None:
    response = as_admin.get(f"/config/s/{quote(token, safe='')}/")
    # 404 for a token that opens nothing; the URL conf's own 404 for one with a "/" in it.
    assert response.status_code == 404 or token == world.token
